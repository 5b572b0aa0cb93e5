use snakepit_bridge::{elixir_tools, Error};

#[derive(serde::Serialize)]
pub struct Count(u32);

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn parse_json(&self, json_string: &serde_json::Map<String, serde_json::Value>) -> Result<u64, Error>;
    async fn process_list(&self, list: &str, operation: Option<bool>) -> Result<u64, Error>;
    async fn calculate_fibonacci(&self, n: Count) -> Result<u64, Error>;
}

fn main() {}
