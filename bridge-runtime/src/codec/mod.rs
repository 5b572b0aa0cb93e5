//! How values travel: every parameter and every result is a `google.protobuf.Any` whose
//! `value` bytes are a UTF-8 JSON document: snakepit's host JSON-decodes every parameter
//! whatever its `type_url` (`lib/snakepit/grpc/bridge_server.ex`) and JSON-encodes every result.
//!
//! The value rules (integers exact at any width or refused, never rounded; non-finite floats
//! refused with their path, never sent as `null`) are `snakepit_bridge_spec`'s
//! [`decode_exact`](snakepit_bridge_spec::decode_exact) and
//! [`to_finite_json`](snakepit_bridge_spec::to_finite_json), which the worker uses too.

mod parameters;
mod result;
mod split;

pub use parameters::{ParameterError, Parameters};
pub use result::ToolResponse;

/// The `type_url` the snakepit host puts on every JSON value, and which we send too.
///
/// The bytes are raw JSON, *not* a protobuf-encoded `StringValue`: the host JSON-decodes every
/// parameter whatever its `type_url`, and sends results the same way.
pub const JSON_TYPE_URL: &str = "type.googleapis.com/google.protobuf.StringValue";

/// Wraps JSON bytes in an `Any` the way the host does.
pub fn json_any(json: Vec<u8>) -> prost_types::Any {
    prost_types::Any {
        type_url: JSON_TYPE_URL.to_owned(),
        value: json,
    }
}
