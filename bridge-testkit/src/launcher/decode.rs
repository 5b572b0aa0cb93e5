//! How the host reads a worker's answers (`lib/snakepit/grpc/client_impl.ex` and
//! `lib/snakepit/error/python_translation.ex` in snakepit v0.13.0), as plain functions.

use base64::Engine;
use serde_json::{Map, Value};

/// A result as the host decodes it: `nil`, JSON, or raw bytes that are not JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decoded {
    /// `result` unset.
    Nil,
    /// Valid JSON.
    Json(Value),
    /// Not JSON (empty bytes included): the host keeps the raw binary.
    Raw(Vec<u8>),
}

impl Decoded {
    /// Decodes `result`'s bytes (the `type_url` is ignored, as the host ignores it).
    pub fn from_result(result: Option<&prost_types::Any>) -> Decoded {
        match result {
            None => Decoded::Nil,
            Some(any) => match serde_json::from_slice(&any.value) {
                Ok(value) => Decoded::Json(value),
                Err(_) => Decoded::Raw(any.value.clone()),
            },
        }
    }

    /// As JSON, for printing: `null`, the value, or the raw text (lossy UTF-8).
    pub fn to_json(&self) -> Value {
        match self {
            Decoded::Nil => Value::Null,
            Decoded::Json(value) => value.clone(),
            Decoded::Raw(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        }
    }
}

/// A successful call as Elixir receives it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// `{:ok, decoded}`.
    Value(Decoded),
    /// `{:ok, {:binary, bytes}}`: a binary result with no meaningful JSON result.
    Binary(Vec<u8>),
    /// `{:ok, {:binary, bytes, decoded}}`.
    BinaryWith(Vec<u8>, Decoded),
}

impl Reply {
    /// The host's rules: a non-empty `binary_result` gives `{:binary, bytes}` when the result
    /// is unset, `null` or `{}`, else `{:binary, bytes, decoded}`.
    pub fn from_parts(result: Option<&prost_types::Any>, binary_result: Vec<u8>) -> Reply {
        let decoded = Decoded::from_result(result);
        if binary_result.is_empty() {
            return Reply::Value(decoded);
        }
        let empty = match &decoded {
            Decoded::Nil | Decoded::Json(Value::Null) => true,
            Decoded::Json(Value::Object(map)) => map.is_empty(),
            _ => false,
        };
        if empty {
            Reply::Binary(binary_result)
        } else {
            Reply::BinaryWith(binary_result, decoded)
        }
    }

    /// The decoded result, if any (not for a bare binary).
    pub fn value(&self) -> Option<&Decoded> {
        match self {
            Reply::Value(decoded) | Reply::BinaryWith(_, decoded) => Some(decoded),
            Reply::Binary(_) => None,
        }
    }

    /// The binary result, if any.
    pub fn binary(&self) -> Option<&[u8]> {
        match self {
            Reply::Binary(bytes) | Reply::BinaryWith(bytes, _) => Some(bytes),
            Reply::Value(_) => None,
        }
    }

    /// As JSON for printing: the value; binaries as `{"binary_base64": ..., "result": ...}`.
    pub fn to_json(&self) -> Value {
        let encode =
            |bytes: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
        match self {
            Reply::Value(decoded) => decoded.to_json(),
            Reply::Binary(bytes) => serde_json::json!({ "binary_base64": encode(bytes) }),
            Reply::BinaryWith(bytes, decoded) => {
                serde_json::json!({ "binary_base64": encode(bytes), "result": decoded.to_json() })
            }
        }
    }

    /// Whether the host would take this for a zero-copy reference (an object with
    /// `"__snakepit_zero_copy__": true`), which it then fails to decode.
    pub fn is_zero_copy_ref(&self) -> bool {
        matches!(self.value(), Some(Decoded::Json(Value::Object(map)))
            if map.get("__snakepit_zero_copy__") == Some(&Value::Bool(true)))
    }
}

/// A failed tool as the host translates `error_message` (`PythonTranslation`): a JSON object
/// with string `type` and `message` becomes `Snakepit.Error.<Type>`; anything else stays text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolFailure {
    /// A translated error.
    Translated(Box<TranslatedError>),
    /// The raw `error_message`.
    Text(String),
}

/// A translated worker error, with the fields of snakepit's error structs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TranslatedError {
    /// The Elixir module: `Snakepit.Error.ValueError`, ..., or `Snakepit.Error.PythonException`.
    pub module: String,
    /// `python_type`: the type name as sent.
    pub type_name: String,
    /// `message`.
    pub message: String,
    /// `context` (default `{}`).
    pub context: Map<String, Value>,
    /// `stacktrace` (default `[]`).
    pub stacktrace: Vec<Value>,
    /// `python_traceback` (default: the stack trace joined).
    pub traceback: String,
}

/// The type names snakepit maps to their own error structs.
pub(crate) const MAPPED_TYPES: [&str; 11] = [
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

impl ToolFailure {
    /// Translates `error_message` as the host does.
    pub fn from_error_message(text: &str) -> ToolFailure {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
            return ToolFailure::Text(text.to_owned());
        };
        let (Some(Value::String(type_name)), Some(Value::String(message))) =
            (object.get("type"), object.get("message"))
        else {
            return ToolFailure::Text(text.to_owned());
        };
        let module = if MAPPED_TYPES.contains(&type_name.as_str()) {
            format!("Snakepit.Error.{type_name}")
        } else {
            "Snakepit.Error.PythonException".to_owned()
        };
        let stacktrace = match object.get("stacktrace") {
            Some(Value::Array(lines)) => lines.clone(),
            _ => Vec::new(),
        };
        let traceback = match object.get("traceback") {
            Some(Value::String(text)) => text.clone(),
            _ => stacktrace
                .iter()
                .map(|line| {
                    line.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| line.to_string())
                })
                .collect(),
        };
        ToolFailure::Translated(Box::new(TranslatedError {
            module,
            type_name: type_name.clone(),
            message: message.clone(),
            context: match object.get("context") {
                Some(Value::Object(context)) => context.clone(),
                _ => Map::new(),
            },
            stacktrace,
            traceback,
        }))
    }
}

impl std::fmt::Display for ToolFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolFailure::Translated(error) => write!(
                f,
                "{} ({}): {}",
                error.module, error.type_name, error.message
            ),
            ToolFailure::Text(text) => f.write_str(text),
        }
    }
}

/// The map a streaming chunk becomes for the Elixir callback: an empty chunk `{}`, a JSON
/// object as is, other JSON as `{"data": value}`, non-JSON as `{"raw_data_base64": ...}`; then
/// `"is_final"` set (over any such key) and `"_metadata"` added when the chunk has metadata.
pub(crate) fn chunk_payload(
    chunk: &snakepit_bridge_runtime::proto::ToolChunk,
) -> Map<String, Value> {
    let mut payload = if chunk.data.is_empty() {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&chunk.data) {
            Ok(Value::Object(map)) => map,
            Ok(other) => Map::from_iter([("data".to_owned(), other)]),
            Err(_) => Map::from_iter([(
                "raw_data_base64".to_owned(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(&chunk.data)),
            )]),
        }
    };
    payload.insert("is_final".to_owned(), Value::Bool(chunk.is_final));
    if !chunk.metadata.is_empty() {
        let metadata: Map<String, Value> = chunk
            .metadata
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect();
        payload.insert("_metadata".to_owned(), Value::Object(metadata));
    }
    payload
}

/// The atom the host maps a gRPC status code to on unary calls, if any.
pub(crate) fn status_atom(code: tonic::Code) -> Option<&'static str> {
    match code {
        tonic::Code::InvalidArgument => Some("invalid_argument"),
        tonic::Code::DeadlineExceeded => Some("timeout"),
        tonic::Code::NotFound => Some("not_found"),
        tonic::Code::Internal => Some("internal"),
        tonic::Code::Unavailable => Some("unavailable"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use snakepit_bridge_runtime::proto::ToolChunk;

    use super::*;

    fn any(bytes: &[u8]) -> prost_types::Any {
        prost_types::Any {
            type_url: "type.googleapis.com/snakepit.float".into(),
            value: bytes.to_vec(),
        }
    }

    #[test]
    fn results_decode_as_the_host_decodes_them() {
        assert_eq!(Reply::from_parts(None, vec![]), Reply::Value(Decoded::Nil));
        assert_eq!(
            Reply::from_parts(Some(&any(b"3.0")), vec![]),
            Reply::Value(Decoded::Json(json!(3.0)))
        );
        assert_eq!(
            Reply::from_parts(Some(&any(b"")), vec![]),
            Reply::Value(Decoded::Raw(vec![]))
        );
        assert_eq!(
            Reply::from_parts(Some(&any(b"{}")), vec![1]),
            Reply::Binary(vec![1])
        );
        assert_eq!(Reply::from_parts(None, vec![1]), Reply::Binary(vec![1]));
        assert_eq!(
            Reply::from_parts(Some(&any(b"")), vec![1]),
            Reply::BinaryWith(vec![1], Decoded::Raw(vec![]))
        );
        assert!(
            Reply::from_parts(Some(&any(br#"{"__snakepit_zero_copy__":true}"#)), vec![])
                .is_zero_copy_ref()
        );
    }

    #[test]
    fn errors_translate_as_python_translation_does() {
        let ToolFailure::Translated(error) = ToolFailure::from_error_message(
            r#"{"type":"ValueError","message":"bad","stacktrace":["a\n","b\n"],"context":{"tool_name":"t"}}"#,
        ) else {
            panic!("translated")
        };
        assert_eq!(error.module, "Snakepit.Error.ValueError");
        assert_eq!(error.traceback, "a\nb\n");
        assert_eq!(error.context["tool_name"], "t");
        let ToolFailure::Translated(other) =
            ToolFailure::from_error_message(r#"{"type":"Exception","message":"m"}"#)
        else {
            panic!("translated")
        };
        assert_eq!(other.module, "Snakepit.Error.PythonException");
        assert_eq!(
            ToolFailure::from_error_message("plain"),
            ToolFailure::Text("plain".into())
        );
        assert_eq!(
            ToolFailure::from_error_message(r#"{"type":1,"message":"m"}"#),
            ToolFailure::Text(r#"{"type":1,"message":"m"}"#.into())
        );
    }

    #[test]
    fn chunks_become_the_callbacks_maps() {
        let chunk = |data: &[u8], is_final| ToolChunk {
            chunk_id: "t-1".into(),
            data: data.to_vec(),
            is_final,
            metadata: Default::default(),
        };
        assert_eq!(
            Value::Object(chunk_payload(&chunk(
                br#"{"index":1,"is_final":true}"#,
                false
            ))),
            json!({"index": 1, "is_final": false})
        );
        assert_eq!(
            Value::Object(chunk_payload(&chunk(b"[1]", true))),
            json!({"data": [1], "is_final": true})
        );
        assert_eq!(
            Value::Object(chunk_payload(&chunk(b"", true))),
            json!({"is_final": true})
        );
        assert_eq!(
            Value::Object(chunk_payload(&chunk(b"\xff", false))),
            json!({"raw_data_base64": "/w==", "is_final": false})
        );
        let mut with_metadata = chunk(b"{}", false);
        with_metadata.metadata.insert("k".into(), "v".into());
        assert_eq!(
            Value::Object(chunk_payload(&with_metadata)),
            json!({"is_final": false, "_metadata": {"k": "v"}})
        );
    }
}
