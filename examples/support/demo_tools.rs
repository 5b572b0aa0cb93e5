//! The demo tools of snakepit's bidirectional example, declared as a typed trait.
// Each example reads only some of the result fields.
#![allow(dead_code)]

use serde::Deserialize;
use serde_json::Value;
use snakepit_bridge::schemars::JsonSchema;
use snakepit_bridge::{elixir_tools, Error};

/// The result of `calculate_fibonacci`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct Fibonacci {
    /// How many numbers were asked for.
    pub n: u32,
    /// The first `n` Fibonacci numbers, from 0.
    pub sequence: Vec<u64>,
    /// Their sum.
    pub sum: u64,
}

/// The result of `parse_json`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct ParsedJson {
    /// Whether the text parsed.
    pub success: bool,
    /// The parsed object.
    pub data: Option<Value>,
    /// Its keys.
    #[serde(default)]
    pub keys: Vec<String>,
    /// How many keys it has.
    pub size: Option<usize>,
    /// Why parsing failed.
    pub error: Option<String>,
}

/// The result of `process_list`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct ListResult {
    /// The list as received.
    pub list: Vec<Value>,
    /// The operation applied.
    pub operation: String,
    /// Its result: a number, or a list for `reverse`.
    pub result: Value,
}

/// Tools the Elixir host exposes to this worker.
///
/// Checked at build time against `examples/elixir_tools.json`, the demo host's tool list
/// (refresh it with `snakepit-tools snapshot --address 127.0.0.1:50051 --session demo-session
/// -o examples/elixir_tools.json` while `cargo run --example demo_host -- 127.0.0.1:50051` runs).
#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait DemoTools {
    /// Calculate the first `n` Fibonacci numbers.
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;

    /// Parse a JSON text and describe the object in it.
    async fn parse_json(&self, json_string: &str) -> Result<ParsedJson, Error>;

    /// Apply `operation` (sum, max, min, mean, reverse; sum when `None`) to a list of numbers.
    #[tool(name = "process_list")]
    async fn process_list(
        &self,
        list: &[i64],
        operation: Option<&str>,
    ) -> Result<ListResult, Error>;
}
