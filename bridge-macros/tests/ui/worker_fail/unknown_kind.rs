// `#[param(kind = "...")]` with a kind the host does not know.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(kind = "tensor")] n: f64) -> Result<f64, ToolError> {
        Ok(n)
    }
}

fn main() {}
