// Two arguments with one wire name.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, n: u32, #[param(rename = "n")] m: u32) -> Result<u32, ToolError> {
        Ok(n + m)
    }
}

fn main() {}
