// A block with no tool.
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    fn helper(&self) -> u32 {
        1
    }
}

fn main() {}
