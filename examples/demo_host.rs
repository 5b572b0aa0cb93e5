//! A stand-in snakepit host serving the three demo tools of snakepit's bidirectional example
//! until Ctrl-C.
//!
//! ```text
//! cargo run --example demo_host -- 127.0.0.1:50051 [--session demo-session]
//! ```
//!
//! The tools are exposed in the named session and in every session created through
//! `InitializeSession`. Prints `listening on <addr>` once ready.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};

const USAGE: &str = "Usage: demo_host <listen_address> [--session <session_id>]";

fn parse_args(args: &[String]) -> Result<(SocketAddr, String), String> {
    let mut address = None;
    let mut session = String::from("demo-session");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--session" => {
                session = rest.next().ok_or("--session needs a session id")?.clone();
            }
            other if address.is_none() => {
                address = Some(
                    other
                        .parse::<SocketAddr>()
                        .map_err(|e| format!("invalid listen address `{other}`: {e}"))?,
                );
            }
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok((address.ok_or("a listen address is required")?, session))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (address, session) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(problem) => {
            eprintln!("{problem}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let host = match EmbeddedHost::builder()
        .bind(address)
        .tools(demo_tools())
        .session(&session)
        .start()
        .await
    {
        Ok(host) => host,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // Whoever reads stdout may stop reading after the first line: a closed pipe must not stop
    // the host, so write errors are ignored rather than panicking as `println!` would.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", host.address());
    let _ = writeln!(
        stdout,
        "session: {session} (tools are also exposed in sessions created by InitializeSession)"
    );
    let _ = stdout.flush();
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {error}");
    }
    host.shutdown().await;
    ExitCode::SUCCESS
}
