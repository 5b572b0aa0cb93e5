use snakepit_bridge::elixir_tools;

#[derive(Debug)]
pub struct MyError;

#[elixir_tools]
pub trait Tools {
    async fn add(&self, a: i64) -> Result<i64, MyError>;
}

fn main() {}
