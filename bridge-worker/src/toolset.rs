//! A worker's tools: what `#[worker_tools]` implements, and the tools as data, for
//! registration with the host (`RegisterTools`) and for docs.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use snakepit_bridge_runtime::proto;

use crate::call::ToolCall;
use crate::output::Invocation;
use crate::ToolError;

/// A set of tools a worker serves. `#[worker_tools]` on an `impl` block implements it; the
/// worker runtime calls [`invoke`](Self::invoke) for each `ExecuteTool`.
pub trait ToolSet: Send + Sync + 'static {
    /// The tools, as registered with the host.
    fn tool_definitions() -> Vec<ToolDefinition>;

    /// The name of the type serving the tools (sent as the `adapter_class` metadata).
    fn type_name() -> &'static str;

    /// Decodes `call`'s parameters and starts the tool; an unknown tool or a bad parameter is
    /// an error naming them.
    fn invoke(self: &Arc<Self>, call: ToolCall) -> Result<Invocation, ToolError>;
}

/// One tool as data.
#[derive(Debug, Clone, PartialEq)]
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
}

/// One parameter of a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDefinition {
    /// The name on the wire.
    pub name: String,
    /// The host type name, from the Rust type (the table of `snakepit_bridge_spec`): `string`,
    /// `integer`, `float`, `boolean`, `list`, `map`, `any`; `bytes` for binary parameters.
    pub type_name: String,
    /// Whether the call must pass it (not an `Option`, no default).
    pub required: bool,
    /// The default value, as JSON, when one is declared.
    pub default: Option<Value>,
    /// Whether it comes from `binary_parameters`.
    pub binary: bool,
}

impl ToolDefinition {
    /// The `ToolRegistration` sent to the host, as snakepit's Python worker builds it: each
    /// parameter's spec, `validation_json` = `{"default": ...}` when there is a default, and
    /// metadata `adapter_class` and `module`.
    pub fn to_registration(&self, adapter_class: &str, module: &str) -> proto::ToolRegistration {
        proto::ToolRegistration {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: self
                .parameters
                .iter()
                .map(|parameter| proto::ParameterSpec {
                    name: parameter.name.clone(),
                    r#type: parameter.type_name.clone(),
                    description: String::new(),
                    required: parameter.required,
                    default_value: None,
                    validation_json: parameter
                        .default
                        .as_ref()
                        .map(|default| json!({ "default": default }).to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            metadata: HashMap::from([
                ("adapter_class".to_owned(), adapter_class.to_owned()),
                ("module".to_owned(), module.to_owned()),
            ]),
            supports_streaming: self.streaming,
        }
    }
}

/// The host's `RegisterTools` request for the tools of `T` in `session`.
pub(crate) fn registration_request<T: ToolSet>(
    session: &str,
    worker_id: &str,
) -> proto::RegisterToolsRequest {
    let type_name = T::type_name();
    let (module, class) = type_name.rsplit_once("::").unwrap_or(("", type_name));
    proto::RegisterToolsRequest {
        session_id: session.to_owned(),
        tools: T::tool_definitions()
            .iter()
            .map(|tool| tool.to_registration(class, module))
            .collect(),
        worker_id: worker_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_follows_pythons_shape() {
        let tool = ToolDefinition {
            name: "ping".into(),
            method: "ping".into(),
            description: "Echo a message.".into(),
            parameters: vec![ParameterDefinition {
                name: "message".into(),
                type_name: "string".into(),
                required: false,
                default: Some(json!("pong")),
                binary: false,
            }],
            streaming: false,
        };
        let registration = tool.to_registration("Showcase", "showcase_worker");
        assert_eq!(
            registration.parameters[0].validation_json,
            r#"{"default":"pong"}"#
        );
        assert!(!registration.parameters[0].required);
        assert_eq!(registration.parameters[0].default_value, None);
        assert_eq!(registration.metadata["adapter_class"], "Showcase");
        assert_eq!(registration.metadata["module"], "showcase_worker");
    }
}
