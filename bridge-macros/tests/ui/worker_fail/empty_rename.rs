// An empty parameter name.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(rename = "")] n: u32) -> Result<u32, ToolError> {
        Ok(n)
    }
}

fn main() {}
