//! A worker's tools: what `#[worker_tools]` implements, and the tools as data. One function,
//! [`ToolDefinition::to_host_tool`], turns a tool into what the host is told, for both the
//! registration with the host (`RegisterTools`) and the worker's manifest
//! (`--snakepit-describe`), so that the two cannot drift.

use std::any::TypeId;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::{Map, Value};
use snakepit_bridge_runtime::proto;
use snakepit_bridge_spec::{HostParameter, HostTool, Manifest};

use crate::call::ToolCall;
use crate::output::Invocation;
use crate::ToolError;

/// A set of tools a worker serves. `#[worker_tools]` on an `impl` block implements it; the
/// worker runtime calls [`invoke`](Self::invoke) for each `ExecuteTool`.
///
/// Written by hand, it takes the parameters from the [`ToolCall`], refuses the ones no
/// parameter took ([`ToolCall::finish`]), and answers an [`Invocation`]: the same checks and
/// errors as the macro's.
///
/// ```
/// use std::sync::Arc;
/// use serde_json::json;
/// use snakepit_bridge::worker::{
///     run_tool, Answer, IntoUnaryAnswer, Invocation, ParameterDefinition, ToolCall,
///     ToolDefinition, ToolError, ToolSet,
/// };
///
/// struct Adder;
///
/// impl ToolSet for Adder {
///     fn tool_definitions() -> Vec<ToolDefinition> {
///         vec![ToolDefinition::new("add", "Adds two integers.")
///             .with_parameter(ParameterDefinition::new("a", "integer"))
///             .with_parameter(ParameterDefinition::new("b", "integer").with_default(json!(0)))]
///     }
///
///     fn type_name() -> &'static str {
///         "my_worker::Adder"
///     }
///
///     fn invoke(self: &Arc<Self>, mut call: ToolCall) -> Result<Invocation, ToolError> {
///         match call.tool_name() {
///             "add" => {
///                 let a: i64 = call.required("a")?;
///                 let b: i64 = call.or_default("b", || 0)?;
///                 call.finish()?;
///                 Ok(Invocation::future(async move {
///                     (a + b).into_unary_answer().map(Answer::Unary)
///                 }))
///             }
///             other => Err(ToolError::unknown_tool::<Self>(other)),
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let tools = Arc::new(Adder);
/// let answer = run_tool(&tools, ToolCall::for_test("add", json!({"a": 2}), [])).await;
/// assert_eq!(answer.unwrap().json().unwrap(), json!(2));
///
/// let unknown = run_tool(&tools, ToolCall::for_test("ad", json!({}), [])).await.unwrap_err();
/// assert!(unknown.message().contains("did you mean `add`?"), "{}", unknown.message());
/// # }
/// ```
pub trait ToolSet: Send + Sync + 'static {
    /// The tools, as registered with the host.
    ///
    /// The worker runtime calls it once per process and type, and keeps what it returned (for
    /// every session's registration, every unknown-tool error, the manifest): a hand-written
    /// implementation returns the same tools each time. The worker checks them when it starts
    /// (valid and distinct tool names, distinct parameter names, one rest parameter at most)
    /// and does not serve tools the host could not take
    /// ([`WorkerError::InvalidTools`](crate::WorkerError::InvalidTools)).
    fn tool_definitions() -> Vec<ToolDefinition>;

    /// The name of the type serving the tools (sent as the `adapter_class` metadata).
    fn type_name() -> &'static str;

    /// Decodes `call`'s parameters and starts the tool; an unknown tool or a bad parameter is
    /// an error naming them.
    fn invoke(self: &Arc<Self>, call: ToolCall) -> Result<Invocation, ToolError>;
}

/// One tool as data. `#[worker_tools]` builds them from the methods; a hand-written
/// [`ToolSet`] builds them with [`ToolDefinition::new`] and the `with_` methods.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolDefinition {
    /// The tool's name.
    pub name: String,
    /// The Rust method that serves it.
    pub method: String,
    /// The method's doc comment.
    pub description: String,
    /// Its parameters, in argument order.
    pub parameters: Vec<ParameterDefinition>,
    /// Whether it streams (`ExecuteStreamingTool`).
    pub streaming: bool,
    /// Whether it takes every parameter no other argument takes (`#[param(rest)]`).
    pub extra_parameters: bool,
    /// The JSON Schema of a unary tool's result, when its type implements `JsonSchema`.
    pub result_schema: Option<Value>,
}

/// One parameter of a tool, built with [`ParameterDefinition::new`] and the `with_` methods.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParameterDefinition {
    /// The name on the wire.
    pub name: String,
    /// The host type name, from the Rust type (the table of `snakepit_bridge::spec`,
    /// [`host_type_names`](snakepit_bridge_spec::host_type_names)): `string`, `integer`,
    /// `float`, `boolean`, `list`, `map`, `any`; `bytes` for binary parameters.
    pub type_name: String,
    /// Whether the call must pass it (not an `Option`, no default).
    pub required: bool,
    /// The default value, as JSON, when one is declared.
    pub default: Option<Value>,
    /// Whether it comes from `binary_parameters`.
    pub binary: bool,
    /// Whether it takes every parameter no other argument takes (`#[param(rest)]`, Python's
    /// `**kwargs`): the manifest marks it `"rest": true`.
    pub rest: bool,
    /// What it means (`#[param(description = "...")]`).
    pub description: String,
    /// The JSON Schema of its value, when its type implements `JsonSchema`.
    pub schema: Option<Value>,
}

impl ToolDefinition {
    /// A unary tool `name` (served by the method of the same name) that takes no parameters
    /// and says what it does in `description`.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        let name = name.into();
        ToolDefinition {
            method: name.clone(),
            name,
            description: description.into(),
            parameters: Vec::new(),
            streaming: false,
            extra_parameters: false,
            result_schema: None,
        }
    }

    /// Adds a parameter, after those added before it.
    pub fn with_parameter(mut self, parameter: ParameterDefinition) -> Self {
        self.extra_parameters |= parameter.rest;
        self.parameters.push(parameter);
        self
    }

    /// Marks the tool streaming (`ExecuteStreamingTool`): its [`Invocation`] answers
    /// [`Answer::Stream`](crate::Answer::Stream).
    pub fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    /// Names the Rust method that serves the tool, when it is not the tool's name.
    pub fn with_method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// The JSON Schema of the tool's result; one that accepts anything is left out.
    pub fn with_result_schema(mut self, schema: Value) -> Self {
        self.result_schema = known_schema(schema);
        self
    }

    /// The tool as the host is told of it: the entry of the worker's manifest, and what
    /// [`to_registration`](Self::to_registration) sends.
    pub fn to_host_tool(&self) -> HostTool {
        HostTool {
            description: self.description.clone(),
            parameters: self
                .parameters
                .iter()
                .map(|parameter| HostParameter {
                    description: parameter.description.clone(),
                    default: parameter.default.clone(),
                    binary: parameter.binary,
                    rest: parameter.rest,
                    schema: parameter.schema.clone(),
                    ..HostParameter::new(
                        parameter.name.clone(),
                        parameter.type_name.clone(),
                        parameter.required,
                    )
                })
                .collect(),
            supports_streaming: self.streaming,
            extra_parameters: self.extra_parameters,
            result_schema: self.result_schema.clone(),
            ..HostTool::new(self.name.clone())
        }
    }

    /// The `ToolRegistration` sent to the host, built from [`to_host_tool`](Self::to_host_tool)
    /// as snakepit's Python worker builds it: each parameter's spec, `validation_json` =
    /// `{"default": ...}` when there is a default, and metadata `adapter_class` and `module`.
    pub fn to_registration(&self, adapter_class: &str, module: &str) -> proto::ToolRegistration {
        let tool = self.to_host_tool();
        proto::ToolRegistration {
            name: tool.name,
            description: tool.description,
            parameters: tool.parameters.into_iter().map(parameter_spec).collect(),
            metadata: HashMap::from([
                (
                    snakepit_bridge_spec::ADAPTER_CLASS_METADATA_KEY.to_owned(),
                    adapter_class.to_owned(),
                ),
                (
                    snakepit_bridge_spec::MODULE_METADATA_KEY.to_owned(),
                    module.to_owned(),
                ),
            ]),
            supports_streaming: tool.supports_streaming,
        }
    }
}

impl ParameterDefinition {
    /// A required parameter `name` of host type `type_name` (`string`, `integer`, `float`,
    /// `boolean`, `list`, `map`, `any`: the names of
    /// [`host_type_names`](snakepit_bridge_spec::host_type_names)).
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        ParameterDefinition {
            name: name.into(),
            type_name: type_name.into(),
            required: true,
            default: None,
            binary: false,
            rest: false,
            description: String::new(),
            schema: None,
        }
    }

    /// A parameter the call may leave out.
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// A parameter the call may leave out, which then takes `default`.
    pub fn with_default(mut self, default: Value) -> Self {
        self.required = false;
        self.default = Some(default);
        self
    }

    /// A parameter that comes in `binary_parameters`, of host type `bytes` (whatever type
    /// [`new`](Self::new) was given).
    pub fn binary(mut self) -> Self {
        self.binary = true;
        self.type_name = snakepit_bridge_spec::BYTES_TYPE.to_owned();
        self
    }

    /// A parameter that takes every parameter no other one takes (Python's `**kwargs`): of
    /// type `any`, and registered as required, as snakepit's Python worker and
    /// `#[param(rest)]` register it.
    pub fn rest(mut self) -> Self {
        self.rest = true;
        self.required = true;
        self.type_name = snakepit_bridge_spec::ValueKind::Any
            .host_type_name()
            .to_owned();
        self
    }

    /// What the parameter means.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The JSON Schema of the parameter's value; one that accepts anything (`true`, or only a
    /// title) is left out, as `#[worker_tools]` leaves it out.
    pub fn with_schema(mut self, schema: Value) -> Self {
        self.schema = known_schema(schema);
        self
    }
}

/// A schema worth writing down: one that accepts anything (`true`, or `serde_json::Value`'s,
/// which holds only a title) says nothing.
pub(crate) fn known_schema(schema: Value) -> Option<Value> {
    let says_nothing = match &schema {
        Value::Bool(accepts_all) => *accepts_all,
        Value::Object(map) => map
            .keys()
            .all(|key| matches!(key.as_str(), "$schema" | "title" | "description")),
        _ => false,
    };
    (!says_nothing).then_some(schema)
}

/// A parameter's `ParameterSpec`: the default goes in `validation_json`, as Python's worker
/// sends it (`default_value` stays empty).
fn parameter_spec(parameter: HostParameter) -> proto::ParameterSpec {
    let mut validation = match parameter.validation {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(default) = parameter.default {
        validation.insert("default".to_owned(), default);
    }
    proto::ParameterSpec {
        name: parameter.name,
        r#type: parameter.type_name,
        description: parameter.description,
        required: parameter.required,
        default_value: None,
        validation_json: if validation.is_empty() {
            String::new()
        } else {
            Value::Object(validation).to_string()
        },
    }
}

/// The worker's manifest: the tools of `T` as it registers them with the host, named
/// `worker` (what `WORKER --snakepit-describe` prints).
pub fn describe<T: ToolSet>(worker: impl Into<String>) -> Manifest {
    Manifest::for_worker(
        worker,
        built::<T>()
            .definitions
            .iter()
            .map(ToolDefinition::to_host_tool),
    )
}

pub use snakepit_bridge_spec::launch::DESCRIBE_FLAG;

/// When the program was run with [`DESCRIBE_FLAG`], prints the manifest of `T` on stdout and
/// returns the exit code (0, or 1 when stdout cannot be written); `None` otherwise. Binds
/// nothing and connects to nothing. `Worker::run` calls it first.
pub fn describe_if_asked<T: ToolSet>() -> Option<ExitCode> {
    let mut args = std::env::args_os();
    let program = args.next();
    if !args.any(|arg| arg == DESCRIBE_FLAG) {
        return None;
    }
    let worker = program
        .as_deref()
        .and_then(crate::config::program_name)
        .unwrap_or_else(|| T::type_name().to_owned());
    let text = describe::<T>(worker).to_json();
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Some(ExitCode::SUCCESS),
        Err(error) => {
            crate::logging::print_line(&format!(
                "snakepit worker: could not write the tool manifest to stdout: {error}"
            ));
            Some(ExitCode::FAILURE)
        }
    }
}

/// The tools of one [`ToolSet`] as the runtime uses them, built once (see [`built`]).
#[derive(Debug)]
pub(crate) struct BuiltTools {
    /// What [`ToolSet::tool_definitions`] returned.
    pub(crate) definitions: Vec<ToolDefinition>,
    /// Their registrations (`RegisterTools`), ready to send in any session.
    pub(crate) registrations: Vec<proto::ToolRegistration>,
}

impl BuiltTools {
    fn build<T: ToolSet>() -> BuiltTools {
        let definitions = T::tool_definitions();
        let type_name = T::type_name();
        let (module, class) = type_name.rsplit_once("::").unwrap_or(("", type_name));
        let registrations = definitions
            .iter()
            .map(|tool| tool.to_registration(class, module))
            .collect();
        BuiltTools {
            definitions,
            registrations,
        }
    }
}

/// What stops `definitions` from being served, each problem once, in order: a tool name the
/// host refuses, two tools of one name, a parameter without a name or two of one name, more
/// than one rest parameter. `#[worker_tools]` refuses all of these at compile time; a
/// hand-written [`ToolSet`] is checked here, when the worker starts.
pub(crate) fn definition_problems(definitions: &[ToolDefinition]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen_tools = std::collections::HashSet::new();
    for tool in definitions {
        let name = &tool.name;
        if let Err(reason) = snakepit_bridge_spec::validate_tool_name(name) {
            problems.push(format!("tool `{name}`: {reason}"));
        }
        if !seen_tools.insert(name.as_str()) {
            problems.push(format!(
                "two tools are named `{name}`; give each its own name"
            ));
        }
        let mut seen_parameters = std::collections::HashSet::new();
        for parameter in &tool.parameters {
            if parameter.name.trim().is_empty() {
                problems.push(format!("tool `{name}`: a parameter has no name"));
            } else if !seen_parameters.insert(parameter.name.as_str()) {
                problems.push(format!(
                    "tool `{name}`: two parameters are named `{}`",
                    parameter.name
                ));
            }
        }
        let rest: Vec<&str> = tool
            .parameters
            .iter()
            .filter(|parameter| parameter.rest)
            .map(|parameter| parameter.name.as_str())
            .collect();
        if rest.len() > 1 {
            problems.push(format!(
                "tool `{name}`: {} rest parameters (`{}`); one at most takes the parameters no \
                 other takes",
                rest.len(),
                rest.join("`, `")
            ));
        }
    }
    problems
}

/// The tools of `T`, checked with [`definition_problems`]: the error lists every problem.
pub(crate) fn check_definitions<T: ToolSet>() -> Result<(), String> {
    let problems = definition_problems(&built::<T>().definitions);
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the tool definitions of `{}` cannot be served: {}; fix what its `tool_definitions()` \
         returns",
        T::type_name(),
        problems.join("; ")
    ))
}

/// The tools of `T`, built on first use and kept for the process: the schemas are generated
/// once, not for each session's registration or each unknown-tool error. Keyed by type (a
/// static in a generic function is one for every `T`), so that it works for any `ToolSet`,
/// hand-written ones included.
pub(crate) fn built<T: ToolSet>() -> Arc<BuiltTools> {
    type Cache = RwLock<HashMap<TypeId, Arc<BuiltTools>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<T>();
    if let Some(tools) = cache.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return tools.clone();
    }
    // Built under the lock, so once (two workers of one type starting together included).
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_insert_with(|| Arc::new(BuiltTools::build::<T>()))
        .clone()
}

/// The host's `RegisterTools` request for the tools of `T` in `session`.
pub(crate) fn registration_request<T: ToolSet>(
    session: &str,
    worker_id: &str,
) -> proto::RegisterToolsRequest {
    proto::RegisterToolsRequest {
        session_id: session.to_owned(),
        tools: built::<T>().registrations.clone(),
        worker_id: worker_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ping() -> ToolDefinition {
        ToolDefinition {
            name: "ping".into(),
            method: "ping".into(),
            description: "Echo a message.".into(),
            parameters: vec![ParameterDefinition {
                name: "message".into(),
                type_name: "string".into(),
                required: false,
                default: Some(json!("pong")),
                binary: false,
                rest: false,
                description: "What to echo".into(),
                schema: Some(json!({"type": "string"})),
            }],
            streaming: false,
            extra_parameters: false,
            result_schema: None,
        }
    }

    #[test]
    fn valid_definitions_have_no_problems() {
        let echo = ToolDefinition::new("echo", "")
            .with_parameter(ParameterDefinition::new("data", "string"))
            .with_parameter(ParameterDefinition::new("kwargs", "map").rest());
        assert!(definition_problems(&[ping(), echo]).is_empty());
    }

    #[test]
    fn every_problem_of_hand_built_definitions_is_named_in_order() {
        let twice = ToolDefinition::new("twice", "")
            .with_parameter(ParameterDefinition::new("n", "integer"))
            .with_parameter(ParameterDefinition::new("n", "integer"))
            .with_parameter(ParameterDefinition::new(" ", "integer"))
            .with_parameter(ParameterDefinition::new("a", "map").rest())
            .with_parameter(ParameterDefinition::new("b", "map").rest());
        let problems =
            definition_problems(&[ping(), ToolDefinition::new("bad name", ""), twice, ping()]);
        assert_eq!(
            problems,
            [
                "tool `bad name`: a tool name may contain only ASCII letters, digits, `_`, `-` and `.`, found ' ' at byte 3",
                "tool `twice`: two parameters are named `n`",
                "tool `twice`: a parameter has no name",
                "tool `twice`: 2 rest parameters (`a`, `b`); one at most takes the parameters no other takes",
                "two tools are named `ping`; give each its own name",
            ]
        );
    }

    #[test]
    fn registration_follows_pythons_shape() {
        let registration = ping().to_registration("Showcase", "showcase_worker");
        assert_eq!(
            registration.parameters[0].validation_json,
            r#"{"default":"pong"}"#
        );
        assert!(!registration.parameters[0].required);
        assert_eq!(registration.parameters[0].default_value, None);
        assert_eq!(registration.parameters[0].description, "What to echo");
        assert_eq!(registration.metadata["adapter_class"], "Showcase");
        assert_eq!(registration.metadata["module"], "showcase_worker");
    }

    #[test]
    fn the_host_tool_holds_what_is_registered_and_what_only_a_manifest_carries() {
        let mut tool = ping();
        tool.extra_parameters = true;
        tool.parameters[0].binary = true;
        tool.parameters[0].rest = true;
        let host_tool = tool.to_host_tool();
        assert_eq!(
            serde_json::to_value(&host_tool).unwrap(),
            json!({
                "name": "ping",
                "description": "Echo a message.",
                "parameters": [{
                    "name": "message", "type": "string", "required": false,
                    "description": "What to echo", "default": "pong", "binary": true,
                    "rest": true, "schema": {"type": "string"}
                }],
                "extra_parameters": true
            })
        );
        let registration = tool.to_registration("Showcase", "showcase_worker");
        assert_eq!(registration.name, host_tool.name);
        assert_eq!(registration.parameters[0].r#type, "string");
    }
}
