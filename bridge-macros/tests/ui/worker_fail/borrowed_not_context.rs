// A borrowed argument whose type is not the context: the compiler says so, at the type.
use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

#[derive(serde::Deserialize)]
struct Settings {
    depth: u32,
}

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, settings: &Settings) -> Result<u32, ToolError> {
        Ok(settings.depth)
    }
}

fn main() {}
