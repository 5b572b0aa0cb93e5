// On anything but an `impl` block.
use snakepit_bridge::worker_tools;

#[worker_tools]
struct Tools;

fn main() {}
