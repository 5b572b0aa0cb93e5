//! The names snakepit's wire spells: headers, metadata keys and error atoms, written once here
//! for the client, the worker, the lane and the host emulation.

/// The gRPC header that carries a call's correlation id (`build_request_metadata/2` in snakepit
/// v0.13.0's `lib/snakepit/grpc/client_impl.ex`).
pub const CORRELATION_HEADER: &str = "x-snakepit-correlation-id";

/// The request-metadata key that carries the same correlation id
/// (`maybe_put_correlation_metadata/2`, same file), and the tool argument snakepit moves there.
pub const CORRELATION_METADATA_KEY: &str = "correlation_id";

/// The gRPC deadline header; its value is read and written by
/// [`parse_grpc_timeout`](crate::parse_grpc_timeout) and
/// [`encode_grpc_timeout`](crate::encode_grpc_timeout).
pub const GRPC_TIMEOUT_HEADER: &str = "grpc-timeout";

/// The atom of the error snakepit's host answers when a tool is registered twice in a session:
/// `inspect/1` of `{:duplicate_tool, name}` (`lib/snakepit/bridge/tool_registry.ex`); a worker
/// that registers again after a reconnect takes it as success.
pub const DUPLICATE_TOOL_ERROR: &str = "duplicate_tool";

/// The registration metadata key naming the worker's adapter class (set by the worker, as
/// snakepit's Python worker sets it).
pub const ADAPTER_CLASS_METADATA_KEY: &str = "adapter_class";

/// The registration metadata key naming the worker's module.
pub const MODULE_METADATA_KEY: &str = "module";

/// The registration metadata key the host records a tool's streaming support under
/// (`lib/snakepit/grpc/bridge_server.ex`).
pub const SUPPORTS_STREAMING_METADATA_KEY: &str = "supports_streaming";

/// The metadata a `RegisterTools` registration adds to every tool, not part of the tool
/// itself.
pub const REGISTRATION_METADATA_KEYS: [&str; 3] = [
    ADAPTER_CLASS_METADATA_KEY,
    MODULE_METADATA_KEY,
    SUPPORTS_STREAMING_METADATA_KEY,
];
