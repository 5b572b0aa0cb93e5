// `#[worker_tools(...)]` takes only `crate`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools(manifest = "tools.json")]
impl Tools {
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
