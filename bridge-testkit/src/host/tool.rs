//! Elixir tools of the embedded host: a spec plus a Rust closure standing in for the Elixir
//! function.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use prost::bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use snakepit_bridge_spec::{find_non_finite, holds_null, HostParameter, HostTool};

use super::elixir_terms::jason_encode_serialize;

/// The parameters a tool receives: the request's JSON values by name, like the params map an
/// Elixir tool function receives.
pub type ToolParams = serde_json::Map<String, Value>;

/// What a tool returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ElixirToolOutput {
    /// A JSON result (what an Elixir tool's encodable return value becomes).
    Json(Value),
    /// Binary data, sent in `binary_result`, with `info` as the JSON `result` (`{}` if none).
    Binary {
        /// The bytes.
        data: Bytes,
        /// JSON metadata about the bytes.
        info: Value,
    },
    /// Text that is not JSON, sent as the result bytes: what a real host sends when the Elixir
    /// return value cannot be JSON-encoded (its printed form, e.g. `%{pid: #PID<0.1.0>}`).
    Unencodable(String),
    /// JSON already written, sent as is: for what a `serde_json::Value` cannot hold, such as
    /// integers wider than 64 bits, which Elixir's are.
    JsonText(String),
}

impl From<Value> for ElixirToolOutput {
    fn from(value: Value) -> Self {
        ElixirToolOutput::Json(value)
    }
}

impl ElixirToolOutput {
    /// `value` as JSON, written as the host's encoder (Jason) writes it: compact, floats as
    /// Erlang prints them, integers exact at any width (an `i128` field included).
    ///
    /// A NaN or infinite float is refused with its path, where serde_json would have written
    /// `null` (an Elixir function cannot return one: Erlang floats are finite); the rule of
    /// every side of the wire ([`to_finite_json`](snakepit_bridge_spec::to_finite_json)).
    ///
    /// ```
    /// # mod snakepit_bridge { pub use snakepit_bridge_runtime::*; pub mod testkit { pub use snakepit_bridge_testkit::{host, launcher}; } }
    /// use snakepit_bridge::testkit::host::ElixirToolOutput;
    /// let output = ElixirToolOutput::json(&(1u128 << 70, 2.0)).unwrap();
    /// assert_eq!(output, ElixirToolOutput::JsonText("[1180591620717411303424,2.0]".into()));
    /// let nan = ElixirToolOutput::json(&[1.0, f64::NAN]).unwrap_err();
    /// assert!(nan.contains("NaN float at `[1]`"), "{nan}");
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<ElixirToolOutput, String> {
        let text = jason_encode_serialize(value)?;
        if holds_null(text.as_bytes()) {
            if let Some(found) = find_non_finite(value) {
                return Err(format!(
                    "the result holds {found} (an Elixir function cannot return one: Erlang \
                     floats are finite)"
                ));
            }
        }
        Ok(ElixirToolOutput::JsonText(text))
    }
}

/// What a tool's handler returns: a [`ElixirToolOutput`], or any `Serialize` value (a
/// `serde_json::Value`, a struct, a number, ...), written by [`ElixirToolOutput::json`].
pub trait IntoElixirToolOutput {
    /// The output, or why the value cannot be sent (a NaN or infinite float, by its path).
    fn into_elixir_tool_output(self) -> Result<ElixirToolOutput, String>;
}

impl IntoElixirToolOutput for ElixirToolOutput {
    fn into_elixir_tool_output(self) -> Result<ElixirToolOutput, String> {
        Ok(self)
    }
}

impl<T: Serialize> IntoElixirToolOutput for T {
    fn into_elixir_tool_output(self) -> Result<ElixirToolOutput, String> {
        ElixirToolOutput::json(&self)
    }
}

/// The handler's answer, its result written as the host writes it; a result that cannot be
/// sent fails the call, naming the tool.
fn finish<O: IntoElixirToolOutput>(
    tool: &str,
    answer: Result<O, String>,
) -> Result<ElixirToolOutput, String> {
    answer.and_then(|output| {
        output.into_elixir_tool_output().map_err(|reason| {
            format!("tool `{tool}` returned a result the host cannot send: {reason}")
        })
    })
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(ToolParams) -> BoxFuture<Result<ElixirToolOutput, String>> + Send + Sync>;

/// A tool the embedded host exposes: its spec (name, description, parameters) and its handler.
///
/// A handler's `Err(message)` is reported as a raised exception: `Tool execution failed:
/// <message>`. A panicking handler is reported the same way.
///
/// ```
/// # mod snakepit_bridge { pub use snakepit_bridge_runtime::*; pub mod testkit { pub use snakepit_bridge_testkit::{host, launcher}; } }
/// use serde_json::json;
/// use snakepit_bridge::testkit::host::ElixirTool;
///
/// let add = ElixirTool::new("add", |params| {
///     let a = params.get("a").and_then(|v| v.as_i64()).ok_or("a must be an integer")?;
///     let b = params.get("b").and_then(|v| v.as_i64()).ok_or("b must be an integer")?;
///     Ok(json!(a + b))
/// })
/// .description("Add two integers")
/// .required("a", "integer")
/// .required("b", "integer");
/// assert_eq!(add.spec().parameters.len(), 2);
/// ```
#[derive(Clone)]
pub struct ElixirTool {
    spec: HostTool,
    handler: Handler,
}

impl fmt::Debug for ElixirTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElixirTool")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl ElixirTool {
    /// A tool named `name` run by the synchronous `handler`.
    pub fn new<F, O>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(ToolParams) -> Result<O, String> + Send + Sync + 'static,
        O: IntoElixirToolOutput,
    {
        let name = name.into();
        let handler = Arc::new(handler);
        let tool: Arc<str> = name.as_str().into();
        Self::with_handler(
            name,
            Arc::new(move |params| {
                // Run inside the future, so the host's task around it catches a panic.
                let (handler, tool) = (handler.clone(), tool.clone());
                Box::pin(async move { finish(&tool, handler(params)) })
            }),
        )
    }

    /// A tool named `name` run by the asynchronous `handler` (for slow tools, timeouts, ...).
    pub fn new_async<F, Fut, O>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(ToolParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, String>> + Send + 'static,
        O: IntoElixirToolOutput,
    {
        let name = name.into();
        let tool: Arc<str> = name.as_str().into();
        Self::with_handler(
            name,
            Arc::new(move |params| {
                let future = handler(params);
                let tool = tool.clone();
                Box::pin(async move { finish(&tool, future.await) })
            }),
        )
    }

    fn with_handler(name: impl Into<String>, handler: Handler) -> Self {
        ElixirTool {
            spec: HostTool {
                name: name.into(),
                description: String::new(),
                parameters: Vec::new(),
                metadata: Default::default(),
                supports_streaming: false,
                extra_parameters: false,
                result_schema: None,
            },
            handler,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.spec.description = text.into();
        self
    }

    /// Declares a parameter.
    pub fn param(mut self, parameter: HostParameter) -> Self {
        self.spec.parameters.push(parameter);
        self
    }

    /// Declares a required parameter of the host type `type_name`.
    pub fn required(self, name: impl Into<String>, type_name: impl Into<String>) -> Self {
        self.param(HostParameter::new(name, type_name, true))
    }

    /// Declares an optional parameter of the host type `type_name`.
    pub fn optional(self, name: impl Into<String>, type_name: impl Into<String>) -> Self {
        self.param(HostParameter::new(name, type_name, false))
    }

    /// Adds a metadata entry to the tool's spec.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.spec.metadata.insert(key.into(), value.into());
        self
    }

    /// The spec the host lists for this tool.
    pub fn spec(&self) -> &HostTool {
        &self.spec
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub(crate) fn run(&self, params: ToolParams) -> BoxFuture<Result<ElixirToolOutput, String>> {
        (self.handler)(params)
    }
}
