//! Every shape of tool `#[worker_tools]` accepts.
use std::collections::HashMap;

use serde_json::{Map, Value};
use snakepit_bridge::worker::{
    chunk_channel, BinaryResult, ChunkReceiver, StreamChunk, ToolContext, ToolError, ToolSet,
};
use snakepit_bridge::worker_tools;
use tokio_stream::Stream;

type Answer<T> = Result<T, ToolError>;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn unit(&self) -> Result<(), ToolError> {
        Ok(())
    }
    pub async fn with_context(&self, ctx: &ToolContext, n: Option<u64>) -> Answer<String> {
        Ok(format!("{}:{n:?}", ctx.session_id()))
    }
    pub fn defaults(
        &self,
        #[param(default = "x")] text: String,
        #[param(default = 2.5)] ratio: f64,
        #[param(default = vec![1, 2])] list: Vec<u8>,
    ) -> Answer<Value> {
        Ok(serde_json::json!([text, ratio, list]))
    }
    pub fn binary(&self, #[param(binary)] data: Vec<u8>) -> Answer<BinaryResult> {
        Ok(BinaryResult::new(data))
    }
    pub fn rest(&self, #[param(rest)] all: HashMap<String, Value>) -> Answer<usize> {
        Ok(all.len())
    }
    pub fn rest_map(&self, #[param(rest)] all: Map<String, Value>) -> Answer<usize> {
        Ok(all.len())
    }
    pub fn stream(&self, n: u32) -> impl Stream<Item = Result<u32, ToolError>> {
        tokio_stream::iter((0..n).map(Ok))
    }
    pub async fn fallible_stream(
        &self,
    ) -> Result<impl Stream<Item = Result<StreamChunk, ToolError>>, ToolError> {
        Ok(tokio_stream::iter(vec![Ok(StreamChunk::bytes(
            b"x".to_vec(),
        )
        .with_final(true))]))
    }
    #[tool(streaming)]
    pub fn channel(&self) -> ChunkReceiver {
        let (_sender, chunks) = chunk_channel(1);
        chunks
    }
    #[tool(name = "renamed.tool-1")]
    pub fn r#loop(&self, #[param(rename = "in", kind = "integer")] value: Value) -> Answer<Value> {
        Ok(value)
    }
    fn helper(&self) -> u32 {
        1
    }
}

#[test]
fn showcase_shapes() {
    let tools = Tools::tool_definitions();
    let streaming: Vec<&str> = tools
        .iter()
        .filter(|t| t.streaming)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(streaming, ["stream", "fallible_stream", "channel"]);
    assert_eq!(tools.last().unwrap().name, "renamed.tool-1");
    assert_eq!(tools.last().unwrap().parameters[0].type_name, "integer");
    let _ = Tools.helper();
}
