use snakepit_bridge::elixir_tools;

#[elixir_tools]
pub struct Tools;

fn main() {
    let _ = Tools;
}
