use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait Tools {
    #[tool(name = "bad name")]
    async fn spaced(&self) -> Result<u32, Error>;
    #[tool(name = "_private")]
    async fn underscore(&self) -> Result<u32, Error>;
    #[tool(name = "a_tool_name_that_is_far_too_long_for_snakepit_to_accept_at_all_really")]
    async fn long(&self) -> Result<u32, Error>;
}

fn main() {}
