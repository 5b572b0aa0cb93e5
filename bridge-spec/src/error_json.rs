//! The error JSON: how a worker's failure travels in `ExecuteToolResponse.error_message`, written
//! by the worker and read as snakepit's host reads it. One writer, one reader, one list of the
//! type names the host translates, tested against each other.
//!
//! The host's rules are `Snakepit.Error.PythonTranslation` (snakepit v0.13.0,
//! `lib/snakepit/error/python_translation.ex`, called from `lib/snakepit/grpc/client_impl.ex`
//! `handle_tool_response/1`); the error structs are in `lib/snakepit/error/python_exceptions.ex`;
//! the shape snakepit's own worker writes is `_build_error_payload` in
//! `priv/python/grpc_server.py`.

use serde_json::{json, Map, Value};

/// The type names snakepit translates into error structs of their own,
/// `Snakepit.Error.<type name>`; any other type becomes `Snakepit.Error.PythonException`
/// (the `@mapping` of `lib/snakepit/error/python_translation.ex`).
pub const TRANSLATED_ERROR_TYPES: [&str; 11] = [
    "ValueError",
    "KeyError",
    "IndexError",
    "TypeError",
    "AttributeError",
    "ImportError",
    "RuntimeError",
    "NotImplementedError",
    "FileNotFoundError",
    "PermissionError",
    "ZeroDivisionError",
];

/// The Elixir error module the host makes of a type name.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::elixir_error_module;
/// assert_eq!(elixir_error_module("KeyError"), "Snakepit.Error.KeyError");
/// assert_eq!(elixir_error_module("OSError"), "Snakepit.Error.PythonException");
/// ```
pub fn elixir_error_module(type_name: &str) -> String {
    if TRANSLATED_ERROR_TYPES.contains(&type_name) {
        format!("Snakepit.Error.{type_name}")
    } else {
        "Snakepit.Error.PythonException".to_owned()
    }
}

/// A failure as a worker reports it: a type name, a message, a stack trace and context.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ErrorJson {
    /// The type name (`ValueError`, ...; see [`TRANSLATED_ERROR_TYPES`]).
    pub type_name: String,
    /// The message.
    pub message: String,
    /// The stack trace, one line an entry.
    pub stacktrace: Vec<String>,
    /// Context entries (the writer adds `tool_name` and `session_id`).
    pub context: Map<String, Value>,
}

impl ErrorJson {
    /// A failure of type `type_name` with `message`, no stack trace and no context.
    pub fn new(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorJson {
            type_name: type_name.into(),
            message: message.into(),
            ..ErrorJson::default()
        }
    }
}

/// The `error_message` text for `error`, raised by a call of `tool` in `session`: the JSON
/// object `{type, message, stacktrace, traceback, context}` snakepit's Python worker writes,
/// with `tool_name` and `session_id` in the context (over entries of those names), and a
/// traceback that is the stack trace's lines, or `<type>: <message>` without one.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::{read_error_json, write_error_json, ErrorJson};
/// let text = write_error_json(&ErrorJson::new("ValueError", "n must be positive"), "fib", "s1");
/// let read = read_error_json(&text).unwrap();
/// assert_eq!(read.module, "Snakepit.Error.ValueError");
/// assert_eq!(read.context["tool_name"], "fib");
/// ```
pub fn write_error_json(error: &ErrorJson, tool: &str, session: &str) -> String {
    let mut context = error.context.clone();
    context.insert("tool_name".to_owned(), Value::from(tool));
    context.insert("session_id".to_owned(), Value::from(session));
    let traceback: String = if error.stacktrace.is_empty() {
        format!("{}: {}\n", error.type_name, error.message)
    } else {
        error
            .stacktrace
            .iter()
            .map(|line| {
                if line.ends_with('\n') {
                    line.clone()
                } else {
                    format!("{line}\n")
                }
            })
            .collect()
    };
    json!({
        "type": error.type_name,
        "message": error.message,
        "stacktrace": error.stacktrace,
        "traceback": traceback,
        "context": context,
    })
    .to_string()
}

/// A worker's error as the host translates it: the fields of snakepit's error structs.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslatedError {
    /// The Elixir module: `Snakepit.Error.ValueError`, ..., or `Snakepit.Error.PythonException`
    /// (see [`elixir_error_module`]).
    pub module: String,
    /// `python_type`: the type name as sent.
    pub type_name: String,
    /// `message`.
    pub message: String,
    /// `context`: the value sent (an object from a well-behaved worker), `{}` when missing,
    /// `null` or `false`.
    pub context: Value,
    /// `stacktrace`: the value sent (a list of lines from a well-behaved worker), `[]` when
    /// missing, `null` or `false`.
    pub stacktrace: Value,
    /// `python_traceback`: the `traceback` sent; when missing, the stack trace's entries joined
    /// with nothing between them (text as is, `null` as nothing, other values as JSON text);
    /// `null` (Elixir's `nil`) when neither is there.
    pub traceback: Value,
}

/// Reads `error_message` as snakepit's host does: JSON text of an object whose `type` and
/// `message` are strings is a [`TranslatedError`]; anything else (plain text, other JSON) is
/// `None`, and the host hands the raw text to the caller.
///
/// The host treats `null` and `false` like a missing key (Elixir's `||`).
pub fn read_error_json(text: &str) -> Option<TranslatedError> {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let mut take = |key: &str| object.remove(key).filter(is_truthy);
    let (Some(Value::String(type_name)), Some(Value::String(message))) =
        (take("type"), take("message"))
    else {
        return None;
    };
    let context = take("context").unwrap_or_else(|| Value::Object(Map::new()));
    let stacktrace = take("stacktrace").unwrap_or_else(|| Value::Array(Vec::new()));
    let traceback = take("traceback").unwrap_or_else(|| join_stacktrace(&stacktrace));
    Some(TranslatedError {
        module: elixir_error_module(&type_name),
        type_name,
        message,
        context,
        stacktrace,
        traceback,
    })
}

/// Elixir's truthiness: everything but `nil` and `false`.
fn is_truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// `Enum.map_join(stacktrace, "", &to_string/1)` for a list, `nil` for anything else.
fn join_stacktrace(stacktrace: &Value) -> Value {
    let Value::Array(lines) = stacktrace else {
        return Value::Null;
    };
    Value::String(
        lines
            .iter()
            .map(|line| match line {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_with(stack: &[&str]) -> ErrorJson {
        let mut error = ErrorJson::new("ValueError", "This is a demonstration ValueError");
        error.stacktrace = stack.iter().map(|line| (*line).to_owned()).collect();
        error.context.insert("function".into(), Value::from("f"));
        error
    }

    #[test]
    fn writes_the_json_snakepits_python_worker_writes() {
        let text = write_error_json(&error_with(&[]), "error_demo", "session_1_2");
        assert_eq!(
            text,
            r#"{"context":{"function":"f","session_id":"session_1_2","tool_name":"error_demo"},"message":"This is a demonstration ValueError","stacktrace":[],"traceback":"ValueError: This is a demonstration ValueError\n","type":"ValueError"}"#
        );
        let with_stack = write_error_json(&error_with(&["a", "b\n"]), "t", "s");
        let value: Value = serde_json::from_str(&with_stack).unwrap();
        assert_eq!(value["stacktrace"], json!(["a", "b\n"]));
        assert_eq!(value["traceback"], "a\nb\n");
    }

    #[test]
    fn what_is_written_reads_back_as_the_host_translates_it() {
        for type_name in TRANSLATED_ERROR_TYPES
            .iter()
            .copied()
            .chain(["OSError", ""])
        {
            let mut error = error_with(&["line 1", "line 2"]);
            error.type_name = type_name.to_owned();
            error.message = "msg \"quoted\" ✓".to_owned();
            error
                .context
                .insert("tool_name".into(), Value::from("overridden"));
            let read = read_error_json(&write_error_json(&error, "tool", "sess")).unwrap();
            assert_eq!(read.type_name, type_name);
            assert_eq!(read.module, elixir_error_module(type_name));
            assert_eq!(read.message, error.message);
            assert_eq!(read.stacktrace, json!(["line 1", "line 2"]));
            assert_eq!(read.traceback, "line 1\nline 2\n");
            assert_eq!(
                read.context,
                json!({"function": "f", "tool_name": "tool", "session_id": "sess"})
            );
        }
        assert_eq!(
            read_error_json(&write_error_json(&ErrorJson::new("X", "m"), "t", "s"))
                .unwrap()
                .module,
            "Snakepit.Error.PythonException"
        );
    }

    #[test]
    fn reads_what_the_host_reads_with_its_defaults() {
        // Python's own payload.
        let read = read_error_json(
            r#"{"type":"ValueError","message":"bad","stacktrace":["a\n","b\n"],"context":{"tool_name":"t"}}"#,
        )
        .unwrap();
        assert_eq!(read.module, "Snakepit.Error.ValueError");
        assert_eq!(read.traceback, "a\nb\n");
        assert_eq!(read.context["tool_name"], "t");
        // Defaults: `nil` and `false` count as missing; a stack trace of other values joins
        // their text; no list, no traceback.
        let read = read_error_json(
            r#"{"type":"Exception","message":"m","context":null,"stacktrace":false}"#,
        )
        .unwrap();
        assert_eq!(read.module, "Snakepit.Error.PythonException");
        assert_eq!(read.context, json!({}));
        assert_eq!(read.stacktrace, json!([]));
        assert_eq!(read.traceback, "");
        let read = read_error_json(r#"{"type":"E","message":"m","stacktrace":["a",1,null,true]}"#)
            .unwrap();
        assert_eq!(read.traceback, "a1true");
        let read = read_error_json(r#"{"type":"E","message":"m","stacktrace":"x"}"#).unwrap();
        assert_eq!(read.traceback, Value::Null);
        assert_eq!(read.stacktrace, "x");
        let read = read_error_json(r#"{"type":"E","message":"m","context":"c"}"#).unwrap();
        assert_eq!(read.context, "c");
    }

    #[test]
    fn anything_else_stays_text() {
        for text in [
            "plain",
            "",
            "[1]",
            r#"{"type":1,"message":"m"}"#,
            r#"{"type":"ValueError"}"#,
            r#"{"type":"ValueError","message":null}"#,
            r#"{"type":false,"message":"m"}"#,
        ] {
            assert_eq!(read_error_json(text), None, "{text}");
        }
    }
}
