use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;
struct NotSerialize;

#[worker_tools]
impl Tools {
    pub fn plain(&self) -> u32 {
        1
    }
    pub fn unserializable(&self) -> Result<NotSerialize, ToolError> {
        Ok(NotSerialize)
    }
}

fn main() {}
