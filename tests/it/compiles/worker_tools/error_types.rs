//! Tools may fail with `anyhow::Error`, a boxed error or any `std::error::Error`: the call
//! fails with `RuntimeError` and the whole chain of causes. Errors that convert into
//! `ToolError` keep their type.
use anyhow::Context;
use serde_json::json;
use snakepit_bridge::worker::{run_tool, ToolCall, ToolError};
use snakepit_bridge::worker_tools;

#[derive(Debug)]
struct ModelError;

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the model is missing")
    }
}

impl std::error::Error for ModelError {}

struct Tools;

#[worker_tools]
impl Tools {
    pub fn with_anyhow(&self, path: String) -> anyhow::Result<u32> {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        Ok(text.len() as u32)
    }
    pub async fn boxed(&self) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        Err("no luck".into())
    }
    pub fn custom(&self) -> Result<u32, ModelError> {
        Err(ModelError)
    }
    pub fn io(&self) -> Result<u32, std::io::Error> {
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"))
    }
    pub fn tool_error(&self) -> Result<u32, ToolError> {
        Err(ToolError::value_error("bad"))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn error_types() {
    let tools = std::sync::Arc::new(Tools);
    let fail = |tool: &str, params| {
        let call = ToolCall::for_test(tool, params, []);
        let tools = tools.clone();
        async move { run_tool(&tools, call).await.unwrap_err() }
    };
    let error = fail("with_anyhow", json!({"path": "/nonexistent/model.bin"})).await;
    assert_eq!(error.type_name(), "RuntimeError");
    assert!(
        error
            .message()
            .starts_with("reading /nonexistent/model.bin: No such file or directory"),
        "{}",
        error.message()
    );
    let error = fail("boxed", json!({})).await;
    assert_eq!(
        (error.type_name(), error.message()),
        ("RuntimeError", "no luck")
    );
    let error = fail("custom", json!({})).await;
    assert_eq!(
        (error.type_name(), error.message()),
        ("RuntimeError", "the model is missing")
    );
    assert_eq!(fail("io", json!({})).await.type_name(), "FileNotFoundError");
    assert_eq!(
        fail("tool_error", json!({})).await.type_name(),
        "ValueError"
    );
}
