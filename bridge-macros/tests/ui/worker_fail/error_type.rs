// An error type that neither converts into `ToolError` nor is a `std::error::Error`.
use snakepit_bridge::worker_tools;

struct NotAnError;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self) -> Result<u32, NotAnError> {
        Ok(1)
    }
}

fn main() {}
