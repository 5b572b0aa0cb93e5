// `#[param(...)]` on the context.
use snakepit_bridge::worker::{ToolContext, ToolError};
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, #[param(rename = "context")] ctx: &ToolContext) -> Result<String, ToolError> {
        Ok(ctx.session_id().to_owned())
    }
}

fn main() {}
