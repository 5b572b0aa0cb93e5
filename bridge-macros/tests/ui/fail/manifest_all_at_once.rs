// Every kind of mismatch in one trait: all reported in one build, each at its own tokens.
use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn parse_jsn(&self, json_string: &str) -> Result<u64, Error>;
    async fn calculate_fibonacci(&self, n: Option<f64>, extra: u8) -> Result<u64, Error>;
    async fn process_list(&self, operation: &str) -> Result<u64, Error>;
}

fn main() {}
