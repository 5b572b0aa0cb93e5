use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: Option<u32>) -> Result<u64, Error>;
}

fn main() {}
