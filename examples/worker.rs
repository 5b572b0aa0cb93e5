//! A worker that calls back into the Elixir host: the complete example of snakepit's Python
//! worker guide, in Rust.
//!
//! ```text
//! cargo run --example worker -- <grpc_address> <session_id>
//! ```
//!
//! Try it against `cargo run --example demo_host -- 127.0.0.1:50051`.

#[path = "support/demo_tools.rs"]
mod demo_tools;
#[path = "support/worker_logic.rs"]
mod worker_logic;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, grpc_address, session_id] = args.as_slice() else {
        let program = args.first().map(String::as_str).unwrap_or("worker");
        eprintln!("Usage: {program} <grpc_address> <session_id>");
        return ExitCode::FAILURE;
    };
    match worker_logic::run(grpc_address, session_id, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("An error occurred: {error}");
            ExitCode::FAILURE
        }
    }
}
