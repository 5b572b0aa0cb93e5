// A key given twice: a value, a default and a flag.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    #[tool(name = "a", name = "b")]
    pub fn a(&self, #[param(default = 1, default = 2)] n: u32) -> Result<u32, ToolError> {
        Ok(n)
    }
    #[tool(skip, skip)]
    pub fn helper(&self) -> u32 {
        1
    }
}

fn main() {}
