//! The defaults of snakepit's configuration and the options of one call, as
//! `Snakepit.execute/3` takes them (`lib/snakepit/grpc_worker.ex`, `lib/snakepit/defaults.ex`
//! in snakepit v0.13.0).

use std::collections::HashMap;
use std::time::Duration;

/// snakepit's default deadline of a call (`grpc_client_execute_timeout`).
pub const DEFAULT_EXECUTE_TIMEOUT: Duration = Duration::from_millis(298_800);
/// snakepit's default deadline of a streaming call (`stream_timeout` of the balanced profile).
pub const DEFAULT_STREAM_TIMEOUT: Duration = Duration::from_millis(900_000);
/// snakepit's default wait for the ready file (`grpc_server_ready_timeout`).
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// snakepit's default grace between SIGTERM and SIGKILL (`graceful_shutdown_timeout_ms`).
pub const DEFAULT_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(6);

/// Options of one call, as `Snakepit.execute(command, args, opts)` takes them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// `:timeout` (default 298.8 s for calls, 900 s for streams), sent as `grpc-timeout`.
    pub timeout: Option<Duration>,
    /// `:correlation_id` (default: the args' `correlation_id`, else a new `sp-...`).
    pub correlation_id: Option<String>,
    /// `:binary_parameters`.
    pub binary_parameters: HashMap<String, Vec<u8>>,
    /// `thread_sensitive: true` adds `metadata["thread_sensitive"] = "true"`.
    pub thread_sensitive: bool,
}

impl CallOptions {
    /// `:timeout`, sent as `grpc-timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// `:correlation_id`.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// One entry of `:binary_parameters`.
    pub fn binary_parameter(mut self, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.binary_parameters.insert(name.into(), bytes.into());
        self
    }

    /// `thread_sensitive: true`.
    pub fn thread_sensitive(mut self, enabled: bool) -> Self {
        self.thread_sensitive = enabled;
        self
    }
}

/// What the chunk callback tells the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkControl {
    /// Keep reading.
    Continue,
    /// `:halt`: stop, successfully.
    Halt,
    /// `{:halt, reason}`: stop with an error.
    HaltWith(String),
}
