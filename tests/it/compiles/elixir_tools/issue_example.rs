//! The trait of the issue: owned and borrowed arguments, an optional one, a renamed tool.
use serde::Deserialize;
use snakepit_bridge::{elixir_tools, Error, SessionContext};

#[derive(Deserialize)]
pub struct Fibonacci {
    pub sum: u64,
}

#[derive(Deserialize)]
pub struct ListResult {
    pub result: f64,
}

/// Tools the Elixir host exposes to this worker.
#[elixir_tools]
pub trait DemoTools {
    /// Calculate the first `n` Fibonacci numbers.
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;

    async fn parse_json(&self, json_string: &str) -> Result<serde_json::Value, Error>;

    #[tool(name = "process_list")]
    async fn sum(&self, list: &[i64], operation: Option<&str>) -> Result<ListResult, Error>;
}

#[allow(dead_code)]
async fn worker(ctx: &SessionContext) -> Result<f64, Error> {
    let fib = ctx.calculate_fibonacci(12).await?;
    let _ = ctx.parse_json("{}").await?;
    let total = ctx.sum(&[1, 2, 3], Some("sum")).await?.result;
    Ok(total + fib.sum as f64)
}
