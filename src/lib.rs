//! snakepit-bridge: Rust workers for the [snakepit](https://hex.pm/packages/snakepit) Elixir
//! host, over the host's own gRPC protocol.
//!
//! Declare the Elixir tools a worker calls as a trait, and call them typed; the build checks the
//! trait against a snapshot of the host's tool list ([`elixir_tools`]):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde::Deserialize;
//! use snakepit_bridge::{elixir_tools, Error, SessionContext};
//!
//! #[derive(Deserialize)]
//! pub struct Fibonacci {
//!     pub sequence: Vec<u64>,
//!     pub sum: u64,
//! }
//!
//! /// Tools the Elixir host exposes to this worker.
//! #[elixir_tools]
//! pub trait DemoTools {
//!     /// Calculate the first `n` Fibonacci numbers.
//!     async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;
//! }
//!
//! // An in-process host with snakepit's demo tools (the `testkit` feature); a real worker gets
//! // the address and session id from snakepit.
//! let host = snakepit_bridge::testkit::host::EmbeddedHost::builder()
//!     .tools(snakepit_bridge::testkit::host::demo_tools())
//!     .session("s1")
//!     .start()
//!     .await?;
//!
//! let ctx = SessionContext::connect(host.grpc_address(), "s1").await?;
//! let fib = ctx.calculate_fibonacci(10).await?;     // typed in, typed out
//! assert_eq!(fib.sequence.len(), 10);
//! assert_eq!(fib.sum, 88);
//! # Ok(()) }
//! ```
//!
//! - [`worker_tools`] serves the methods of an `impl` block as a worker's tools, and
//!   [`worker::Worker`] runs the worker a snakepit pool launches: the [`worker`] module is the
//!   guide (see also `examples/showcase_worker.rs` and `elixir/README.md`). Inside a tool,
//!   `ctx: &ToolContext` calls back into Elixir with the same typed traits.
//! - [`elixir_tools`] turns a trait into typed tool calls; with `manifest = "..."` the build
//!   checks it against the host's tool list, written by the `snakepit-tools` CLI.
//! - [`SessionContext`] is async (tokio); [`blocking::SessionContext`] has the same calls for
//!   plain programs. The dynamic API is there too: `ctx.call_elixir_tool("name", json!({..}))`.
//! - `testkit` (a feature) emulates snakepit for tests, examples and local development:
//!   `testkit::host::EmbeddedHost` is a real gRPC server with a snakepit host's behaviour, and
//!   `testkit::launcher::Launcher` starts and drives a worker as a snakepit pool does.
//! - [`proto`] holds the wire types, for raw calls.
//! - [`guide`] holds the guides: a worker in a pool and in production, testing without
//!   Elixir, the session context and the wire's rules, the build-time check.
//!
//! # Features
//!
//! - `schemars` (on by default): the JSON Schemas of the tools' parameters and results,
//!   derived with schemars (`snakepit_bridge::schemars`, `JsonSchema`), in the registration
//!   with the host, the manifest (`--snakepit-describe`) and the declared Elixir tools. A
//!   worker that describes no schemas builds without it (`default-features = false`): every
//!   schema is then left out (a worker's tools) or `true` (a declared Elixir tool's, which
//!   accepts anything).
//!
//! The others are off: a worker, which talks to its host over loopback, builds neither.
//!
//! - `tls`: TLS to the host (rustls with ring, and the Mozilla roots of webpki-roots), for an
//!   `https://` address or [`TlsOptions`]. Turn it on in a client that talks to a TLS host.
//!   Without it, such an address or options fail with [`Error::TlsNotEnabled`], which says to
//!   turn it on; nothing falls back to plaintext.
//! - `testkit`: `snakepit_bridge::testkit`, the snakepit emulator (crate
//!   `snakepit-bridge-testkit`). Turn it on for a worker's tests only:
//!
//! ```toml
//! [dependencies]
//! snakepit-bridge = { path = "../snakepit-bridge" }   # not on crates.io yet: a path or git dependency
//!
//! [dev-dependencies]
//! snakepit-bridge = { path = "../snakepit-bridge", features = ["testkit"] }
//! ```
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use snakepit_bridge_runtime::{
    blocking, json_any, proto, BlockingToolCaller, DeclaredParameter, DeclaredTool, DeclaredTools,
    ElixirTools, Error, HostParameter, HostRpc, HostTool, Mismatch, MismatchKind, ParameterError,
    Parameters, SessionContext, SessionContextBuilder, SessionInfo, TlsOptions, ToolCaller,
    ToolResponse, ValueKind, CORRELATION_HEADER, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_MESSAGE_SIZE, JSON_TYPE_URL,
};

/// The snakepit emulator, for tests: the embedded host ([`testkit::host`]) and the launcher
/// ([`testkit::launcher`]). Needs the `testkit` feature; a worker's own build leaves it out.
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit {
    pub use snakepit_bridge_testkit::{host, launcher};
}

/// schemars, for deriving `JsonSchema` on argument and result types, which puts their JSON
/// Schemas in the declared tools and the generated docs.
///
/// Import the module with the trait: schemars' derive names `schemars::...` where it is used,
/// and a crate that depends on this one only has no `schemars` of its own, so `JsonSchema`
/// imported alone fails with E0433, no `schemars` in scope. Either of these works:
///
/// ```
/// use snakepit_bridge::schemars::{self, JsonSchema};
///
/// #[derive(serde::Deserialize, JsonSchema)]
/// struct Point {
///     x: f64,
///     y: f64,
/// }
///
/// #[derive(serde::Deserialize, snakepit_bridge::schemars::JsonSchema)]
/// #[schemars(crate = "snakepit_bridge::schemars")]
/// struct Scale {
///     factor: f64,
/// }
/// ```
///
/// The `schemars` feature (on by default) brings it; without it there is no
/// `snakepit_bridge::schemars`, and no tool has a schema.
#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
pub use snakepit_bridge_runtime::__private::schemars;

#[doc = include_str!("elixir_tools.md")]
pub use snakepit_bridge_macros::elixir_tools;

#[doc = include_str!("worker_tools.md")]
pub use snakepit_bridge_macros::worker_tools;

pub mod worker {
    // An inner attribute: the guide's links resolve in this module (an outer one resolves them
    // at the crate root).
    #![doc = include_str!("worker.md")]
    pub use snakepit_bridge_worker::*;
}

pub mod guide;

// The README's Rust examples compile as doc tests, so that none of them rots.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[doc(hidden)]
pub mod __private {
    pub use snakepit_bridge_runtime::__private::*;
}

/// The protocol's rules that a user of the bridge names: the manifest of a tool list and how
/// two lists differ, tool names, the checks of a call against a tool, exact JSON (integers
/// beyond 64 bits, non-finite floats), the error JSON a tool's failure travels in, the
/// `grpc-timeout` header and the heartbeat settings. Every side of the wire (the client, the
/// worker, the testkit's host, the macros and the CLI) applies these same functions.
///
/// The plumbing between the crates (wire keys, launch details, the lane's frames) stays in the
/// rules crate, `snakepit-bridge-spec`, outside this API.
pub mod spec {
    pub use snakepit_bridge_spec::{
        accepted_kinds, check_call, closest_name, compare_tools, decode_exact, did_you_mean,
        elixir_error_module, encode_grpc_timeout, host_type_names, is_compatible,
        message_without_position, parse_grpc_timeout, read_error_json, snapshot_command,
        to_finite_json, tool_drift, validate_tool_name, write_error_json, CallProblem,
        DeclaredParameter, DeclaredTool, ErrorJson, ExactJsonError, FiniteJsonError,
        HeartbeatConfig, HostParameter, HostTool, JsonPath, Manifest, ManifestError, Mismatch,
        MismatchKind, NonFinite, PathSegment, ToolDrift, ToolNameError, TranslatedError, ValueKind,
        WideInteger, BYTES_TYPE, MANIFEST_FORMAT_VERSION, MAX_TOOL_NAME_BYTES,
        TRANSLATED_ERROR_TYPES,
    };
}
