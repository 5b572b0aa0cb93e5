// A pattern instead of an argument name.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, (x, y): (u32, u32)) -> Result<u32, ToolError> {
        Ok(x + y)
    }
}

fn main() {}
