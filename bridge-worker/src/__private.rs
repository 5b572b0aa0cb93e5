//! Support for the code `#[worker_tools]` generates. Not a public API: it may change in any
//! release.

use serde::Serialize;
use serde_json::Value;

pub use crate::output::{Invocation, Outcome, ToolReturn};
pub use crate::stream::{fallible_stream_outcome, stream_outcome};
pub use crate::{ParameterDefinition, ToolCall, ToolContext, ToolDefinition, ToolError, ToolSet};

/// A unary tool's outcome.
pub fn outcome<R: ToolReturn>(returned: R) -> Outcome {
    returned.into_outcome()
}

/// One parameter.
pub fn parameter(
    name: &str,
    type_name: &str,
    required: bool,
    default: Option<Value>,
    binary: bool,
) -> ParameterDefinition {
    ParameterDefinition {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
        required,
        default,
        binary,
    }
}

/// One tool.
pub fn tool(
    name: &str,
    method: &str,
    description: &str,
    parameters: Vec<ParameterDefinition>,
    streaming: bool,
) -> ToolDefinition {
    ToolDefinition {
        name: name.to_owned(),
        method: method.to_owned(),
        description: description.to_owned(),
        parameters,
        streaming,
    }
}

/// The error for a tool `T` does not serve, worded as snakepit's Python worker words it
/// (`AttributeError`), with the tools it does serve.
pub fn unknown_tool<T: ToolSet>(name: &str) -> ToolError {
    let tools = T::tool_definitions();
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_str()).collect();
    let type_name = T::type_name().rsplit("::").next().unwrap_or_default();
    let hint = snakepit_bridge_spec::did_you_mean(snakepit_bridge_spec::closest_name(
        name,
        names.iter().copied(),
    ));
    ToolError::new(
        "AttributeError",
        format!(
            "Tool '{name}' not found in {type_name}{hint} (tools: {})",
            names.join(", ")
        ),
    )
}

/// Gets a default value's JSON when its type implements `Serialize`, and `None` otherwise, by
/// autoref specialization (as the schema probe of `#[elixir_tools]`).
pub struct DefaultProbe<'a, T>(pub &'a T);

/// The specific case: `T: Serialize`.
pub trait DefaultViaSerialize {
    /// The value as JSON.
    fn default_json(&self) -> Option<Value>;
}

impl<T: Serialize> DefaultViaSerialize for DefaultProbe<'_, T> {
    fn default_json(&self) -> Option<Value> {
        serde_json::to_value(self.0).ok()
    }
}

/// The general case: a type that does not serialize.
pub trait DefaultViaAnything {
    /// `None`.
    fn default_json(&self) -> Option<Value>;
}

impl<T> DefaultViaAnything for &DefaultProbe<'_, T> {
    fn default_json(&self) -> Option<Value> {
        None
    }
}
