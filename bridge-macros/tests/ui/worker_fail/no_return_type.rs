// A tool without a return type.
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn a(&self, _n: u32) {}
}

fn main() {}
