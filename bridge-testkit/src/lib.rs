//! The snakepit emulator of snakepit-bridge, for tests, examples, benchmarks and the
//! `snakepit-tools` CLI: both halves of a snakepit host, without Elixir.
//!
//! - [`host`]: an [`EmbeddedHost`](host::EmbeddedHost), a real gRPC server with a snakepit
//!   v0.13 host's behaviour (sessions, exposed Elixir tools, error texts), that a client or a
//!   worker cannot tell from a real host.
//! - [`launcher`]: a [`Launcher`](launcher::Launcher) that starts a worker exactly as a snakepit
//!   pool does and drives it (ready file, session, heartbeats, calls, shutdown), against the
//!   embedded host or any host's address.
//!
//! A worker does not link this crate: it is a dev-dependency of a worker's tests (or the
//! `testkit` feature of the facade `snakepit-bridge`, in `[dev-dependencies]`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge_runtime::SessionContext;
//! use snakepit_bridge_testkit::host::{demo_tools, EmbeddedHost};
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).session("s1").start().await?;
//! let ctx = SessionContext::connect(host.grpc_address(), "s1").await?;
//! let result = ctx
//!     .call_elixir_tool("process_list", json!({"list": [1, 2, 3], "operation": "max"}))
//!     .await?;
//! assert_eq!(result["result"], json!(3));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod host;
pub mod launcher;
