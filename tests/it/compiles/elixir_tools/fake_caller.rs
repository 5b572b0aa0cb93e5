//! A worker's logic tested against a fake caller, without a host.
use snakepit_bridge::{elixir_tools, Error, Parameters, ToolCaller, ToolResponse};

#[elixir_tools]
pub trait MathTools {
    async fn add(&self, a: i64, b: i64) -> Result<i64, Error>;
}

struct Fake;

impl ToolCaller for Fake {
    async fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        let a: i64 = parameters.decode("a").map_err(|e| e.for_tool(tool))?;
        let b: i64 = parameters.decode("b").map_err(|e| e.for_tool(tool))?;
        ToolResponse::from_json(tool, &(a + b))
    }
}

async fn double_sum(tools: &impl MathTools, a: i64, b: i64) -> Result<i64, Error> {
    let sum = tools.add(a, b).await?;
    tools.add(sum, sum).await
}

#[test]
fn fake_caller() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(double_sum(&Fake, 2, 3)).unwrap(), 10);
}
