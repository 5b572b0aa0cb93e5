use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "tests/ui/manifests/invalid.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<u64, Error>;
}

fn main() {}
