//! A tool as the snakepit host lists it, independent of the protobuf types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl HostTool {
    /// The declared parameter called `name`, if any.
    pub fn parameter(&self, name: &str) -> Option<&HostParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

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
            name: "process_list".into(),
            description: "Process a list".into(),
            parameters: vec![HostParameter {
                default: Some(json!("sum")),
                ..HostParameter::new("operation", "string", false)
            }],
            metadata: BTreeMap::new(),
            supports_streaming: false,
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
    fn finds_a_parameter_by_name() {
        let tool = HostTool {
            name: "t".into(),
            description: String::new(),
            parameters: vec![HostParameter::new("a", "integer", true)],
            metadata: BTreeMap::new(),
            supports_streaming: false,
        };
        assert_eq!(tool.parameter("a").map(|p| p.required), Some(true));
        assert!(tool.parameter("b").is_none());
    }
}
