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
//! - [`decode_exact`]: JSON decoding that never rounds an integer wider than 64 bits;
//!   [`to_finite_json`] and [`find_non_finite`]: JSON writing that never turns NaN into `null`.
//!   Every side of the wire (client, worker, host emulation) decodes and writes values with them.
//! - [`write_error_json`] and [`read_error_json`]: a worker's failure as the error JSON snakepit
//!   translates into `Snakepit.Error.<type>`.
//! - [`launch`]: how snakepit launches a worker: flags, environment, ready-file name.
//! - [`CORRELATION_HEADER`], [`GRPC_TIMEOUT_HEADER`], [`DUPLICATE_TOOL_ERROR`] and the other
//!   names the wire spells: headers, metadata keys and error atoms, written once.
//! - [`lane`]: the Unix-socket lane beside snakepit's gRPC: its directory, frames and terms.
#![warn(missing_docs)]

mod compare;
mod compatibility;
mod context_methods;
mod declared;
mod error_json;
mod exact_json;
mod grpc_timeout;
mod heartbeat;
mod host_tools;
mod json_path;
pub mod lane;
pub mod launch;
mod manifest;
mod markdown;
mod non_finite;
mod suggest;
mod tool_name;
mod wire;

pub use compare::{check_call, compare_tools, CallProblem, Mismatch, MismatchKind};
pub use compatibility::{accepted_kinds, host_type_names, is_compatible};
pub use context_methods::CONTEXT_METHOD_NAMES;
pub use declared::{DeclaredParameter, DeclaredTool, ValueKind};
pub use error_json::{
    elixir_error_module, read_error_json, write_error_json, ErrorJson, TranslatedError,
    TRANSLATED_ERROR_TYPES,
};
pub use exact_json::{decode_exact, message_without_position, ExactJsonError, WideInteger};
pub use grpc_timeout::{encode_grpc_timeout, parse_grpc_timeout};
pub use heartbeat::{truthy, HeartbeatConfig};
pub use host_tools::{HostParameter, HostTool, BYTES_TYPE};
pub use json_path::{JsonPath, PathSegment};
pub use manifest::{
    snapshot_command, tool_drift, Manifest, ManifestError, ToolDrift, MANIFEST_FORMAT_VERSION,
};
pub use markdown::{declared_tools_markdown, host_tools_markdown};
pub use non_finite::{find_non_finite, holds_null, to_finite_json, FiniteJsonError, NonFinite};
pub use suggest::{closest_name, did_you_mean};
pub use tool_name::{validate_tool_name, ToolNameError, MAX_TOOL_NAME_BYTES};
pub use wire::{
    ADAPTER_CLASS_METADATA_KEY, CORRELATION_HEADER, CORRELATION_METADATA_KEY, DUPLICATE_TOOL_ERROR,
    GRPC_TIMEOUT_HEADER, MODULE_METADATA_KEY, REGISTRATION_METADATA_KEYS,
    SUPPORTS_STREAMING_METADATA_KEY,
};

/// Test support of the workspace's own crates, not API: the scanner that checks
/// [`CONTEXT_METHOD_NAMES`] against the contexts' sources.
#[doc(hidden)]
pub mod __private {
    pub use crate::context_methods::public_fn_names;
}
