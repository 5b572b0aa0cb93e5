// `#[tool(name)]` on a method that is not `pub`.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    #[tool(name = "renamed")]
    fn hidden(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
