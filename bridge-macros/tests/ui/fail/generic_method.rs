use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn generic<T: serde::Serialize>(&self, value: T) -> Result<u32, Error>;
    async fn impl_arg(&self, value: impl serde::Serialize) -> Result<u32, Error>;
}

#[elixir_tools]
pub trait Generic<T> {
    async fn f(&self) -> Result<u32, Error>;
}

fn main() {}
