// Unary tools whose result does not serialize: the error names the result type, with
// `ToolError` and with any other error.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Opaque;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self) -> Result<Opaque, ToolError> {
        Ok(Opaque)
    }
    pub async fn b(&self) -> Result<Vec<Opaque>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(vec![Opaque])
    }
}

fn main() {}
