use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    async fn process_list(&self, list: Vec<i64>) -> Result<u32, Error>;
    #[tool(name = "process_list")]
    async fn sum(&self, list: Vec<i64>) -> Result<u32, Error>;
    async fn twice(&self, a: u32, #[param(rename = "a")] b: u32) -> Result<u32, Error>;
}

fn main() {}
