//! The worker side of snakepit-bridge: a Rust program that a snakepit pool launches and
//! drives, serving tools written as plain Rust methods.
//!
//! snakepit launches a worker with `--port 0 --elixir-address <host>` and a ready file in its
//! environment, waits for the file, pings the worker, initializes its session, heartbeats it,
//! and sends it `ExecuteTool` calls. [`Worker`] does all of that as snakepit's own Python
//! worker does (`priv/python/grpc_server.py` of snakepit v0.13.0): it binds loopback, writes the ready file atomically once
//! it serves, forwards `InitializeSession` to the host and registers its tools there, answers
//! heartbeats at once whatever runs, runs each call on a task of its own (a panic is one failed
//! call), honours `grpc-timeout`, heartbeats the host and exits when the host is gone (or
//! stdin closes), and finishes in-flight calls on SIGTERM before exiting 0.
//!
//! Most users depend on the facade crate `snakepit-bridge` and write the tools with its
//! `#[worker_tools]` attribute, which implements [`ToolSet`]:
//!
//! ```no_run
//! use snakepit_bridge::worker::{ToolContext, ToolError, Worker};
//! use snakepit_bridge::worker_tools;
//!
//! struct Tools;
//!
//! #[worker_tools]
//! impl Tools {
//!     /// Adds two numbers.
//!     pub fn basic_add(&self, a: f64, b: f64) -> Result<f64, ToolError> {
//!         Ok(a + b)
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     Worker::new(Tools).run()
//! }
//! ```
#![warn(missing_docs)]

mod call;
mod config;
mod context;
mod error;
mod heartbeat;
mod host_link;
mod lane;
mod logging;
mod output;
mod ready_file;
mod service;
mod stream;
mod telemetry;
mod testing;
mod toolset;
mod worker;

#[doc(hidden)]
pub mod __private;

pub use call::ToolCall;
pub use config::{HeartbeatConfig, LogLevel, RunMode, WorkerConfig};
pub use context::{BlockingElixir, ToolContext};
pub use error::ToolError;
pub use heartbeat::StopReason;
pub use output::{Answer, Invocation, Outcome, UnaryAnswer};
pub use output::{BinaryResult, IntoUnaryAnswer};
pub use service::run_tool;
pub use stream::{
    chunk_channel, ChunkReceiver, ChunkSender, ChunkStream, IntoChunk, StreamChunk, StreamClosed,
};
pub use telemetry::{Measurement, Telemetry, TelemetryError, EVENT_CATALOG, MEASUREMENT_KEYS};
/// What a streaming tool needs: the [`Stream`] trait its `impl Stream<Item = Result<T, E>>`
/// names, [`StreamExt`] to map and chain streams, and the whole of [`tokio_stream`] (`iter`,
/// `once`, the `wrappers` around tokio's channels and intervals), so a worker crate need not
/// depend on it itself.
pub use tokio_stream::{self, Stream, StreamExt};
pub use toolset::{describe, ParameterDefinition, ToolDefinition, ToolSet, DESCRIBE_FLAG};
pub use worker::{
    BoxError, NotServed, StartContext, Worker, WorkerError, WorkerHandle,
    DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_SHUTDOWN_GRACE, DEFAULT_STARTUP_TIMEOUT,
    MAX_MESSAGE_SIZE,
};
