// Two methods serving one tool name.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn add(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
    #[tool(name = "add")]
    pub fn plus(&self) -> Result<u32, ToolError> {
        Ok(2)
    }
}

fn main() {}
