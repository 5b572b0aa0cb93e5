//! The host-independent rules of snakepit-bridge.
//!
//! This crate holds what both the runtime and the `#[elixir_tools]` macro need, with no
//! networking and no compiler machinery, so that each rule has exactly one implementation:
//!
//! - [`HostTool`] and [`HostParameter`]: a tool as the snakepit host lists it
//!   (`GetExposedElixirTools`), in a serde-friendly form.
//! - [`validate_tool_name`]: snakepit's rule for tool names.
//! - [`closest_name`]: the "did you mean ...?" suggestion used in error messages.
#![warn(missing_docs)]

mod host_tools;
mod suggest;
mod tool_name;

pub use host_tools::{HostParameter, HostTool};
pub use suggest::closest_name;
pub use tool_name::{validate_tool_name, ToolNameError, MAX_TOOL_NAME_BYTES};
