use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn no_self(n: u32) -> Result<u32, Error>;
    async fn by_value(self, n: u32) -> Result<u32, Error>;
    async fn mutable(&mut self) -> Result<u32, Error>;
}

fn main() {}
