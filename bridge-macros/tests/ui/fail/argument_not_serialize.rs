// Arguments that do not serialize: the error points at the argument's type.
use snakepit_bridge::{elixir_tools, Error};

pub struct Opaque;

#[elixir_tools]
pub trait Tools {
    async fn send(&self, value: Opaque) -> Result<(), Error>;
    async fn maybe(&self, n: u32, value: Option<Opaque>) -> Result<u32, Error>;
}

fn main() {}
