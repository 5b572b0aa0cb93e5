use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32, memo: bool) -> Result<u64, Error>;
    async fn process_list(&self, list: &[i64], #[param(rename = "operaton")] op: &str) -> Result<u64, Error>;
}

fn main() {}
