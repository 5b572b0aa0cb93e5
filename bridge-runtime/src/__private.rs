//! Support for the code `#[elixir_tools]` generates. Not a public API: it may change in any
//! release.

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::caller::{BlockingToolCaller, ToolCaller};
pub use crate::codec::{ParameterError, Parameters, ToolResponse};
pub use crate::declaration::DeclaredTools;
pub use crate::Error;
/// schemars, which the facade re-exports as `snakepit_bridge::schemars`.
#[cfg(feature = "schemars")]
pub use schemars;
pub use snakepit_bridge_spec::{DeclaredParameter, DeclaredTool, ValueKind};

/// Encodes a method's arguments; `fill` inserts each one.
pub fn encode_parameters(
    capacity: usize,
    fill: impl FnOnce(&mut Parameters) -> Result<(), ParameterError>,
) -> Result<Parameters, ParameterError> {
    let mut parameters = Parameters::with_capacity(capacity);
    fill(&mut parameters)?;
    Ok(parameters)
}

/// The outcome of a call before the result is decoded.
pub type Outcome = Result<ToolResponse, Error>;

/// A call's outcome, once the parameters were encoded (or failed to be).
pub fn outcome_of(
    tool: &str,
    encoded: Result<Parameters, ParameterError>,
) -> Result<Parameters, Error> {
    encoded.map_err(|error| error.for_tool(tool))
}

/// The declared return type of a tool method: a `Result` (or an alias of one) whose `Ok`
/// value is decoded from the result's JSON and whose error converts from [`Error`].
#[diagnostic::on_unimplemented(
    message = "an #[elixir_tools] method cannot return `{Self}`",
    note = "tool methods return `Result<T, E>` (or an alias of it) with `T: serde::de::DeserializeOwned` and `E: From<snakepit_bridge::Error>`, since a call can fail"
)]
pub trait ToolResult: Sized {
    /// The decoded value.
    type Value;
    /// Decodes a call's outcome into the declared type.
    fn from_outcome(outcome: Outcome) -> Self;
}

impl<T: DeserializeOwned, E: From<Error>> ToolResult for Result<T, E> {
    type Value = T;
    fn from_outcome(outcome: Outcome) -> Self {
        outcome
            .and_then(|response| response.decode::<T>())
            .map_err(E::from)
    }
}

/// For `Result<(), E>`: the result is ignored.
pub fn ignore_result<E: From<Error>>(outcome: Outcome) -> Result<(), E> {
    outcome.map(|_| ()).map_err(E::from)
}

/// For `Result<ToolResponse, E>`: the whole response.
pub fn whole_response<E: From<Error>>(outcome: Outcome) -> Result<ToolResponse, E> {
    outcome.map_err(E::from)
}

/// The JSON Schema of `T`.
#[cfg(feature = "schemars")]
pub fn schema_of<T: schemars::JsonSchema + ?Sized>() -> Value {
    schemars::SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The schema of a value of unknown shape: `true`, which accepts anything.
pub fn any_schema() -> Value {
    Value::Bool(true)
}

/// One declared parameter.
pub fn declared_parameter(
    name: &str,
    argument: &str,
    required: bool,
    kind: ValueKind,
    rust_type: &str,
    schema: Value,
) -> DeclaredParameter {
    DeclaredParameter {
        name: name.to_owned(),
        argument: argument.to_owned(),
        required,
        kind,
        rust_type: rust_type.to_owned(),
        schema,
    }
}

/// One declared tool.
pub fn declared_tool(
    name: &str,
    method: &str,
    description: &str,
    parameters: Vec<DeclaredParameter>,
    result_type: &str,
    result_schema: Value,
) -> DeclaredTool {
    DeclaredTool {
        name: name.to_owned(),
        method: method.to_owned(),
        description: description.to_owned(),
        parameters,
        result_type: result_type.to_owned(),
        result_schema,
    }
}

/// Gets a type's JSON Schema when it implements `schemars::JsonSchema`, and `true` otherwise,
/// by autoref specialization: `(&SchemaProbe::<T>::new()).schema()` finds
/// [`SchemaViaJsonSchema`] first when `T: JsonSchema`, and falls back to [`SchemaViaAnything`].
/// Without the `schemars` feature, every type falls back.
pub struct SchemaProbe<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> SchemaProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        SchemaProbe(std::marker::PhantomData)
    }
}

/// The specific case of [`SchemaProbe`]: `T: JsonSchema`.
pub trait SchemaViaJsonSchema {
    /// `T`'s schema.
    fn schema(&self) -> Value;
}

#[cfg(feature = "schemars")]
impl<T: schemars::JsonSchema + ?Sized> SchemaViaJsonSchema for SchemaProbe<T> {
    fn schema(&self) -> Value {
        schema_of::<T>()
    }
}

/// The general case of [`SchemaProbe`]: any type, whose schema is unknown.
pub trait SchemaViaAnything {
    /// `true`, the schema that accepts anything.
    fn schema(&self) -> Value;
}

impl<T: ?Sized> SchemaViaAnything for &SchemaProbe<T> {
    fn schema(&self) -> Value {
        any_schema()
    }
}

#[cfg(all(test, feature = "schemars"))]
// The borrow is the point: it is what lets a type without a schema fall back.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    struct NoSchema;

    #[test]
    fn the_probe_finds_a_schema_when_there_is_one() {
        let schema = (&SchemaProbe::<u32>::new()).schema();
        assert_eq!(schema["type"], "integer");
        let schema = (&SchemaProbe::<[String]>::new()).schema();
        assert_eq!(schema["type"], "array");
        assert_eq!(
            (&SchemaProbe::<NoSchema>::new()).schema(),
            Value::Bool(true)
        );
    }
}
