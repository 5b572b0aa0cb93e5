use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait Tools {
    async fn calculate_fibonaci(&self, n: u32) -> Result<u64, Error>;
    #[tool(name = "launch_rockets")]
    async fn launch(&self) -> Result<(), Error>;
}

fn main() {}
