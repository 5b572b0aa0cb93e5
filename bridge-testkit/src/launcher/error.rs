//! Why a launch or a call failed, in words that say which step and what to do.

use std::time::Duration;

use super::decode::{status_atom, ToolFailure};

/// Why a worker could not be launched or stopped. Each message is one line that says which
/// step failed and ends with the last lines the worker printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The host address given to [`Launcher::launch`](super::Launcher::launch) is not
    /// `host:port`.
    #[error("cannot launch a worker against host address `{address}`: {reason}")]
    InvalidHostAddress {
        /// The address given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The executable could not be started.
    #[error("could not start the worker `{program}`: {source}; check the path and that it is executable")]
    Spawn {
        /// The executable.
        program: String,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The worker exited before writing its ready file.
    #[error("the worker exited before it was ready ({status}); it printed: {output}")]
    ExitedBeforeReady {
        /// How it exited.
        status: String,
        /// Its last lines.
        output: String,
    },
    /// The ready file did not appear in time; the worker was killed.
    #[error("the worker never got ready: no port in its ready file within {timeout:?}, so it was killed; it printed: {output}")]
    NeverReady {
        /// The time allowed.
        timeout: Duration,
        /// Its last lines.
        output: String,
    },
    /// The ready file could not be read.
    #[error("could not read the ready file {path}: {source}")]
    ReadyFile {
        /// The file.
        path: String,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The worker wrote its port but did not answer `Ping("connection_test")`.
    #[error("the worker wrote port {port} to its ready file but did not answer a gRPC ping there ({reason}); it printed: {output}")]
    NoAnswer {
        /// The port from the ready file.
        port: u16,
        /// The last failure.
        reason: String,
        /// Its last lines.
        output: String,
    },
    /// The worker ignored SIGTERM for the whole grace period and was killed.
    #[error("the worker ignored SIGTERM for {grace:?} and was killed with SIGKILL; it printed: {output}")]
    IgnoredSigterm {
        /// The grace period.
        grace: Duration,
        /// Its last lines.
        output: String,
    },
    /// A telemetry control could not be sent: the stream is closed (the worker refused it,
    /// ended it, or stopped) or did not take it in time.
    #[error("could not send a telemetry control to the worker: {reason}")]
    Telemetry {
        /// Why.
        reason: String,
    },
    /// Waiting for or signalling the process failed.
    #[error("could not manage the worker process: {0}")]
    Process(#[source] std::io::Error),
}

/// Why a call failed, as the host reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The tool failed: `success = false`, its `error_message` translated.
    #[error("tool `{tool}` failed: {failure}")]
    Tool {
        /// The tool.
        tool: String,
        /// The translated error (or the raw text).
        failure: ToolFailure,
    },
    /// The call failed with a gRPC status (for a stream: the raw `GRPC.RPCError`).
    #[error("tool `{tool}` failed with gRPC status {code:?}{}: {message}", atom.map(|a| format!(" (:{a})")).unwrap_or_default())]
    Status {
        /// The tool.
        tool: String,
        /// The status code.
        code: tonic::Code,
        /// The atom the host maps the code to on unary calls, if any.
        atom: Option<&'static str>,
        /// The status message.
        message: String,
    },
    /// No answer within the deadline (plus the host's one second of slack).
    #[error("tool `{tool}` did not answer within {limit:?}")]
    Timeout {
        /// The tool.
        tool: String,
        /// The deadline.
        limit: Duration,
    },
    /// The parameters are not a JSON object.
    #[error("the parameters of tool `{tool}` must be a JSON object (one entry per parameter), not {found}")]
    InvalidParameters {
        /// The tool.
        tool: String,
        /// What was given.
        found: String,
    },
    /// The answer is a zero-copy reference the host cannot decode.
    #[error("tool `{tool}` answered an object with \"__snakepit_zero_copy__\": true, which the host decodes as a zero-copy reference and fails on")]
    ZeroCopyRef {
        /// The tool.
        tool: String,
    },
    /// A stream chunk holds an integer wider than 64 bits: the host decodes it exactly (an
    /// Elixir integer), but the chunk callback's JSON values cannot hold it.
    #[error("tool `{tool}` sent a stream chunk holding {wide}; the host keeps it exact, but the launcher's chunk maps are serde_json values: send it as a string, or test this stream against a real host")]
    WideInteger {
        /// The tool.
        tool: String,
        /// The integer and its path in the chunk.
        wide: snakepit_bridge_spec::WideInteger,
    },
    /// The chunk callback halted the stream with a reason.
    #[error("the stream of tool `{tool}` was halted: {reason}")]
    Halted {
        /// The tool.
        tool: String,
        /// The callback's reason.
        reason: String,
    },
}

pub(super) fn status_error(tool: &str, status: tonic::Status) -> CallError {
    CallError::Status {
        tool: tool.to_owned(),
        code: status.code(),
        atom: status_atom(status.code()),
        message: status.message().to_owned(),
    }
}

/// Streams get the raw `GRPC.RPCError`, not the unary mapping.
pub(super) fn raw_status_error(tool: &str, status: tonic::Status) -> CallError {
    CallError::Status {
        tool: tool.to_owned(),
        code: status.code(),
        atom: None,
        message: status.message().to_owned(),
    }
}
