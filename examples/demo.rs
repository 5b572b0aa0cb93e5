//! The demo: an in-process snakepit host with the demo tools, and the worker of snakepit's
//! Python worker guide (in Rust) calling them over real gRPC on loopback.
//!
//! ```text
//! cargo run --example demo
//! ```

#[path = "support/demo_tools.rs"]
mod demo_tools;
#[path = "support/worker_logic.rs"]
mod worker_logic;

use std::process::ExitCode;

use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};

const SESSION: &str = "demo-session";

fn main() -> ExitCode {
    // The host runs on its own runtime; the worker uses the blocking API from this thread.
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let host = match runtime.block_on(
        EmbeddedHost::builder()
            .tools(demo_tools())
            .session(SESSION)
            .start(),
    ) {
        Ok(host) => host,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    println!("Embedded snakepit host listening on {}", host.address());

    let outcome = worker_logic::run(&host.grpc_address(), SESSION, &mut std::io::stdout());
    runtime.block_on(host.shutdown());
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("An error occurred: {error}");
            ExitCode::FAILURE
        }
    }
}
