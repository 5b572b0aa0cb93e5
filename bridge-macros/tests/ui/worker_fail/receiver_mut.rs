// `&mut self`: calls run concurrently.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn count(&mut self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
