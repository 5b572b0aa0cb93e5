// Two arguments taking the rest of the parameters.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

use serde_json::{Map, Value};

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(
        &self,
        #[param(rest)] one: Map<String, Value>,
        #[param(rest)] two: Map<String, Value>,
    ) -> Result<usize, ToolError> {
        Ok(one.len() + two.len())
    }
}

fn main() {}
