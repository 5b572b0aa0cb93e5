//! Decoding a tool's result: JSON inside an `Any`, plus binary data and metadata.

use std::collections::HashMap;
use std::time::Duration;

use prost::bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use snakepit_bridge_spec::{decode_exact, to_finite_json, ExactJsonError, FiniteJsonError};

use crate::proto::ExecuteElixirToolResponse;
use crate::Error;

/// Decodes a result's JSON bytes as `T`, telling "not JSON at all" apart from "JSON of another
/// shape".
///
/// A `serde_json::Value` holds integers only up to 64 bits and would quietly round a wider one
/// (Elixir integers are unbounded) to a float, anywhere in the result (a `Value` field, a
/// `Vec<Value>`, an `Option<Value>`): that is an error instead, naming the integer and its path
/// ([`decode_exact`](snakepit_bridge_spec::decode_exact), the rule every side of the wire follows). Typed
/// results decode wide integers exactly into `i128`/`u128` fields.
pub(crate) fn decode_json<T: DeserializeOwned>(tool: &str, json: &[u8]) -> Result<T, Error> {
    if json.is_empty() {
        return Err(Error::UndecodableResult {
            tool: tool.to_owned(),
            raw: String::new(),
            reason: "the host sent an empty result".to_owned(),
        });
    }
    decode_exact(json).map_err(|error| decode_error::<T>(tool, json, error))
}

fn decode_error<T>(tool: &str, json: &[u8], error: ExactJsonError) -> Error {
    if error.is_data() {
        Error::UnexpectedResult {
            tool: tool.to_owned(),
            expected: std::any::type_name::<T>(),
            reason: error.to_string(),
        }
    } else {
        Error::UndecodableResult {
            tool: tool.to_owned(),
            raw: String::from_utf8_lossy(json).into_owned(),
            reason: error.to_string(),
        }
    }
}

/// What is wrong with a value that cannot be sent, phrased to follow "it".
fn describe(error: &FiniteJsonError) -> String {
    match error {
        FiniteJsonError::NonFinite(_) => error.to_string(),
        FiniteJsonError::Json(error) => format!("does not serialize: {error}"),
    }
}

/// The whole answer of a successful tool call: the JSON result, binary data, metadata and the
/// host's execution time.
#[derive(Debug, Clone)]
pub struct ToolResponse {
    tool: String,
    result: Vec<u8>,
    result_type_url: String,
    binary_result: Bytes,
    metadata: HashMap<String, String>,
    execution_time: Duration,
}

impl ToolResponse {
    /// The answer of `tool` as the host sent it: the response of a successful call, or
    /// [`Error::ToolFailed`] with the host's message when `success` is false.
    pub fn from_proto(tool: &str, response: ExecuteElixirToolResponse) -> Result<Self, Error> {
        if !response.success {
            let message = if response.error_message.is_empty() {
                "the host reported a failure without a message".to_owned()
            } else {
                response.error_message
            };
            return Err(Error::ToolFailed {
                tool: tool.to_owned(),
                message,
            });
        }
        Ok(ToolResponse::new(tool, response))
    }

    fn new(tool: &str, response: ExecuteElixirToolResponse) -> Self {
        let (result, result_type_url) = match response.result {
            Some(any) => (any.value, any.type_url),
            None => (Vec::new(), String::new()),
        };
        ToolResponse {
            tool: tool.to_owned(),
            result,
            result_type_url,
            binary_result: response.binary_result,
            metadata: response.metadata,
            execution_time: Duration::from_millis(
                u64::try_from(response.execution_time_ms).unwrap_or(0),
            ),
        }
    }

    /// A successful response with `result` as its JSON result: for fake [`ToolCaller`](crate::ToolCaller)s
    /// in tests.
    ///
    /// `result` is encoded by the same rule as every value on the wire
    /// ([`to_finite_json`](snakepit_bridge_spec::to_finite_json)): a NaN or infinite float, which serde_json
    /// would write as `null`, or a value that does not serialize, is [`Error::ToolFailed`]
    /// naming the tool and what is wrong, as a host that cannot encode a tool's result fails
    /// the call.
    ///
    /// ```
    /// # extern crate snakepit_bridge_runtime as snakepit_bridge;
    /// use snakepit_bridge::ToolResponse;
    /// let response = ToolResponse::from_json("add", &3).unwrap();
    /// assert_eq!(response.decode::<u32>().unwrap(), 3);
    /// let refused = ToolResponse::from_json("ratio", &f64::NAN).unwrap_err();
    /// assert!(refused.to_string().contains("NaN"), "{refused}");
    /// ```
    pub fn from_json<T: serde::Serialize + ?Sized>(tool: &str, result: &T) -> Result<Self, Error> {
        let result = to_finite_json(result).map_err(|error| Error::ToolFailed {
            tool: tool.to_owned(),
            message: format!("its result cannot be sent as JSON: it {}", describe(&error)),
        })?;
        Ok(ToolResponse {
            tool: tool.to_owned(),
            result,
            result_type_url: super::JSON_TYPE_URL.to_owned(),
            binary_result: Bytes::new(),
            metadata: HashMap::new(),
            execution_time: Duration::ZERO,
        })
    }

    /// Sets the binary data, for fakes of tools that return bytes.
    pub fn with_binary_result(mut self, data: impl Into<Bytes>) -> Self {
        self.binary_result = data.into();
        self
    }

    /// The tool that answered.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// The result's bytes exactly as sent: JSON from a well-behaved host.
    pub fn result_bytes(&self) -> &[u8] {
        &self.result
    }

    /// The `type_url` of the result's `Any`.
    pub fn result_type_url(&self) -> &str {
        &self.result_type_url
    }

    /// The result as a JSON value.
    pub fn value(&self) -> Result<Value, Error> {
        decode_json(&self.tool, &self.result)
    }

    /// The result decoded as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode_json(&self.tool, &self.result)
    }

    /// The binary data of a tool that returns bytes (empty otherwise). `result` then holds `{}`
    /// or JSON metadata about the data.
    pub fn binary_result(&self) -> &Bytes {
        &self.binary_result
    }

    /// Takes the binary data out of the response.
    pub fn into_binary_result(self) -> Bytes {
        self.binary_result
    }

    /// The host's response metadata (snakepit puts `execution_time` here).
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    /// How long the host says the tool ran (zero when it did not say).
    pub fn execution_time(&self) -> Duration {
        self.execution_time
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Fib {
        n: u32,
        sum: u64,
    }

    #[test]
    fn decodes_json_into_the_requested_type() {
        let fib: Fib = decode_json("fib", br#"{"n":3,"sequence":[0,1,1],"sum":2}"#).unwrap();
        assert_eq!(fib, Fib { n: 3, sum: 2 });
    }

    #[test]
    fn an_elixir_term_is_undecodable_and_keeps_its_text() {
        let error = decode_json::<Value>("t", b"%{pid: #PID<0.1.0>}").unwrap_err();
        match error {
            Error::UndecodableResult { tool, raw, .. } => {
                assert_eq!(tool, "t");
                assert_eq!(raw, "%{pid: #PID<0.1.0>}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_of_the_wrong_shape_is_an_unexpected_result_naming_the_type() {
        let error = decode_json::<Fib>("fib", br#"{"n":"three"}"#).unwrap_err();
        assert!(
            matches!(&error, Error::UnexpectedResult { tool, expected, .. } if tool == "fib" && expected.ends_with("Fib")),
            "{error:?}"
        );
    }

    #[test]
    fn an_empty_result_is_a_clear_error() {
        let error = decode_json::<Value>("t", b"").unwrap_err();
        assert!(error.to_string().contains("empty result"), "{error}");
    }

    #[test]
    fn integers_wider_than_64_bits_are_refused_as_values_but_decode_into_i128() {
        let json = b"{\"big\":1180591620717411303424}";
        let error = decode_json::<Value>("t", json).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("the integer 1180591620717411303424 at `big` is wider than 64 bits"),
            "{error}"
        );
        #[derive(Deserialize)]
        struct Wide {
            big: u128,
        }
        assert_eq!(decode_json::<Wide>("t", json).unwrap().big, 1 << 70);
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Narrow {
            big: u64,
        }
        assert!(matches!(
            decode_json::<Narrow>("t", json),
            Err(Error::UnexpectedResult { reason, .. }) if reason.contains("wider than 64 bits")
        ));
    }

    #[test]
    fn the_guard_is_total_wherever_a_value_sits() {
        let json =
            br#"{"big":1180591620717411303424,"list":[1,1180591620717411303424],"small":1.5}"#;
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Field {
            big: Value,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Listed {
            list: Vec<Value>,
            small: Option<Value>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Maybe {
            big: Option<Value>,
        }
        for (error, path) in [
            (decode_json::<Field>("t", json).unwrap_err(), "big"),
            (decode_json::<Listed>("t", json).unwrap_err(), "list[1]"),
            (decode_json::<Maybe>("t", json).unwrap_err(), "big"),
            (
                decode_json::<Vec<Value>>("t", b"[1180591620717411303424]").unwrap_err(),
                "[0]",
            ),
        ] {
            assert!(matches!(error, Error::UnexpectedResult { .. }), "{error}");
            assert!(
                error.to_string().contains(&format!(
                    "the integer 1180591620717411303424 at `{path}` is wider than 64 bits"
                )),
                "{error}"
            );
        }
        // Exact where the type can hold it, and ordinary floats pass.
        #[derive(Deserialize)]
        struct Exact {
            list: Vec<i128>,
            small: f64,
        }
        let exact: Exact = decode_json("t", json).unwrap();
        assert_eq!(exact.list[1], 1 << 70);
        assert_eq!(exact.small, 1.5);
    }

    #[test]
    fn numbers_keep_their_form() {
        let value: Value = decode_json("t", b"[3.75,3,1.0e21,18446744073709551615]").unwrap();
        assert_eq!(value[0].as_f64(), Some(3.75));
        assert_eq!(value[1].as_u64(), Some(3));
        assert_eq!(value[2].as_f64(), Some(1.0e21));
        assert_eq!(value[3].as_u64(), Some(u64::MAX));
    }

    #[test]
    fn a_fakes_result_follows_the_wire_rule() {
        // serde_json writes NaN as `null`: a fake's answer must not hold what no host sends.
        let refused = ToolResponse::from_json("ratio", &json_nan()).unwrap_err();
        let text = refused.to_string();
        assert!(matches!(refused, Error::ToolFailed { ref tool, .. } if tool == "ratio"));
        assert!(
            text.contains("a NaN float at `r`, which JSON cannot carry"),
            "{text}"
        );

        let refused = ToolResponse::from_json("keys", &map_with_tuple_keys()).unwrap_err();
        assert!(
            refused.to_string().contains("does not serialize"),
            "{refused}"
        );

        let answer = ToolResponse::from_json("wide", &(1u128 << 70)).unwrap();
        assert_eq!(answer.result_bytes(), b"1180591620717411303424");
        assert_eq!(answer.result_type_url(), super::super::JSON_TYPE_URL);
    }

    fn json_nan() -> HashMap<&'static str, f64> {
        HashMap::from([("r", f64::NAN)])
    }

    fn map_with_tuple_keys() -> HashMap<(u8, u8), u8> {
        HashMap::from([((1, 2), 3)])
    }
}
