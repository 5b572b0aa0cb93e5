//! One tool call as the worker received it, and the decoding of its parameters: JSON inside
//! `Any` (whatever the `type_url`), raw bytes in `binary_parameters`.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use snakepit_bridge_spec::{
    closest_name, decode_exact, did_you_mean, message_without_position, ExactJsonError,
};

use crate::context::ToolContext;
use crate::host_link::HostLink;
use crate::ToolError;

/// A call of one tool: its parameters, decoded on demand, and its context.
///
/// The code `#[worker_tools]` generates takes each parameter with [`required`](Self::required),
/// [`optional`](Self::optional), [`or_default`](Self::or_default), [`binary`](Self::binary) or
/// [`rest`](Self::rest), then calls [`finish`](Self::finish), which refuses parameters no
/// argument took. Every error names the tool and the parameter.
#[derive(Debug)]
pub struct ToolCall {
    tool: String,
    parameters: HashMap<String, prost_types::Any>,
    binary_parameters: HashMap<String, Vec<u8>>,
    /// The parameter names the tool takes, as they are asked for.
    known: Vec<&'static str>,
    /// Whether a rest argument took every parameter left: nothing is then unexpected.
    takes_rest: bool,
    /// Whether a test chose the session ([`with_session`](Self::with_session)), which
    /// [`with_host`](Self::with_host) then keeps.
    pub(crate) session_chosen: bool,
    context: ToolContext,
}

impl ToolCall {
    pub(crate) fn new(
        request: snakepit_bridge_runtime::proto::ExecuteToolRequest,
        correlation_id: Option<String>,
        link: Arc<HostLink>,
    ) -> ToolCall {
        ToolCall {
            context: ToolContext::new(request.session_id, correlation_id, request.metadata, link),
            tool: request.tool_name,
            parameters: request.parameters,
            binary_parameters: request.binary_parameters,
            known: Vec::new(),
            takes_rest: false,
            session_chosen: false,
        }
    }

    /// A call built by hand, for unit tests of tools: parameters as a JSON object (each value
    /// encoded as the host encodes it) and binary parameters.
    pub fn for_test(
        tool: &str,
        parameters: Value,
        binary_parameters: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> ToolCall {
        let parameters = match parameters {
            Value::Object(map) => map
                .into_iter()
                .map(|(key, value)| {
                    (
                        key,
                        snakepit_bridge_runtime::json_any(value.to_string().into_bytes()),
                    )
                })
                .collect(),
            Value::Null => HashMap::new(),
            // A test's own mistake, said at once rather than as a "missing parameter" later.
            other => panic!(
                "ToolCall::for_test takes the parameters as a JSON object (or null for none), not {other}"
            ),
        };
        ToolCall {
            tool: tool.to_owned(),
            parameters,
            binary_parameters: binary_parameters.into_iter().collect(),
            known: Vec::new(),
            takes_rest: false,
            session_chosen: false,
            context: ToolContext::new(
                "test-session".to_owned(),
                None,
                HashMap::new(),
                Arc::new(HostLink::standalone()),
            ),
        }
    }

    /// A call built by hand from each parameter's JSON text exactly as it would arrive on the
    /// wire (integers of any width, or bytes that are not JSON at all), for unit tests of how
    /// tools decode their parameters.
    pub fn for_test_wire<N: Into<String>, J: Into<Vec<u8>>>(
        tool: &str,
        parameters: impl IntoIterator<Item = (N, J)>,
        binary_parameters: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> ToolCall {
        let mut call = ToolCall::for_test(tool, Value::Null, binary_parameters);
        call.parameters = parameters
            .into_iter()
            .map(|(name, json)| (name.into(), snakepit_bridge_runtime::json_any(json.into())))
            .collect();
        call
    }

    /// The tool's name.
    pub fn tool_name(&self) -> &str {
        &self.tool
    }

    /// The call's context (session, correlation id, metadata, the host).
    pub fn context(&self) -> ToolContext {
        self.context.clone()
    }

    /// The context, to set what the worker knows of the call (its deadline, telemetry) or
    /// what a test attaches (see `testing.rs`).
    pub(crate) fn context_mut(&mut self) -> &mut ToolContext {
        &mut self.context
    }

    /// The parameter `name`, which must be present.
    pub fn required<T: DeserializeOwned>(&mut self, name: &'static str) -> Result<T, ToolError> {
        match self.take(name)? {
            Some(value) => Ok(value),
            None => Err(ToolError::type_error(format!(
                "tool `{}`: missing required parameter `{name}`; pass it in the call's parameters",
                self.tool
            ))),
        }
    }

    /// The parameter `name`, or `None` when it is absent or JSON `null`.
    pub fn optional<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> Result<Option<T>, ToolError> {
        match self.take::<Option<T>>(name)? {
            Some(value) => Ok(value),
            None => Ok(None),
        }
    }

    /// The parameter `name`, or `default()` when it is absent or JSON `null`.
    pub fn or_default<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
        default: impl FnOnce() -> T,
    ) -> Result<T, ToolError> {
        Ok(self.optional(name)?.unwrap_or_else(default))
    }

    /// The binary parameter `name` (from `binary_parameters`), which must be present.
    pub fn binary<T: From<Vec<u8>>>(&mut self, name: &'static str) -> Result<T, ToolError> {
        match self.optional_binary(name)? {
            Some(bytes) => Ok(bytes),
            None => Err(ToolError::type_error(format!(
                "tool `{}`: missing required binary parameter `{name}`; pass it in `binary_parameters`",
                self.tool
            ))),
        }
    }

    /// The binary parameter `name`, if present.
    pub fn optional_binary<T: From<Vec<u8>>>(
        &mut self,
        name: &'static str,
    ) -> Result<Option<T>, ToolError> {
        self.known.push(name);
        Ok(self.binary_parameters.remove(name).map(T::from))
    }

    /// Every parameter no other argument took, as a JSON object (Python's `**kwargs`).
    pub fn rest(&mut self) -> Result<Map<String, Value>, ToolError> {
        let mut names: Vec<String> = self.parameters.keys().cloned().collect();
        names.sort();
        let mut rest = Map::new();
        for name in names {
            if let Some(any) = self.parameters.remove(&name) {
                rest.insert(name.clone(), self.decode(&name, &any.value)?);
            }
        }
        self.takes_rest = true;
        Ok(rest)
    }

    /// Refuses the parameters that no argument took, naming them (Python raises `TypeError`
    /// for an unexpected keyword argument).
    pub fn finish(&self) -> Result<(), ToolError> {
        let mut unexpected: Vec<&str> = self
            .parameters
            .keys()
            .chain(self.binary_parameters.keys())
            .map(String::as_str)
            .collect();
        if unexpected.is_empty() || self.takes_rest {
            return Ok(());
        }
        unexpected.sort_unstable();
        let first = unexpected[0];
        let takes = if self.known.is_empty() {
            "it takes no parameters".to_owned()
        } else {
            format!("it takes {}", quoted_list(&self.known))
        };
        let hint = did_you_mean(closest_name(first, self.known.iter().copied()));
        Err(ToolError::type_error(format!(
            "tool `{}` got an unexpected parameter `{first}`{}: {takes}{hint}",
            self.tool,
            if unexpected.len() > 1 {
                format!(" (and {})", quoted_list(&unexpected[1..]))
            } else {
                String::new()
            },
        )))
    }

    fn take<T: DeserializeOwned>(&mut self, name: &'static str) -> Result<Option<T>, ToolError> {
        self.known.push(name);
        match self.parameters.remove(name) {
            Some(any) => self.decode(name, &any.value).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes one parameter by the rule of every side of the wire
    /// ([`snakepit_bridge_spec::decode_exact`]): an integer wider than 64 bits is exact where
    /// `T` can hold it and refused where it would be rounded (a `serde_json::Value`, an `f64`).
    fn decode<T: DeserializeOwned>(&self, name: &str, bytes: &[u8]) -> Result<T, ToolError> {
        decode_exact(bytes).map_err(|error| match error {
            ExactJsonError::WideInteger(wide) => {
                let at = if wide.path.is_empty() {
                    String::new()
                } else {
                    format!(" at `{}`", wide.path.under(name))
                };
                ToolError::value_error(format!(
                    "tool `{}`: parameter `{name}` holds the integer {}{at}, wider than 64 bits, \
                     which the parameter's type (a JSON value or a float) cannot hold exactly; \
                     send it as a string, or declare the parameter as an i128 or u128",
                    self.tool, wide.digits
                ))
            }
            // A position in text the host wrote means nothing to the caller.
            ExactJsonError::Json(error) if error.is_data() => ToolError::type_error(format!(
                "tool `{}`: parameter `{name}` has the wrong type: {}",
                self.tool,
                message_without_position(&error)
            )),
            ExactJsonError::Json(error) => ToolError::value_error(format!(
                "tool `{}`: parameter `{name}` is not valid JSON ({error}); the host sends each \
                 parameter as JSON text",
                self.tool
            )),
        })
    }
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(parameters: Value) -> ToolCall {
        ToolCall::for_test("basic_add", parameters, [])
    }

    #[test]
    fn decodes_required_optional_and_default_parameters() {
        let mut call = call(json!({"a": 1.5, "b": null, "c": "x"}));
        assert_eq!(call.required::<f64>("a").unwrap(), 1.5);
        assert_eq!(call.optional::<f64>("b").unwrap(), None);
        assert_eq!(call.or_default("d", || 7u32).unwrap(), 7);
        assert_eq!(call.required::<String>("c").unwrap(), "x");
        call.finish().unwrap();
    }

    #[test]
    fn a_missing_parameter_names_tool_and_parameter() {
        let error = call(json!({})).required::<f64>("a").unwrap_err();
        assert_eq!(error.type_name(), "TypeError");
        assert_eq!(
            error.message(),
            "tool `basic_add`: missing required parameter `a`; pass it in the call's parameters"
        );
    }

    #[test]
    fn a_wrong_type_is_a_type_error_and_bad_json_a_value_error() {
        let error = call(json!({"a": "five"})).required::<f64>("a").unwrap_err();
        assert_eq!(error.type_name(), "TypeError");
        assert!(
            error.message().starts_with(
                "tool `basic_add`: parameter `a` has the wrong type: invalid type: string \"five\""
            ),
            "{}",
            error.message()
        );

        let mut call = call(json!({}));
        call.parameters.insert(
            "a".into(),
            snakepit_bridge_runtime::json_any(b"not json".to_vec()),
        );
        let error = call.required::<f64>("a").unwrap_err();
        assert_eq!(error.type_name(), "ValueError");
        assert!(
            error
                .message()
                .starts_with("tool `basic_add`: parameter `a` is not valid JSON"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn unexpected_parameters_are_refused_with_a_suggestion() {
        let mut call = call(json!({"a": 1, "bb": 2}));
        let _: f64 = call.required("a").unwrap();
        let _: Option<f64> = call.optional("b").unwrap();
        let error = call.finish().unwrap_err();
        assert_eq!(error.type_name(), "TypeError");
        assert_eq!(
            error.message(),
            "tool `basic_add` got an unexpected parameter `bb`: it takes `a`, `b`; did you mean `b`?"
        );
    }

    #[test]
    fn rest_takes_everything_left_in_order() {
        let mut call = call(json!({"tool_name": "t", "n": 3, "a": [1]}));
        let _: String = call.required("tool_name").unwrap();
        assert_eq!(
            Value::Object(call.rest().unwrap()),
            json!({"a": [1], "n": 3})
        );
        call.finish().unwrap();
    }

    #[test]
    fn binary_parameters_come_from_their_own_map() {
        let mut call = ToolCall::for_test(
            "process_binary",
            json!({}),
            [("data".to_owned(), vec![1, 2])],
        );
        assert_eq!(call.binary::<Vec<u8>>("data").unwrap(), vec![1, 2]);
        let error = call.binary::<Vec<u8>>("other").unwrap_err();
        assert!(error
            .message()
            .contains("missing required binary parameter `other`"));
    }
}
