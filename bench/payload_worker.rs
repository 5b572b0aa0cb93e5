//! Typed tools with large answers and arguments, for the payload benchmarks.

use snakepit_bridge::worker::{BinaryResult, ToolError, Worker};
use snakepit_bridge::worker_tools;

struct Payloads;

#[worker_tools]
impl Payloads {
    /// A JSON string result of `size` bytes.
    pub fn payload(&self, size: usize) -> Result<String, ToolError> {
        Ok("x".repeat(size))
    }

    /// The binary parameter's length and first byte.
    pub fn consume(&self, #[param(binary)] data: Vec<u8>) -> Result<(usize, u8), ToolError> {
        Ok((data.len(), data.first().copied().unwrap_or(0)))
    }

    /// A binary result of `size` bytes.
    pub fn blob(&self, size: usize) -> Result<BinaryResult, ToolError> {
        Ok(BinaryResult::new(vec![7u8; size]))
    }
}

fn main() -> std::process::ExitCode {
    Worker::new(Payloads).run()
}
