// `default`, `binary` and `rest` together.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(binary, default = vec![1])] data: Vec<u8>) -> Result<usize, ToolError> {
        Ok(data.len())
    }
}

fn main() {}
