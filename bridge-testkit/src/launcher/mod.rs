//! Launch and drive any snakepit worker exactly as snakepit v0.13 does, without Elixir: for a
//! worker's tests, for benchmarks, and for `snakepit-tools worker`.
//!
//! [`Launcher`] spawns the worker with snakepit's command line and environment, polls its ready
//! file, pings it, initializes its session, opens telemetry, heartbeats it, encodes calls as
//! the host encodes them and decodes answers as the host decodes them, and stops it with SIGTERM
//! to its process group and SIGKILL after the grace period. Nothing in it is specific to Rust.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge_launcher::{CallOptions, Launcher};
//! use snakepit_bridge_runtime::host::{demo_tools, EmbeddedHost};
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).start().await?;
//! let worker = Launcher::new("target/debug/examples/showcase_worker").launch(&host).await?;
//! let reply = worker.execute("ping", json!({"message": "hi"}), CallOptions::default()).await?;
//! println!("{}", reply.to_json());
//! worker.shutdown().await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod decode;
mod launcher;
mod process;
mod ready;
mod spawn;

pub use decode::{
    chunk_payload, status_atom, Decoded, Reply, ToolFailure, TranslatedError, MAPPED_TYPES,
};
pub use launcher::{
    CallError, CallOptions, ChunkControl, HeartbeatStats, LaunchError, LaunchedWorker, Launcher,
    WorkerOutput, DEFAULT_EXECUTE_TIMEOUT, DEFAULT_GRACEFUL_TIMEOUT, DEFAULT_READY_TIMEOUT,
    DEFAULT_STREAM_TIMEOUT,
};
pub use process::{group_alive, process_group_of, Ending, OUTPUT_TAIL_BYTES};
pub use ready::{parse_ready_contents, read_ready_file, ReadyState};
pub use spawn::{
    correlation_id, encode_grpc_timeout, pool_worker_id, ready_file_path, run_id, sanitize,
    worker_argv, worker_env, worker_session_id, HeartbeatConfig,
};
