// A generic block.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools<T>(T);

#[worker_tools]
impl<T: Send + Sync + 'static> Tools<T> {
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
