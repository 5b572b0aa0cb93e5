// `crate = "..."` given twice.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools(crate = "snakepit_bridge::worker", crate = "snakepit_bridge_worker")]
impl Tools {
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
