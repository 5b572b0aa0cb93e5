use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    fn plain(&self) -> Result<u32, Error>;
    async fn with_body(&self) -> Result<u32, Error> {
        Ok(1)
    }
    const LIMIT: u32;
}

fn main() {}
