//! Encoding a call's parameters: a JSON object, each value JSON inside an `Any`.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::json_any;
use super::split::{split_fields, SplitError};
use crate::Error;
use snakepit_bridge_spec::{
    decode_exact, find_non_finite, holds_null, to_finite_json, FiniteJsonError, PathSegment,
};

/// The parameters of one tool call, encoded for the wire.
///
/// Build it from any `Serialize` value that serializes to a JSON object
/// ([`Parameters::from_serialize`]), or one parameter at a time ([`Parameters::insert`]), which
/// is what the `#[elixir_tools]` macro does.
///
/// ```
/// # extern crate snakepit_bridge_runtime as snakepit_bridge;
/// use snakepit_bridge::Parameters;
/// let mut params = Parameters::new();
/// params.insert("n", &10).unwrap();
/// assert_eq!(params.json("n"), Some(&b"10"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters {
    values: HashMap<String, prost_types::Any>,
}

/// Why parameters could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterError {
    /// The offending parameter, when one is to blame.
    pub parameter: Option<String>,
    /// What is wrong with it, phrased to follow the parameter's name.
    pub reason: String,
}

impl ParameterError {
    /// The error for a call of `tool`.
    pub fn for_tool(self, tool: &str) -> Error {
        Error::InvalidParameters {
            tool: tool.to_owned(),
            parameter: self.parameter,
            reason: self.reason,
        }
    }
}

impl fmt::Display for ParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parameter {
            Some(name) => write!(f, "parameter `{name}` {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for ParameterError {}

impl Parameters {
    /// No parameters.
    pub fn new() -> Self {
        Parameters::default()
    }

    /// Room for `capacity` parameters.
    pub fn with_capacity(capacity: usize) -> Self {
        Parameters {
            values: HashMap::with_capacity(capacity),
        }
    }

    /// The parameters of a value that serializes to a JSON object: a struct, a map with string
    /// keys, or a `serde_json::json!({...})` object. Each field becomes one parameter.
    pub fn from_serialize<P: Serialize + ?Sized>(params: &P) -> Result<Self, ParameterError> {
        // Each field serialized once, straight into its own JSON text: no whole-object text to
        // parse apart, and no `Value` tree, so integers of any width and floats keep their
        // exact text.
        let fields = split_fields(params).map_err(|error| match error {
            SplitError::NotAnObject(what) => ParameterError {
                parameter: None,
                reason: format!(
                    "parameters must serialize to a JSON object of named values (a struct or a \
                     map), but they serialized to {what}"
                ),
            },
            SplitError::KeyNotText => ParameterError {
                parameter: None,
                reason: "parameters must serialize to a JSON object of named values (a struct or \
                         a map), but they serialized to an object with keys that are not strings"
                    .to_owned(),
            },
            SplitError::Field(name, error) => serialize_error(&name, error),
            SplitError::Custom(message) => ParameterError {
                parameter: None,
                reason: format!("could not be serialized to JSON: {message}"),
            },
        })?;
        if fields.iter().any(|(_, json)| holds_null(json)) {
            if let Some(found) = find_non_finite(params) {
                let parameter = match found.path.segments().first() {
                    Some(PathSegment::Key(name)) => Some(name.clone()),
                    _ => None,
                };
                return Err(non_finite_error(
                    parameter,
                    &found.describe(),
                    &found.path.to_string(),
                ));
            }
        }
        let mut encoded = Parameters::with_capacity(fields.len());
        for (name, json) in fields {
            encoded.values.insert(name, json_any(json));
        }
        Ok(encoded)
    }

    /// Adds (or replaces) the parameter `name` with `value` encoded as JSON.
    pub fn insert<V: Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &V,
    ) -> Result<(), ParameterError> {
        let json = to_finite_json(value).map_err(|error| match error {
            FiniteJsonError::NonFinite(found) => non_finite_error(
                Some(name.to_owned()),
                &found.describe(),
                &found.path.under(name),
            ),
            FiniteJsonError::Json(error) => serialize_error(name, error),
        })?;
        self.values.insert(name.to_owned(), json_any(json));
        Ok(())
    }

    /// The JSON bytes that will be sent for `name`.
    pub fn json(&self, name: &str) -> Option<&[u8]> {
        self.values.get(name).map(|any| any.value.as_slice())
    }

    /// The parameter `name` decoded as `T`: for fake callers ([`ToolCaller`](crate::ToolCaller)) that
    /// read what a call sent.
    ///
    /// The same exact rule as every decode on the wire ([`decode_exact`](snakepit_bridge_spec::decode_exact)):
    /// an integer wider than 64 bits decodes into an `i128`/`u128` and is refused (naming it)
    /// where `T` would round it. A parameter that was not sent, or does not fit `T`, is an
    /// error naming it.
    ///
    /// ```
    /// # extern crate snakepit_bridge_runtime as snakepit_bridge;
    /// use snakepit_bridge::Parameters;
    /// let mut params = Parameters::new();
    /// params.insert("n", &(1u128 << 70)).unwrap();
    /// assert_eq!(params.decode::<u128>("n").unwrap(), 1 << 70);
    /// let refused = params.decode::<f64>("n").unwrap_err();
    /// assert!(refused.to_string().contains("wider than 64 bits"), "{refused}");
    /// assert!(params.decode::<u64>("m").is_err());
    /// ```
    pub fn decode<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, ParameterError> {
        let json = self.json(name).ok_or_else(|| ParameterError {
            parameter: Some(name.to_owned()),
            reason: "was not sent".to_owned(),
        })?;
        decode_exact(json).map_err(|error| ParameterError {
            parameter: Some(name.to_owned()),
            reason: format!(
                "does not decode as `{}`: {error}",
                std::any::type_name::<T>()
            ),
        })
    }

    /// All parameters as one JSON object, decoded by the exact rule
    /// ([`decode_exact`](snakepit_bridge_spec::decode_exact)): an integer wider than 64 bits, which a
    /// `serde_json::Value` would round, or a parameter whose bytes are not JSON, is an error
    /// naming the parameter, never a rounded number or a `null`.
    pub fn to_json_object(&self) -> Result<serde_json::Map<String, Value>, ParameterError> {
        self.values
            .iter()
            .map(|(name, any)| match decode_exact::<Value>(&any.value) {
                Ok(value) => Ok((name.clone(), value)),
                Err(error) => Err(ParameterError {
                    parameter: Some(name.clone()),
                    reason: format!("does not decode as a JSON value: {error}"),
                }),
            })
            .collect()
    }

    /// The names of the parameters, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The wire form: the request's `parameters` map.
    pub fn into_wire(self) -> HashMap<String, prost_types::Any> {
        self.values
    }
}

fn non_finite_error(parameter: Option<String>, what: &str, path: &str) -> ParameterError {
    let location = match &parameter {
        Some(name) if name != path => format!(" at `{path}`"),
        _ => String::new(),
    };
    // "an infinite", "a NaN".
    let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    ParameterError {
        parameter,
        reason: format!(
            "holds {article} {what} float{location}, which JSON cannot carry; send a finite number, \
             or an Option set to None"
        ),
    }
}

fn serialize_error(name: &str, error: serde_json::Error) -> ParameterError {
    ParameterError {
        parameter: Some(name.to_owned()),
        reason: format!("could not be serialized to JSON: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::json;

    use super::*;
    use crate::codec::JSON_TYPE_URL;

    #[test]
    fn reading_parameters_back_follows_the_exact_rule() {
        let mut params = Parameters::new();
        params.insert("wide", &(1u128 << 70)).unwrap();
        params.insert("list", &[1u128, 1 << 70]).unwrap();
        params.insert("n", &7).unwrap();

        assert_eq!(params.decode::<u128>("wide").unwrap(), 1 << 70);
        // serde_json alone rounds it to 1180591620717411300000.0.
        let rounded = params.decode::<f64>("wide").unwrap_err();
        assert_eq!(rounded.parameter.as_deref(), Some("wide"));
        assert!(rounded.reason.contains("wider than 64 bits"), "{rounded}");
        let missing = params.decode::<u32>("m").unwrap_err();
        assert_eq!(missing.to_string(), "parameter `m` was not sent");
        let shape = params.decode::<String>("n").unwrap_err();
        assert!(
            shape
                .to_string()
                .starts_with("parameter `n` does not decode as"),
            "{shape}"
        );

        let object = params.to_json_object().unwrap_err();
        assert!(["wide", "list"].contains(&object.parameter.as_deref().unwrap()));
        assert!(object.reason.contains("wider than 64 bits"), "{object}");

        params
            .values
            .insert("raw".to_owned(), json_any(b"not json".to_vec()));
        params.values.remove("wide");
        params.values.remove("list");
        let not_json = params.to_json_object().unwrap_err();
        assert_eq!(not_json.parameter.as_deref(), Some("raw"));

        params.values.remove("raw");
        assert_eq!(
            params.to_json_object().unwrap(),
            *json!({"n": 7}).as_object().unwrap()
        );
    }

    #[test]
    fn each_field_becomes_json_inside_an_any_with_the_hosts_type_url() {
        let params =
            Parameters::from_serialize(&json!({"n": 10, "s": "héllo", "l": [1, 2]})).unwrap();
        assert_eq!(params.len(), 3);
        assert_eq!(params.json("n"), Some(&b"10"[..]));
        assert_eq!(params.json("s"), Some("\"héllo\"".as_bytes()));
        assert_eq!(params.json("l"), Some(&b"[1,2]"[..]));
        let wire = params.into_wire();
        assert!(wire.values().all(|any| any.type_url == JSON_TYPE_URL));
    }

    #[test]
    fn strings_are_json_text_not_protobuf_string_values() {
        // snakepit's Python client sends a protobuf StringValue here, which the host cannot
        // JSON-decode; the host wants the JSON string itself.
        let mut params = Parameters::new();
        params.insert("json_string", "{\"a\":1}").unwrap();
        assert_eq!(params.json("json_string"), Some(&br#""{\"a\":1}""#[..]));
    }

    #[test]
    fn a_struct_serializes_field_by_field() {
        #[derive(Serialize)]
        struct Args<'a> {
            list: &'a [i64],
            operation: Option<&'a str>,
        }
        let params = Parameters::from_serialize(&Args {
            list: &[1, 2],
            operation: None,
        })
        .unwrap();
        assert_eq!(params.json("list"), Some(&b"[1,2]"[..]));
        assert_eq!(params.json("operation"), Some(&b"null"[..]));
    }

    #[test]
    fn integers_wider_than_64_bits_are_exact_from_a_struct() {
        #[derive(Serialize)]
        struct Wide {
            big: u128,
            small: i128,
        }
        let params = Parameters::from_serialize(&Wide {
            big: u128::MAX,
            small: i128::MIN,
        })
        .unwrap();
        assert_eq!(params.json("big"), Some(u128::MAX.to_string().as_bytes()));
        assert_eq!(params.json("small"), Some(i128::MIN.to_string().as_bytes()));
    }

    #[test]
    fn large_integers_are_exact() {
        let mut params = Parameters::new();
        params.insert("big", &u64::MAX).unwrap();
        params.insert("neg", &i64::MIN).unwrap();
        assert_eq!(params.json("big"), Some(&b"18446744073709551615"[..]));
        assert_eq!(params.json("neg"), Some(&b"-9223372036854775808"[..]));
    }

    #[test]
    fn anything_but_an_object_is_an_error_naming_what_was_given() {
        let error = Parameters::from_serialize(&vec![1, 2]).unwrap_err();
        assert_eq!(error.parameter, None);
        assert!(error.reason.contains("serialized to an array"), "{error}");
        let error = Parameters::from_serialize(&42).unwrap_err();
        assert!(error.reason.contains("serialized to a number"), "{error}");
    }

    #[test]
    fn nan_is_an_error_naming_the_parameter() {
        let error = Parameters::from_serialize(&json!({"ok": 1})).map(|_| ());
        assert!(error.is_ok());
        #[derive(Serialize)]
        struct Args {
            x: f64,
        }
        let error = Parameters::from_serialize(&Args { x: f64::NAN }).unwrap_err();
        assert_eq!(error.parameter.as_deref(), Some("x"));
        assert_eq!(
            error.to_string(),
            "parameter `x` holds a NaN float, which JSON cannot carry; send a finite number, or an Option set to None"
        );
    }

    #[test]
    fn a_parameter_is_serialized_once_unless_its_json_holds_a_null() {
        struct Counted<'a>(&'a std::cell::Cell<usize>, Option<f64>);
        impl Serialize for Counted<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.set(self.0.get() + 1);
                self.1.serialize(serializer)
            }
        }
        let count = std::cell::Cell::new(0);
        Parameters::new()
            .insert("x", &Counted(&count, Some(1.5)))
            .unwrap();
        assert_eq!(count.get(), 1);
        // A null may be a non-finite float: then, and only then, the value is walked.
        count.set(0);
        Parameters::new()
            .insert("x", &Counted(&count, None))
            .unwrap();
        assert_eq!(count.get(), 2);
        count.set(0);
        assert!(Parameters::new()
            .insert("x", &Counted(&count, Some(f64::NAN)))
            .is_err());
        assert_eq!(count.get(), 2);
    }

    #[test]
    fn infinity_deep_in_a_parameter_is_located() {
        let mut params = Parameters::new();
        let error = params
            .insert("points", &vec![vec![0.0], vec![1.0, f64::INFINITY]])
            .unwrap_err();
        assert_eq!(error.parameter.as_deref(), Some("points"));
        assert!(
            error
                .reason
                .contains("holds an infinite (inf) float at `points[1][1]`"),
            "{error}"
        );
        assert!(params.is_empty());
    }

    #[test]
    fn errors_carry_the_tool_when_converted() {
        let error = ParameterError {
            parameter: Some("x".into()),
            reason: "is bad".into(),
        };
        assert!(matches!(
            error.for_tool("add"),
            Error::InvalidParameters { tool, parameter: Some(p), .. } if tool == "add" && p == "x"
        ));
    }
}
