//! The runtime of snakepit-bridge: a session context that talks to a snakepit host over its own
//! gRPC protocol, and the wire codec. Every worker links it; the emulated host lives in
//! `snakepit-bridge-testkit`, which workers do not link.
//!
//! Most users depend on the facade crate `snakepit-bridge`, which re-exports all of this.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge_runtime::SessionContext;
//! use snakepit_bridge_testkit::host::{demo_tools, EmbeddedHost};
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).session("s1").start().await?;
//! let ctx = SessionContext::connect(host.grpc_address(), "s1").await?;
//! let tools = ctx.elixir_tools().await?;
//! assert!(tools.contains_key("parse_json"));
//! let result = ctx
//!     .call_elixir_tool("process_list", json!({"list": [1, 2, 3], "operation": "max"}))
//!     .await?;
//! assert_eq!(result["result"], json!(3));
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! - `schemars` (on by default): the JSON Schemas of declared tools' argument and result types
//!   that implement schemars' `JsonSchema`; without it every schema is `true` (accepts
//!   anything). The facade `snakepit-bridge` turns it on through its own `schemars` feature.
//! - `tls` (off by default): TLS to the host (rustls with the ring provider, and the Mozilla
//!   root certificates of webpki-roots), for an `https://` address or [`TlsOptions`]. A worker
//!   talks to its host over loopback in plaintext, as snakepit's workers do, and does not
//!   build it. Without it, an `https://` address or [`TlsOptions`] is the error
//!   [`Error::TlsNotEnabled`], never a plaintext connection.
#![warn(missing_docs)]

mod address;
pub mod blocking;
mod caller;
mod codec;
mod context;
mod declaration;
mod error;
mod options;
pub mod proto;
mod rpc;
pub mod support;
mod tool_list;

#[doc(hidden)]
pub mod __private;

pub use caller::{BlockingToolCaller, ToolCaller};
pub use codec::{json_any, ParameterError, Parameters, ToolResponse, JSON_TYPE_URL};
pub use context::{SessionContext, SessionInfo};
pub use declaration::DeclaredTools;
pub use error::Error;
pub use options::{
    SessionContextBuilder, TlsOptions, CORRELATION_HEADER, DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE,
};
pub use rpc::HostRpc;
pub use snakepit_bridge_spec::{
    DeclaredParameter, DeclaredTool, HostParameter, HostTool, Mismatch, MismatchKind, ValueKind,
};
pub use tool_list::ElixirTools;

#[cfg(test)]
mod context_method_names {
    /// `#[elixir_tools]` refuses method names the contexts would shadow; the list it uses must
    /// hold every public method of the contexts.
    #[test]
    fn every_context_method_is_in_the_list_the_macro_checks() {
        for source in [
            include_str!("context.rs"),
            include_str!("blocking.rs"),
            include_str!("caller.rs"),
        ] {
            for name in snakepit_bridge_spec::__private::public_fn_names(source) {
                assert!(
                    snakepit_bridge_spec::CONTEXT_METHOD_NAMES.contains(&name.as_str()),
                    "`{name}` is missing from CONTEXT_METHOD_NAMES"
                );
            }
        }
    }
}
