// `crate = "..."` that is not a path.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools(crate = "snakepit bridge")]
impl Tools {
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
