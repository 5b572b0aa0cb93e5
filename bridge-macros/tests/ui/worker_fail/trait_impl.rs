// On a trait implementation.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

trait Served {
    fn a(&self) -> Result<u32, ToolError>;
}

#[worker_tools]
impl Served for Tools {
    fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
