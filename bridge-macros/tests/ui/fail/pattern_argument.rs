use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn point(&self, (x, y): (f64, f64)) -> Result<f64, Error>;
    async fn mutable(&self, mut n: u32) -> Result<u32, Error>;
}

fn main() {}
