// A generic helper among the tools: suggests #[tool(skip)].
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn helper<T: ToString>(&self, value: T) -> Result<String, ToolError> {
        Ok(value.to_string())
    }
    pub fn a(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
