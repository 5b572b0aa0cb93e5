//! A tool's failure, and how it travels to the host: `success = false` with `error_message` a
//! JSON object `{type, message, stacktrace, traceback, context}`, which snakepit turns into
//! `Snakepit.Error.<type>` (snakepit's `lib/snakepit/error/python_translation.ex`). The JSON is
//! written by [`snakepit_bridge_spec::write_error_json`], the writer the host emulation's reader
//! is tested against.

use std::fmt;

use serde_json::Value;
use snakepit_bridge_spec::{write_error_json, ErrorJson};

/// Why a tool call failed: a type name the host maps to an Elixir error struct, and a message.
///
/// snakepit maps the type names of
/// [`TRANSLATED_ERROR_TYPES`](snakepit_bridge_spec::TRANSLATED_ERROR_TYPES) (`ValueError`,
/// `KeyError`, `TypeError`, `RuntimeError`, ...) to `Snakepit.Error.<type>`, and
/// any other type to `Snakepit.Error.PythonException` (with the type name kept in
/// `python_type`).
///
/// ```
/// use snakepit_bridge::worker::ToolError;
/// let error = ToolError::value_error("n must be positive");
/// assert_eq!(error.type_name(), "ValueError");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    error: ErrorJson,
    /// Raised outside the tool's code, which does not know the tool's name (its result could
    /// not be sent, ...): the message sent to the host starts with the tool's name.
    raised_outside_the_tool: bool,
}

impl ToolError {
    /// A failure of type `type_name` (e.g. `"ValueError"`).
    pub fn new(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        ToolError {
            error: ErrorJson::new(type_name, message),
            raised_outside_the_tool: false,
        }
    }

    /// The failure of a call to a tool `T` does not serve, worded as snakepit's Python worker
    /// words it (`AttributeError`), with the closest name and the tools `T` serves: what a
    /// hand-written [`ToolSet::invoke`](crate::ToolSet::invoke) answers for a name it does not
    /// know.
    pub fn unknown_tool<T: crate::ToolSet>(name: &str) -> Self {
        let tools = crate::toolset::built::<T>();
        let names: Vec<&str> = tools
            .definitions
            .iter()
            .map(|tool| tool.name.as_str())
            .collect();
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

    /// A failure raised outside the tool's code, where the tool's name is not known: the
    /// message sent to the host is prefixed with it.
    pub(crate) fn outside_the_tool(mut self) -> Self {
        self.raised_outside_the_tool = true;
        self
    }

    /// `ValueError`: an argument has the right type but a bad value.
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// `TypeError`: an argument of the wrong type, missing or unexpected.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// `RuntimeError`: anything else that went wrong.
    pub fn runtime_error(message: impl Into<String>) -> Self {
        Self::new("RuntimeError", message)
    }

    /// `KeyError`: a key that does not exist.
    pub fn key_error(message: impl Into<String>) -> Self {
        Self::new("KeyError", message)
    }

    /// `NotImplementedError`.
    pub fn not_implemented(message: impl Into<String>) -> Self {
        Self::new("NotImplementedError", message)
    }

    /// Adds an entry to the error's `context` map (merged with `tool_name` and `session_id`).
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.error.context.insert(key.into(), value.into());
        self
    }

    /// Adds a line to the error's stack trace.
    pub fn with_stack_line(mut self, line: impl Into<String>) -> Self {
        self.error.stacktrace.push(line.into());
        self
    }

    /// The type name.
    pub fn type_name(&self) -> &str {
        &self.error.type_name
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.error.message
    }

    /// The `error_message` JSON the host expects, for a call of `tool` in `session`
    /// ([`write_error_json`]: `tool_name` and `session_id` join the context). A failure raised
    /// outside the tool's code (its result could not be sent) names the tool in its message.
    pub fn to_error_message(&self, tool: &str, session: &str) -> String {
        if self.raised_outside_the_tool {
            let mut error = self.error.clone();
            error.message = format!("tool `{tool}`: {}", error.message);
            write_error_json(&error, tool, session)
        } else {
            write_error_json(&self.error, tool, session)
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error.type_name, self.error.message)
    }
}

impl std::error::Error for ToolError {}

/// A failed call back into Elixir fails the tool with `RuntimeError` and the call's message.
impl From<snakepit_bridge_runtime::Error> for ToolError {
    fn from(error: snakepit_bridge_runtime::Error) -> Self {
        ToolError::runtime_error(error.to_string())
    }
}

/// JSON that does not fit fails the tool with `ValueError`.
impl From<serde_json::Error> for ToolError {
    fn from(error: serde_json::Error) -> Self {
        ToolError::value_error(error.to_string())
    }
}

/// I/O errors fail the tool with Python's names: `FileNotFoundError`, `PermissionError`, else
/// `OSError`.
impl From<std::io::Error> for ToolError {
    fn from(error: std::io::Error) -> Self {
        let type_name = match error.kind() {
            std::io::ErrorKind::NotFound => "FileNotFoundError",
            std::io::ErrorKind::PermissionDenied => "PermissionError",
            _ => "OSError",
        };
        ToolError::new(type_name, error.to_string())
    }
}

/// A plain message fails the tool with `RuntimeError`.
impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::runtime_error(message)
    }
}

/// A plain message fails the tool with `RuntimeError`.
impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::runtime_error(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    #[test]
    fn the_error_message_is_the_json_the_host_translates() {
        let error = ToolError::value_error("This is a demonstration ValueError")
            .with_context("function", "f");
        let text = error.to_error_message("error_demo", "session_1_2");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "ValueError");
        assert_eq!(value["message"], "This is a demonstration ValueError");
        assert_eq!(value["stacktrace"], json!([]));
        assert_eq!(
            value["traceback"],
            "ValueError: This is a demonstration ValueError\n"
        );
        assert_eq!(
            value["context"],
            json!({"tool_name": "error_demo", "session_id": "session_1_2", "function": "f"})
        );
        let read = snakepit_bridge_spec::read_error_json(&text).unwrap();
        assert_eq!(read.module, "Snakepit.Error.ValueError");
        assert_eq!(read.message, "This is a demonstration ValueError");
    }

    #[test]
    fn a_failure_outside_the_tool_names_the_tool_on_the_wire() {
        let error = ToolError::value_error("the result holds a NaN").outside_the_tool();
        assert_eq!(error.message(), "the result holds a NaN");
        let read =
            snakepit_bridge_spec::read_error_json(&error.to_error_message("t", "s")).unwrap();
        assert_eq!(read.message, "tool `t`: the result holds a NaN");
    }

    #[test]
    fn conversions_pick_pythons_type_names() {
        let not_found = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        assert_eq!(ToolError::from(not_found).type_name(), "FileNotFoundError");
        assert_eq!(ToolError::from("boom").type_name(), "RuntimeError");
        let json_error = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(ToolError::from(json_error).type_name(), "ValueError");
    }
}
