// `self` by value.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn consume(self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
