// An unknown key of `#[tool(...)]`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    #[tool(stream)]
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
