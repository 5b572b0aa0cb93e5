//! Two tools, served to a snakepit pool with the facade.

use snakepit_bridge::worker::{ToolError, Worker};
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    /// Adds two numbers.
    pub async fn add(&self, a: f64, b: f64) -> Result<f64, ToolError> {
        Ok(a + b)
    }

    /// Returns the message.
    pub async fn echo(&self, message: String) -> Result<String, ToolError> {
        Ok(message)
    }
}

fn main() -> std::process::ExitCode {
    Worker::new(Tools).run()
}
