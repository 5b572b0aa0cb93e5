use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "bridge-macros/tests/ui/manifests/does_not_exist.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<u64, Error>;
}

fn main() {}
