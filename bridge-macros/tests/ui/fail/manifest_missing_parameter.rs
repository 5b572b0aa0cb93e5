use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn process_list(&self, operation: &str) -> Result<u64, Error>;
}

fn main() {}
