use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools(manifest = "x.json")]
impl Tools {
    #[tool(stream)]
    pub fn a(&self, #[param(optional)] n: u32) -> Result<u32, ToolError> {
        Ok(n)
    }
}

#[worker_tools]
trait NotAnImpl {}

#[worker_tools]
impl Empty {
    fn private(&self) {}
}

struct Empty;

fn main() {}
