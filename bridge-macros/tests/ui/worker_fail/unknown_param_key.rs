// An unknown key of `#[param(...)]`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(optional)] n: u32) -> Result<u32, ToolError> {
        Ok(n)
    }
}

fn main() {}
