//! Launch and drive any snakepit worker exactly as snakepit v0.13 does, without Elixir: for a
//! worker's tests, for benchmarks, and for `snakepit-tools worker`.
//!
//! [`Launcher`] spawns the worker with snakepit's command line and environment, polls its ready
//! file, pings it, initializes its session, opens telemetry (keeping the events it receives,
//! [`LaunchedWorker::telemetry_events`]), heartbeats it, encodes calls as
//! the host encodes them and decodes answers as the host decodes them, and stops it with SIGTERM
//! to its process group and SIGKILL after the grace period. Nothing in it is specific to Rust,
//! and nothing ties it to the [`EmbeddedHost`](crate::host::EmbeddedHost): it hands the worker
//! any host's address ([`HostAddress`]), a real snakepit host's included.
//!
//! ```no_run
//! # mod snakepit_bridge { pub use snakepit_bridge_runtime::*; pub mod testkit { pub use snakepit_bridge_testkit::{host, launcher}; } }
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
//! use snakepit_bridge::testkit::launcher::{CallOptions, Launcher};
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).start().await?;
//! let worker = Launcher::new("target/debug/examples/showcase_worker").launch(&host).await?;
//! let reply = worker.execute("ping", json!({"message": "hi"}), CallOptions::default()).await?;
//! println!("{}", reply.to_json());
//! worker.shutdown().await?;
//!
//! // Or against a host that runs elsewhere (a snakepit host included), by its address:
//! let worker = Launcher::new("target/debug/examples/showcase_worker")
//!     .launch("localhost:50051")
//!     .await?;
//! # Ok(()) }
//! ```

mod call;
mod connect;
mod decode;
mod error;
mod health;
mod heartbeat;
mod launch;
mod options;
mod process;
mod ready;
mod shutdown;
mod spawn;
mod telemetry;
mod worker;

pub use decode::{Decoded, Reply, ToolFailure, TranslatedError};
pub use error::{CallError, LaunchError};
pub use heartbeat::HeartbeatStats;
pub use launch::{HostAddress, Launcher};
pub use options::{
    CallOptions, ChunkControl, DEFAULT_EXECUTE_TIMEOUT, DEFAULT_GRACEFUL_TIMEOUT,
    DEFAULT_READY_TIMEOUT, DEFAULT_STREAM_TIMEOUT,
};
pub use process::Ending;
/// The pool's heartbeat settings, handed to the worker in `SNAKEPIT_HEARTBEAT_CONFIG`.
pub use snakepit_bridge_spec::HeartbeatConfig;
pub use telemetry::TELEMETRY_EVENTS_KEPT;
pub use worker::{LaunchedWorker, WorkerOutput};

/// The worker's process group, for tests that check what a stop leaves behind.
pub mod process_group {
    pub use super::process::{group_alive, process_group_of};
}
