use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(strict = true)]
pub trait Tools {
    #[tool(nmae = "x")]
    async fn a(&self) -> Result<u32, Error>;
    async fn b(&self, #[param(renmae = "y")] x: u32) -> Result<u32, Error>;
    async fn c(&self, #[param(kind = "tensor")] x: u32) -> Result<u32, Error>;
}

fn main() {}
