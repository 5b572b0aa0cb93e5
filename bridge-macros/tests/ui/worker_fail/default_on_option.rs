// A default on an `Option`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(default = 3)] n: Option<u32>) -> Result<u32, ToolError> {
        Ok(n.unwrap_or(0))
    }
}

fn main() {}
