use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn ping(&self) -> Result<String, Error>;
}

fn main() {}
