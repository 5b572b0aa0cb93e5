// `impl Trait` as an argument type.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, value: impl ToString) -> Result<String, ToolError> {
        Ok(value.to_string())
    }
}

fn main() {}
