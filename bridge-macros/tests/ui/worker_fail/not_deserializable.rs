// An argument type that cannot be decoded from JSON.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Opaque;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, _value: Opaque) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {}
