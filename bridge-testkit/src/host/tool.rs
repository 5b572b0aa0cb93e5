//! Elixir tools of the embedded host: a spec plus a Rust closure standing in for the Elixir
//! function.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use prost::bytes::Bytes;
use serde_json::Value;
use snakepit_bridge_spec::{HostParameter, HostTool};

/// The parameters a tool receives: the request's JSON values by name, like the params map an
/// Elixir tool function receives.
pub type ToolParams = serde_json::Map<String, Value>;

/// What a tool returns.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolOutput {
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

impl From<Value> for ToolOutput {
    fn from(value: Value) -> Self {
        ToolOutput::Json(value)
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(ToolParams) -> BoxFuture<Result<ToolOutput, String>> + Send + Sync>;

/// A tool the embedded host exposes: its spec (name, description, parameters) and its handler.
///
/// A handler's `Err(message)` is reported as a raised exception: `Tool execution failed:
/// <message>`. A panicking handler is reported the same way.
///
/// ```
/// use serde_json::json;
/// use snakepit_bridge_testkit::host::ElixirTool;
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
        O: Into<ToolOutput>,
    {
        let handler = Arc::new(handler);
        Self::with_handler(
            name,
            Arc::new(move |params| {
                // Run inside the future, so the host's task around it catches a panic.
                let handler = handler.clone();
                Box::pin(async move { handler(params).map(Into::into) })
            }),
        )
    }

    /// A tool named `name` run by the asynchronous `handler` (for slow tools, timeouts, ...).
    pub fn new_async<F, Fut, O>(name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(ToolParams) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, String>> + Send + 'static,
        O: Into<ToolOutput>,
    {
        Self::with_handler(
            name,
            Arc::new(move |params| {
                let future = handler(params);
                Box::pin(async move { future.await.map(Into::into) })
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

    pub(crate) fn run(&self, params: ToolParams) -> BoxFuture<Result<ToolOutput, String>> {
        (self.handler)(params)
    }
}
