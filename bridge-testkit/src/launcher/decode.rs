//! How the host reads a worker's answers (`lib/snakepit/grpc/client_impl.ex` and
//! `lib/snakepit/error/python_translation.ex` in snakepit v0.13.0), as plain functions.

use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
pub use snakepit_bridge_spec::TranslatedError;
use snakepit_bridge_spec::{decode_exact, read_error_json, ExactJsonError, WideInteger};

/// A result as the host decodes it: `nil`, JSON, or raw bytes that are not JSON.
///
/// Integers are exact, as the host's JSON library (Jason) keeps them: JSON holding an integer
/// wider than 64 bits, which a `serde_json::Value` cannot hold, is [`Decoded::WideJson`] (the
/// text as sent, never a rounded float); [`Decoded::decode`] reads it into a type with `i128`
/// or `u128` fields.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Decoded {
    /// `result` unset.
    Nil,
    /// Valid JSON, every integer within 64 bits.
    Json(Value),
    /// Valid JSON holding an integer wider than 64 bits: the host decodes it exactly (an Elixir
    /// integer), which a `Value` cannot. The JSON text as the worker sent it, and the first
    /// such integer with its path.
    WideJson {
        /// The JSON text as sent.
        text: String,
        /// The first integer wider than 64 bits, and where it sits.
        wide: WideInteger,
    },
    /// Not JSON (empty bytes included): the host keeps the raw binary.
    Raw(Vec<u8>),
}

impl Decoded {
    /// Decodes `result`'s bytes (the `type_url` is ignored, as the host ignores it), by the
    /// rule of every side of the wire ([`decode_exact`]).
    pub fn from_result(result: Option<&prost_types::Any>) -> Decoded {
        let Some(any) = result else {
            return Decoded::Nil;
        };
        match decode_exact(&any.value) {
            Ok(value) => Decoded::Json(value),
            Err(ExactJsonError::WideInteger(wide)) => match String::from_utf8(any.value.clone()) {
                Ok(text) => Decoded::WideJson { text, wide },
                Err(_) => Decoded::Raw(any.value.clone()),
            },
            Err(ExactJsonError::Json(_)) => Decoded::Raw(any.value.clone()),
        }
    }

    /// The JSON result as `T`, integers exact: a field of type `i128` or `u128` takes an integer
    /// wider than 64 bits, which anything that would round it (a `Value`, an `f64`) refuses
    /// with its path. `Nil` decodes as JSON `null`; raw bytes as they are (an error unless
    /// they are JSON).
    ///
    /// ```
    /// # mod snakepit_bridge { pub use snakepit_bridge_runtime::*; pub mod testkit { pub use snakepit_bridge_testkit::{host, launcher}; } }
    /// use snakepit_bridge::testkit::launcher::Decoded;
    /// let any = prost_types::Any { type_url: String::new(), value: b"[1180591620717411303424]".to_vec() };
    /// let decoded = Decoded::from_result(Some(&any));
    /// assert!(matches!(decoded, Decoded::WideJson { .. }));
    /// assert_eq!(decoded.decode::<Vec<u128>>().unwrap(), vec![1u128 << 70]);
    /// let refused = decoded.decode::<serde_json::Value>().unwrap_err();
    /// assert!(refused.to_string().contains("at `[0]` is wider than 64 bits"), "{refused}");
    /// ```
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ExactJsonError> {
        match self {
            Decoded::Nil => decode_exact(b"null"),
            Decoded::Json(value) => decode_exact(value.to_string().as_bytes()),
            Decoded::WideJson { text, .. } => decode_exact(text.as_bytes()),
            Decoded::Raw(bytes) => decode_exact(bytes),
        }
    }

    /// The result as JSON text, exact: `null`, the value, the text as sent for
    /// [`Decoded::WideJson`], or the raw bytes as a JSON string (lossy UTF-8).
    pub fn to_json_text(&self) -> String {
        match self {
            Decoded::WideJson { text, .. } => text.trim().to_owned(),
            other => other.to_json().to_string(),
        }
    }

    /// As a JSON value, for printing: `null`, the value, or the raw text (lossy UTF-8). A
    /// `Value` cannot hold an integer wider than 64 bits: [`Decoded::WideJson`] gives its text
    /// as a JSON string here (never a rounded number); [`Decoded::to_json_text`] and
    /// [`Decoded::decode`] keep it exact.
    pub fn to_json(&self) -> Value {
        match self {
            Decoded::Nil => Value::Null,
            Decoded::Json(value) => value.clone(),
            Decoded::WideJson { text, .. } => Value::String(text.clone()),
            Decoded::Raw(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        }
    }
}

impl std::fmt::Display for Decoded {
    /// The exact JSON text ([`Decoded::to_json_text`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json_text())
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

    /// The reply as exact JSON text: the value ([`Decoded::to_json_text`]); binaries as
    /// `{"binary_base64": ..., "result": ...}`. Also the reply's `Display`.
    pub fn to_json_text(&self) -> String {
        let encode = |bytes: &[u8]| {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)).to_string()
        };
        match self {
            Reply::Value(decoded) => decoded.to_json_text(),
            Reply::Binary(bytes) => format!("{{\"binary_base64\":{}}}", encode(bytes)),
            Reply::BinaryWith(bytes, decoded) => format!(
                "{{\"binary_base64\":{},\"result\":{}}}",
                encode(bytes),
                decoded.to_json_text()
            ),
        }
    }

    /// As a JSON value for printing: the value; binaries as `{"binary_base64": ...,
    /// "result": ...}`. See [`Decoded::to_json`] for integers wider than 64 bits, which
    /// [`Reply::to_json_text`] keeps exact.
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

impl std::fmt::Display for Reply {
    /// The exact JSON text ([`Reply::to_json_text`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json_text())
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

impl ToolFailure {
    /// Translates `error_message` as the host does, by the one reader of the error JSON
    /// ([`read_error_json`], tested against the worker's writer).
    pub fn from_error_message(text: &str) -> ToolFailure {
        match read_error_json(text) {
            Some(error) => ToolFailure::Translated(Box::new(error)),
            None => ToolFailure::Text(text.to_owned()),
        }
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
///
/// Integers are exact, as the host decodes them: a chunk holding one wider than 64 bits, which
/// the callback's `Value`s cannot hold, is refused naming it (never handed over rounded).
pub(crate) fn chunk_payload(
    chunk: &snakepit_bridge_runtime::proto::ToolChunk,
) -> Result<Map<String, Value>, WideInteger> {
    let mut payload = if chunk.data.is_empty() {
        Map::new()
    } else {
        match decode_exact::<Value>(&chunk.data) {
            Ok(Value::Object(map)) => map,
            Ok(other) => Map::from_iter([("data".to_owned(), other)]),
            Err(ExactJsonError::WideInteger(wide)) => return Err(wide),
            Err(ExactJsonError::Json(_)) => Map::from_iter([(
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
    Ok(payload)
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
    fn wide_integers_stay_exact_never_rounded() {
        let wide = br#"{"n":1180591620717411303424,"list":[1,-1180591620717411303424]}"#;
        let decoded = Decoded::from_result(Some(&any(wide)));
        let Decoded::WideJson { text, wide: first } = &decoded else {
            panic!("not rounded into a Value: {decoded:?}")
        };
        assert_eq!(text.as_bytes(), wide);
        assert_eq!(first.digits, "1180591620717411303424");
        assert_eq!(first.path.to_string(), "n");
        // Exact into a type that holds it; refused, with its path, by one that would round it.
        #[derive(serde::Deserialize)]
        struct Exact {
            n: u128,
            list: Vec<i128>,
        }
        let exact: Exact = decoded.decode().unwrap();
        assert_eq!((exact.n, exact.list[1]), (1 << 70, -(1 << 70)));
        let refused = decoded.decode::<Value>().unwrap_err().to_string();
        assert!(
            refused.contains("1180591620717411303424 at `n`"),
            "{refused}"
        );
        // Printed exactly, in a reply too.
        let reply = Reply::from_parts(Some(&any(wide)), vec![]);
        assert_eq!(reply.to_string(), String::from_utf8_lossy(wide));
        assert_eq!(
            Reply::from_parts(Some(&any(b"[18446744073709551616]")), vec![7]).to_json_text(),
            r#"{"binary_base64":"Bw==","result":[18446744073709551616]}"#
        );
        // Within 64 bits: a Value as before.
        assert_eq!(
            Decoded::from_result(Some(&any(b"[18446744073709551615,-9223372036854775808]"))),
            Decoded::Json(json!([u64::MAX, i64::MIN]))
        );
    }

    #[test]
    fn the_launcher_reads_the_error_json_as_the_worker_writes_it() {
        use snakepit_bridge_spec::{write_error_json, ErrorJson, TRANSLATED_ERROR_TYPES};
        for type_name in TRANSLATED_ERROR_TYPES.iter().copied().chain(["OSError"]) {
            let mut error = ErrorJson::new(type_name, "went wrong");
            error.stacktrace = vec!["at f".to_owned()];
            let text = write_error_json(&error, "tool", "session");
            let ToolFailure::Translated(read) = ToolFailure::from_error_message(&text) else {
                panic!("translated: {text}")
            };
            assert_eq!(Some(*read), read_error_json(&text), "{text}");
        }
        // The host's defaults where a worker sends less (one reader for every side).
        for text in [
            r#"{"type":"E","message":"m","stacktrace":"x"}"#,
            r#"{"type":"E","message":"m","context":null,"traceback":false}"#,
            r#"{"type":"ValueError","message":"m","context":"c"}"#,
        ] {
            let ToolFailure::Translated(read) = ToolFailure::from_error_message(text) else {
                panic!("translated: {text}")
            };
            assert_eq!(Some(*read), read_error_json(text), "{text}");
        }
        let stacktrace_text =
            ToolFailure::from_error_message(r#"{"type":"E","message":"m","stacktrace":"x"}"#);
        let ToolFailure::Translated(read) = stacktrace_text else {
            panic!("translated")
        };
        assert_eq!((read.stacktrace, read.traceback), (json!("x"), Value::Null));
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

    fn chunk_payload_ok(chunk: &ToolChunk) -> Map<String, Value> {
        chunk_payload(chunk).unwrap()
    }

    #[test]
    fn a_chunk_with_a_wide_integer_is_refused_naming_it() {
        let chunk = ToolChunk {
            chunk_id: "t-1".into(),
            data: br#"{"n":[1180591620717411303424]}"#.to_vec(),
            is_final: false,
            metadata: Default::default(),
        };
        let wide = chunk_payload(&chunk).unwrap_err();
        assert_eq!(
            (wide.digits.as_str(), wide.path.to_string()),
            ("1180591620717411303424", "n[0]".to_owned())
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
            Value::Object(chunk_payload_ok(&chunk(
                br#"{"index":1,"is_final":true}"#,
                false
            ))),
            json!({"index": 1, "is_final": false})
        );
        assert_eq!(
            Value::Object(chunk_payload_ok(&chunk(b"[1]", true))),
            json!({"data": [1], "is_final": true})
        );
        assert_eq!(
            Value::Object(chunk_payload_ok(&chunk(b"", true))),
            json!({"is_final": true})
        );
        assert_eq!(
            Value::Object(chunk_payload_ok(&chunk(b"\xff", false))),
            json!({"raw_data_base64": "/w==", "is_final": false})
        );
        let mut with_metadata = chunk(b"{}", false);
        with_metadata.metadata.insert("k".into(), "v".into());
        assert_eq!(
            Value::Object(chunk_payload_ok(&with_metadata)),
            json!({"is_final": false, "_metadata": {"k": "v"}})
        );
    }
}
