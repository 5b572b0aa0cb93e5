//! Support for the code `#[worker_tools]` generates, and the plumbing between a tool's return
//! value and the wire. Not a public API: it may change in any release.
//!
//! Each item has this one name; the public types a tool names (`ToolSet`, `ToolCall`,
//! `ToolContext`, `ToolError`, `ToolDefinition`, ...) are at the crate root, where the generated
//! code names them too.

use std::error::Error as StdError;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use crate::output::IntoOutcome;
use crate::output::Outcome;
pub use crate::stream::{fallible_stream_outcome, stream_outcome};
pub use snakepit_bridge_runtime::__private::{
    any_schema, SchemaProbe, SchemaViaAnything, SchemaViaJsonSchema,
};

use crate::toolset::known_schema;
use crate::{
    Answer, IntoUnaryAnswer, ParameterDefinition, ToolCall, ToolContext, ToolDefinition, ToolError,
};

/// One parameter, as registered with the host; `rest` for a `#[param(rest)]` argument;
/// `schema` is what the schema probe found (`true` when the type has none, which leaves it out).
#[allow(clippy::too_many_arguments)]
pub fn parameter(
    name: &str,
    type_name: &str,
    required: bool,
    default: Option<Value>,
    binary: bool,
    rest: bool,
    description: &str,
    schema: Value,
) -> ParameterDefinition {
    ParameterDefinition {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
        required,
        default,
        binary,
        rest,
        description: description.to_owned(),
        schema: known_schema(schema),
    }
}

/// One tool; the parameters an argument probe found to be the call's context are `None`.
#[allow(clippy::too_many_arguments)]
pub fn tool(
    name: &str,
    method: &str,
    description: &str,
    parameters: Vec<Option<ParameterDefinition>>,
    streaming: bool,
    extra_parameters: bool,
    result_schema: Option<Value>,
) -> ToolDefinition {
    ToolDefinition {
        name: name.to_owned(),
        method: method.to_owned(),
        description: description.to_owned(),
        parameters: parameters.into_iter().flatten().collect(),
        streaming,
        extra_parameters,
        result_schema: result_schema.and_then(known_schema),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments: the call's context or a parameter, decided by the argument's type (not its name,
// so that `type Ctx = ToolContext;` or `use ToolContext as C;` work), by autoref
// specialization: `(&ArgProbe::<T>::new()).required(..)` finds `ArgIsContext` first when `T`
// is `ToolContext`, and falls back to `ArgIsParameter`.

/// Decides whether an argument of type `T` is the call's context or a parameter.
pub struct ArgProbe<T>(PhantomData<T>);

impl<T> ArgProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ArgProbe(PhantomData)
    }
}

/// The specific case of [`ArgProbe`]: the argument is the call's [`ToolContext`].
pub trait ArgIsContext {
    /// `None`: the context is not a parameter, and is not registered.
    fn parameter(&self, parameter: ParameterDefinition) -> Option<ParameterDefinition>;
    /// The call's context.
    fn required(&self, call: &mut ToolCall, name: &'static str) -> Result<ToolContext, ToolError>;
}

impl ArgIsContext for ArgProbe<ToolContext> {
    fn parameter(&self, _: ParameterDefinition) -> Option<ParameterDefinition> {
        None
    }

    fn required(&self, call: &mut ToolCall, _: &'static str) -> Result<ToolContext, ToolError> {
        Ok(call.context())
    }
}

/// The general case of [`ArgProbe`]: the argument is a parameter of the call.
pub trait ArgIsParameter<T> {
    /// The parameter, as registered.
    fn parameter(&self, parameter: ParameterDefinition) -> Option<ParameterDefinition>;
    /// The parameter `name`, which the call must pass.
    fn required(&self, call: &mut ToolCall, name: &'static str) -> Result<T, ToolError>
    where
        T: DeserializeOwned;
}

impl<T> ArgIsParameter<T> for &ArgProbe<T> {
    fn parameter(&self, parameter: ParameterDefinition) -> Option<ParameterDefinition> {
        Some(parameter)
    }

    fn required(&self, call: &mut ToolCall, name: &'static str) -> Result<T, ToolError>
    where
        T: DeserializeOwned,
    {
        call.required(name)
    }
}

/// What a tool argument written as a reference (`ctx: &Ctx`) can borrow: only the call's
/// context, since parameters are owned values decoded from JSON.
#[diagnostic::on_unimplemented(
    message = "a tool argument cannot borrow `{Self}`",
    label = "tool arguments are owned values decoded from JSON",
    note = "only the call's context is borrowed (`ctx: &ToolContext`); take `String` for `&str`, `Vec<T>` for `&[T]`, `T` for `&T`"
)]
pub trait BorrowedArg: Sized {
    /// The value the argument borrows, for the call.
    fn from_call(call: &ToolCall) -> Self;
}

impl BorrowedArg for ToolContext {
    fn from_call(call: &ToolCall) -> Self {
        call.context()
    }
}

/// The value a borrowed argument of type `&T` borrows.
pub fn borrowed_arg<T: BorrowedArg>(call: &ToolCall) -> T {
    T::from_call(call)
}

// ---------------------------------------------------------------------------------------------
// A unary tool's return value, by autoref specialization on the error type:
// `(&returned).answer_kind().outcome(returned)` converts `Result<T, E>` with `E: Into<ToolError>`
// as `ToolError` converts it (keeping its type name), and any other error that converts into
// `Box<dyn Error + Send + Sync>` (`anyhow::Error`, boxed errors, any `std::error::Error`) as
// `RuntimeError` with its whole chain.

/// The specific case: `Result<T, E>` with `E: Into<ToolError>`.
pub trait ReturnsToolError {
    /// Tags the value for [`ToolErrorAnswer::outcome`].
    fn answer_kind(&self) -> ToolErrorAnswer {
        ToolErrorAnswer
    }
}

// No bound on `T`: it is checked by `outcome`, which the generated code calls with `T` named
// where the return type writes it out, so that a `T` that does not serialize is reported there.
impl<T, E: Into<ToolError>> ReturnsToolError for Result<T, E> {}

/// Converts a `Result<T, E: Into<ToolError>>`.
pub struct ToolErrorAnswer;

impl ToolErrorAnswer {
    /// The call's outcome.
    pub fn outcome<T: IntoUnaryAnswer, E: Into<ToolError>>(
        self,
        returned: Result<T, E>,
    ) -> Outcome {
        returned.into_outcome()
    }
}

/// The general case: any other return type, checked by [`UnaryReturn`].
pub trait ReturnsOtherError {
    /// Tags the value for [`OtherErrorAnswer::outcome`].
    fn answer_kind(&self) -> OtherErrorAnswer {
        OtherErrorAnswer
    }
}

impl<R> ReturnsOtherError for &R {}

/// Converts a return value whose error is not a `ToolError`.
pub struct OtherErrorAnswer;

impl OtherErrorAnswer {
    /// The call's outcome; `T`, the value, comes first, as in [`ToolErrorAnswer::outcome`].
    pub fn outcome<T: IntoUnaryAnswer, R: UnaryReturn<Value = T>>(self, returned: R) -> Outcome {
        match returned.into_result() {
            Ok(value) => value.into_unary_answer().map(Answer::Unary),
            Err(error) => Err(from_std_error(error)),
        }
    }
}

/// What a unary tool method returns when its error does not convert into `ToolError`: any
/// error that converts into `Box<dyn Error + Send + Sync>`.
#[diagnostic::on_unimplemented(
    message = "a tool method cannot return `{Self}`",
    label = "a tool returns `Result<T, E>`",
    note = "tool methods return `Result<T, E>`, since a call can fail: `T: serde::Serialize` (or `BinaryResult`), and `E` is `ToolError`, converts into it, or is an error (`anyhow::Error`, `Box<dyn Error + Send + Sync>`, any `std::error::Error + Send + Sync`), sent as `RuntimeError`"
)]
pub trait UnaryReturn {
    /// The value, `T` (whose bound [`OtherErrorAnswer::outcome`] checks on its own).
    type Value;
    /// The value, or the error as a boxed error.
    fn into_result(self) -> Result<Self::Value, Box<dyn StdError + Send + Sync>>;
}

// Not recommended, so that a wrong return type is reported as the `UnaryReturn` above says,
// rather than as the bound of this impl that failed.
#[diagnostic::do_not_recommend]
impl<T, E> UnaryReturn for Result<T, E>
where
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Value = T;

    fn into_result(self) -> Result<T, Box<dyn StdError + Send + Sync>> {
        self.map_err(Into::into)
    }
}

/// A tool's error: itself when it is a [`ToolError`], else `RuntimeError` with every cause in
/// the message (`outer: cause: root cause`).
fn from_std_error(error: Box<dyn StdError + Send + Sync>) -> ToolError {
    match error.downcast::<ToolError>() {
        Ok(error) => *error,
        Err(error) => {
            ToolError::runtime_error(snakepit_bridge_runtime::support::error_chain(&*error))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schemas and defaults, found from the types by autoref specialization.

/// Gets the JSON Schema of a unary tool's result (`T` of `Result<T, E>`, through aliases) when
/// `T` implements `schemars::JsonSchema`, and `None` otherwise (always, without the `schemars`
/// feature).
pub struct ResultSchemaProbe<R>(PhantomData<R>);

impl<R> ResultSchemaProbe<R> {
    /// A probe for the return type `R`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ResultSchemaProbe(PhantomData)
    }
}

/// The specific case of [`ResultSchemaProbe`]: `Result<T, E>` with `T: JsonSchema`.
pub trait ResultSchemaViaJsonSchema {
    /// The result's schema.
    fn result_schema(&self) -> Option<Value>;
}

#[cfg(feature = "schemars")]
impl<T: schemars::JsonSchema, E> ResultSchemaViaJsonSchema for ResultSchemaProbe<Result<T, E>> {
    fn result_schema(&self) -> Option<Value> {
        Some(snakepit_bridge_runtime::__private::schema_of::<T>())
    }
}

/// The general case of [`ResultSchemaProbe`]: no schema.
pub trait ResultSchemaViaAnything {
    /// `None`.
    fn result_schema(&self) -> Option<Value>;
}

impl<R> ResultSchemaViaAnything for &ResultSchemaProbe<R> {
    fn result_schema(&self) -> Option<Value> {
        None
    }
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

#[cfg(test)]
// The borrows are the point: they are what lets the probes fall back.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("could not read the model")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn outcome<R>(returned: R) -> Outcome
    where
        R: UnaryReturn,
        R::Value: IntoUnaryAnswer,
    {
        (&returned).answer_kind().outcome(returned)
    }

    #[test]
    fn an_error_that_is_not_a_tool_error_is_a_runtime_error_with_its_chain() {
        let returned: Result<u32, Outer> = Err(Outer(std::io::Error::other("disk on fire")));
        let error = outcome(returned).unwrap_err();
        assert_eq!(error.type_name(), "RuntimeError");
        assert_eq!(error.message(), "could not read the model: disk on fire");

        let boxed: Result<u32, Box<dyn StdError + Send + Sync>> = Err("plain".into());
        assert_eq!(outcome(boxed).unwrap_err().message(), "plain");
    }

    #[test]
    fn an_error_that_converts_into_tool_error_keeps_its_type() {
        // `io::Error` is both an error and `Into<ToolError>`: the `ToolError` conversion wins.
        let returned: Result<u32, std::io::Error> =
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
        let error = (&returned).answer_kind().outcome(returned).unwrap_err();
        assert_eq!(error.type_name(), "FileNotFoundError");

        // A `ToolError` inside a box is itself again.
        let boxed: Result<u32, Box<dyn StdError + Send + Sync>> =
            Err(Box::new(ToolError::value_error("bad n")));
        assert_eq!(outcome(boxed).unwrap_err().type_name(), "ValueError");
    }

    #[test]
    fn the_argument_probe_knows_the_context_by_its_type() {
        type Ctx = ToolContext;
        let definition = parameter("x", "any", true, None, false, false, "", Value::Bool(true));
        assert_eq!(
            (&ArgProbe::<Ctx>::new()).parameter(definition.clone()),
            None
        );
        assert_eq!(
            (&ArgProbe::<u32>::new()).parameter(definition.clone()),
            Some(definition)
        );
        let mut call = ToolCall::for_test("t", serde_json::json!({"n": 3}), []);
        let context: Ctx = (&ArgProbe::<Ctx>::new())
            .required(&mut call, "ctx")
            .unwrap();
        assert_eq!(context.session_id(), "test-session");
        let n: u32 = (&ArgProbe::<u32>::new()).required(&mut call, "n").unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn schemas_that_accept_anything_are_left_out() {
        let value = (&SchemaProbe::<Value>::new()).schema();
        assert_eq!(known_schema(value), None);
        assert_eq!(known_schema(Value::Bool(true)), None);
        let integer = (&SchemaProbe::<u32>::new()).schema();
        assert_eq!(known_schema(integer.clone()), Some(integer));
    }

    #[test]
    fn result_schemas_come_from_the_ok_type() {
        type Answer<T> = Result<T, ToolError>;
        let schema = (&ResultSchemaProbe::<Answer<u32>>::new()).result_schema();
        assert_eq!(schema.unwrap()["type"], "integer");
        struct NoSchema;
        assert_eq!(
            (&ResultSchemaProbe::<Answer<NoSchema>>::new()).result_schema(),
            None
        );
    }
}
