use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn nothing(&self);
    async fn plain(&self) -> u32;
    async fn fine(&self) -> Result<u32, Error>;
}

fn main() {}
