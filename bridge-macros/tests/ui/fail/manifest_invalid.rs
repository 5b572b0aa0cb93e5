use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "bridge-macros/tests/ui/manifests/invalid.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<u64, Error>;
}

fn main() {}
