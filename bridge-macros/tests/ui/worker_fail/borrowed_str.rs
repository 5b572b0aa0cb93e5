// A borrowed parameter: `&str`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, name: &str) -> Result<usize, ToolError> {
        Ok(name.len())
    }
}

fn main() {}
