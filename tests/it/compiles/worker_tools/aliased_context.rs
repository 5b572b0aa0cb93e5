//! The call's context under other names (a type alias, a renaming import, a path), by
//! reference or by value: passed to the tool, never registered or decoded as a parameter.
use serde_json::json;
use snakepit_bridge::worker::Answer;
use snakepit_bridge::worker::ToolContext as C;
use snakepit_bridge::worker::{run_tool, ToolCall, ToolError, ToolSet};
use snakepit_bridge::worker_tools;

type Ctx = snakepit_bridge::worker::ToolContext;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn aliased(&self, ctx: &Ctx, n: u32) -> Result<String, ToolError> {
        Ok(format!("{} {n}", ctx.session_id()))
    }
    pub async fn renamed(&self, n: u32, context: &C) -> Result<String, ToolError> {
        Ok(format!("{} {n}", context.session_id()))
    }
    pub async fn by_value(&self, ctx: Ctx, n: Option<u32>) -> Result<String, ToolError> {
        Ok(format!("{} {n:?}", ctx.session_id()))
    }
    pub fn by_path(
        &self,
        ctx: &snakepit_bridge::worker::ToolContext,
        #[param(default = 2)] n: u32,
    ) -> Result<String, ToolError> {
        Ok(format!("{} {n}", ctx.session_id()))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn aliased_context() {
    // No context among the parameters registered with the host.
    for tool in Tools::tool_definitions() {
        let names: Vec<&str> = tool.parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["n"], "{}", tool.name);
    }
    // Each call gets the context, and a parameter named like the context is refused.
    let tools = std::sync::Arc::new(Tools);
    for (tool, expected) in [
        ("aliased", json!("test-session 1")),
        ("renamed", json!("test-session 1")),
        ("by_value", json!("test-session Some(1)")),
        ("by_path", json!("test-session 1")),
    ] {
        let call = ToolCall::for_test(tool, json!({"n": 1}), []);
        let Ok(Answer::Unary(output)) = run_tool(&tools, call).await else {
            panic!("{tool} failed")
        };
        let answer: serde_json::Value = serde_json::from_slice(&output.json).unwrap();
        assert_eq!(answer, expected, "{tool}");

        let call = ToolCall::for_test(tool, json!({"n": 1, "ctx": {}}), []);
        let error = run_tool(&tools, call).await.unwrap_err();
        assert_eq!(error.type_name(), "TypeError", "{tool}");
    }
}
