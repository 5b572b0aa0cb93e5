//! A tool as the snakepit host lists it, independent of the protobuf types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::REGISTRATION_METADATA_KEYS;

/// One tool the host exposes to a session (a `ToolSpec` of `GetExposedElixirTools`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostTool {
    /// The tool's name, as passed to `ExecuteElixirTool`.
    pub name: String,
    /// What the tool does, as the Elixir author described it.
    #[serde(default)]
    pub description: String,
    /// The parameters the tool declares, in the host's order.
    #[serde(default)]
    pub parameters: Vec<HostParameter>,
    /// Free-form string metadata the host attached to the tool.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Whether the tool streams its result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supports_streaming: bool,
    /// Whether the tool takes any parameter beyond those listed (a Rust worker's
    /// `#[param(rest)]`, Python's `**kwargs`). Only a worker's manifest sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extra_parameters: bool,
    /// The JSON Schema of the tool's result, when the worker's result type has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_schema: Option<Value>,
}

impl HostTool {
    /// A tool with the given name, and nothing else set.
    pub fn new(name: impl Into<String>) -> Self {
        HostTool {
            name: name.into(),
            description: String::new(),
            parameters: Vec::new(),
            metadata: BTreeMap::new(),
            supports_streaming: false,
            extra_parameters: false,
            result_schema: None,
        }
    }

    /// The declared parameter called `name`, if any.
    pub fn parameter(&self, name: &str) -> Option<&HostParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The tool as a worker's manifest holds it, from the tool as the host stores a worker's
    /// `RegisterTools` registration of it (snakepit's Python worker and a Rust worker register
    /// the same way: `validation_json` = `{"default": ...}`, metadata `adapter_class` and
    /// `module`, and the host adds `supports_streaming`).
    ///
    /// Each parameter's `default` comes out of its validation, a `bytes` parameter is
    /// `binary`, and the metadata the registration itself adds
    /// (`adapter_class`, `module`, `supports_streaming`) is dropped; other metadata is kept. A registration
    /// cannot carry the JSON Schemas of parameters and results nor `extra_parameters` (a
    /// `**kwargs` / `#[param(rest)]` parameter registers as an ordinary `any` parameter), so
    /// those stay empty.
    ///
    /// ```
    /// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
    /// use serde_json::json;
    /// use snakepit_bridge::spec::{HostParameter, HostTool};
    ///
    /// let registered = HostTool {
    ///     parameters: vec![
    ///         HostParameter::new("data", "bytes", true),
    ///         HostParameter {
    ///             validation: json!({"default": "checksum"}),
    ///             ..HostParameter::new("operation", "string", false)
    ///         },
    ///     ],
    ///     metadata: [("adapter_class", "Showcase"), ("module", "showcase"), ("supports_streaming", "false")]
    ///         .into_iter()
    ///         .map(|(k, v)| (k.to_owned(), v.to_owned()))
    ///         .collect(),
    ///     ..HostTool::new("process_binary")
    /// };
    /// let tool = HostTool::from_registration(registered);
    /// assert!(tool.parameters[0].binary);
    /// assert_eq!(tool.parameters[1].default, Some(json!("checksum")));
    /// assert_eq!(tool.parameters[1].validation, json!({}));
    /// assert!(tool.metadata.is_empty());
    /// ```
    pub fn from_registration(registered: HostTool) -> HostTool {
        let mut tool = registered;
        for parameter in &mut tool.parameters {
            if parameter.default.is_none() {
                if let Value::Object(validation) = &mut parameter.validation {
                    parameter.default = validation.remove("default");
                }
            }
            parameter.binary = parameter.binary || parameter.type_name == BYTES_TYPE;
        }
        tool.metadata
            .retain(|key, _| !REGISTRATION_METADATA_KEYS.contains(&key.as_str()));
        tool
    }

    /// The tool in one line, for listings: `name(required: type, optional?: type = default)`,
    /// with ` [streaming]` for a streaming tool and `, ...` when it takes extra parameters.
    ///
    /// ```
    /// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
    /// use serde_json::json;
    /// use snakepit_bridge::spec::{HostParameter, HostTool};
    ///
    /// let tool = HostTool {
    ///     parameters: vec![
    ///         HostParameter::new("count", "integer", true),
    ///         HostParameter { default: Some(json!(1.0)), ..HostParameter::new("delay", "float", false) },
    ///     ],
    ///     supports_streaming: true,
    ///     ..HostTool::new("stream_data")
    /// };
    /// assert_eq!(tool.signature(), "stream_data(count: integer, delay?: float = 1.0) [streaming]");
    /// ```
    pub fn signature(&self) -> String {
        let mut parameters: Vec<String> = self
            .parameters
            .iter()
            .map(|parameter| {
                let optional = if parameter.required { "" } else { "?" };
                let default = parameter
                    .default
                    .as_ref()
                    .map(|value| format!(" = {value}"))
                    .unwrap_or_default();
                format!(
                    "{}{optional}: {}{default}",
                    parameter.name, parameter.type_name
                )
            })
            .collect();
        if self.extra_parameters {
            parameters.push("...".to_owned());
        }
        let streaming = if self.supports_streaming {
            " [streaming]"
        } else {
            ""
        };
        format!("{}({}){streaming}", self.name, parameters.join(", "))
    }
}

/// The host type name of a binary parameter, whose value travels in `binary_parameters`.
pub const BYTES_TYPE: &str = "bytes";

/// One parameter of a [`HostTool`] (a `ParameterSpec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostParameter {
    /// The parameter's name, the key in the request's `parameters` map.
    pub name: String,
    /// The host's free-form type name (`string`, `integer`, `list`, ...); `any` when unset.
    #[serde(rename = "type", default = "any_type")]
    pub type_name: String,
    /// Whether the tool needs the parameter (the host itself does not enforce it).
    #[serde(default)]
    pub required: bool,
    /// What the parameter means.
    #[serde(default)]
    pub description: String,
    /// The default value, when the Elixir author gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The parameter's validation rules (the host's `validation_json`), `{}` when none.
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub validation: Value,
    /// Whether the value travels as raw bytes in `binary_parameters` (host type `bytes`). Only
    /// a worker's manifest sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
    /// Whether this parameter takes every parameter of the call that no other one names (a
    /// Rust worker's `#[param(rest)]`, Python's `**kwargs`): registered as a required `any`
    /// parameter named after the argument, it is not a parameter a caller passes by that name;
    /// its tool has `extra_parameters`. Only a worker's manifest sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rest: bool,
    /// The JSON Schema of the parameter's value, when the worker's argument type has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
}

impl HostParameter {
    /// A parameter with the given name, type and required-ness, and nothing else set.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>, required: bool) -> Self {
        HostParameter {
            name: name.into(),
            type_name: type_name.into(),
            required,
            description: String::new(),
            default: None,
            validation: empty_object(),
            binary: false,
            rest: false,
            schema: None,
        }
    }
}

fn any_type() -> String {
    "any".to_owned()
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(|map| map.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_parameter_without_type_or_validation_reads_as_any_and_empty() {
        let param: HostParameter = serde_json::from_value(json!({"name": "x"})).unwrap();
        assert_eq!(param, HostParameter::new("x", "any", false));
    }

    #[test]
    fn round_trips_through_json_leaving_out_empty_fields() {
        let tool = HostTool {
            description: "Process a list".into(),
            parameters: vec![HostParameter {
                default: Some(json!("sum")),
                ..HostParameter::new("operation", "string", false)
            }],
            ..HostTool::new("process_list")
        };
        let text = serde_json::to_value(&tool).unwrap();
        assert_eq!(
            text,
            json!({
                "name": "process_list",
                "description": "Process a list",
                "parameters": [{
                    "name": "operation", "type": "string", "required": false,
                    "description": "", "default": "sum"
                }]
            })
        );
        assert_eq!(serde_json::from_value::<HostTool>(text).unwrap(), tool);
    }

    #[test]
    fn a_worker_tool_writes_its_binary_flag_schemas_rest_marker_and_extra_parameters() {
        let tool = HostTool {
            parameters: vec![
                HostParameter {
                    binary: true,
                    ..HostParameter::new("data", "bytes", true)
                },
                HostParameter {
                    schema: Some(json!({"type": "integer"})),
                    ..HostParameter::new("n", "integer", true)
                },
                HostParameter {
                    rest: true,
                    ..HostParameter::new("kwargs", "any", true)
                },
            ],
            extra_parameters: true,
            result_schema: Some(json!({"type": "string"})),
            ..HostTool::new("t")
        };
        let text = serde_json::to_value(&tool).unwrap();
        assert_eq!(
            text,
            json!({
                "name": "t", "description": "",
                "parameters": [
                    {"name": "data", "type": "bytes", "required": true, "description": "", "binary": true},
                    {"name": "n", "type": "integer", "required": true, "description": "", "schema": {"type": "integer"}},
                    {"name": "kwargs", "type": "any", "required": true, "description": "", "rest": true}
                ],
                "extra_parameters": true,
                "result_schema": {"type": "string"}
            })
        );
        assert_eq!(serde_json::from_value::<HostTool>(text).unwrap(), tool);
    }

    #[test]
    fn a_registration_reads_back_as_the_worker_described_it() {
        let registered = HostTool {
            description: "Process bytes".into(),
            parameters: vec![
                HostParameter::new("data", "bytes", true),
                HostParameter {
                    validation: json!({"default": "checksum", "min_length": 1}),
                    ..HostParameter::new("operation", "string", false)
                },
                HostParameter {
                    default: Some(json!(3)),
                    validation: json!({"default": 4}),
                    ..HostParameter::new("n", "integer", false)
                },
            ],
            metadata: [
                ("adapter_class", "A"),
                ("module", "m"),
                ("supports_streaming", "true"),
                ("required_variables", "x,y"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            supports_streaming: true,
            ..HostTool::new("t")
        };
        let tool = HostTool::from_registration(registered);
        assert_eq!(
            serde_json::to_value(&tool).unwrap(),
            json!({
                "name": "t", "description": "Process bytes",
                "parameters": [
                    {"name": "data", "type": "bytes", "required": true, "description": "", "binary": true},
                    {"name": "operation", "type": "string", "required": false, "description": "",
                     "default": "checksum", "validation": {"min_length": 1}},
                    // An explicit default wins; the validation keeps what it said.
                    {"name": "n", "type": "integer", "required": false, "description": "",
                     "default": 3, "validation": {"default": 4}}
                ],
                "metadata": {"required_variables": "x,y"},
                "supports_streaming": true
            })
        );
    }

    #[test]
    fn signatures_show_types_defaults_extra_parameters_and_streaming() {
        let mut tool = HostTool {
            parameters: vec![
                HostParameter::new("tool_name", "string", true),
                HostParameter {
                    default: Some(json!("pong")),
                    ..HostParameter::new("message", "string", false)
                },
            ],
            ..HostTool::new("t")
        };
        assert_eq!(
            tool.signature(),
            "t(tool_name: string, message?: string = \"pong\")"
        );
        tool.extra_parameters = true;
        tool.supports_streaming = true;
        assert_eq!(
            tool.signature(),
            "t(tool_name: string, message?: string = \"pong\", ...) [streaming]"
        );
        assert_eq!(HostTool::new("x").signature(), "x()");
    }

    #[test]
    fn finds_a_parameter_by_name() {
        let tool = HostTool {
            parameters: vec![HostParameter::new("a", "integer", true)],
            ..HostTool::new("t")
        };
        assert_eq!(tool.parameter("a").map(|p| p.required), Some(true));
        assert!(tool.parameter("b").is_none());
    }
}
