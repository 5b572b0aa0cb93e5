//! The host-independent rules of snakepit-bridge.
//!
//! This crate holds what both the runtime and the `#[elixir_tools]` macro need, with no
//! networking and no compiler machinery, so that each rule has exactly one implementation:
//!
//! - [`HostTool`] and [`HostParameter`]: a tool as the snakepit host lists it
//!   (`GetExposedElixirTools`), in a serde-friendly form.
//! - [`validate_tool_name`]: snakepit's rule for tool names.
//! - [`closest_name`]: the "did you mean ...?" suggestion used in error messages.
//! - [`DeclaredTool`]: a tool as a worker declares it with `#[elixir_tools]`.
//! - [`compare_tools`]: the one comparison of declared tools with the host's, behind the
//!   runtime check, the compile-time check and the CLI; [`is_compatible`] is its type table.
//! - [`declared_tools_markdown`] and [`host_tools_markdown`]: Markdown references.
//! - [`HeartbeatConfig`]: a pool's heartbeat settings and their `SNAKEPIT_HEARTBEAT_CONFIG` JSON.
//! - [`Manifest`]: the committed snapshot of the host's tool list; [`tool_drift`] compares two.
#![warn(missing_docs)]

mod compare;
mod compatibility;
mod context_methods;
mod declared;
mod grpc_timeout;
mod heartbeat;
mod host_tools;
mod manifest;
mod markdown;
mod suggest;
mod tool_name;

pub use compare::{check_call, compare_tools, CallProblem, Mismatch, MismatchKind};
pub use compatibility::{accepted_kinds, is_compatible};
/// Test support, not API: the scanner the contexts' tests use to check `CONTEXT_METHOD_NAMES`.
#[doc(hidden)]
pub use context_methods::public_fn_names;
pub use context_methods::CONTEXT_METHOD_NAMES;
pub use declared::{DeclaredParameter, DeclaredTool, ValueKind};
pub use grpc_timeout::{encode_grpc_timeout, parse_grpc_timeout};
pub use heartbeat::{truthy, HeartbeatConfig};
pub use host_tools::{HostParameter, HostTool};
pub use manifest::{
    snapshot_command, tool_drift, Manifest, ManifestError, ToolDrift, MANIFEST_FORMAT_VERSION,
};
pub use markdown::{declared_tools_markdown, host_tools_markdown};
pub use suggest::{closest_name, did_you_mean};
pub use tool_name::{validate_tool_name, ToolNameError, MAX_TOOL_NAME_BYTES};
