//! Decoding JSON without silently rounding integers: one rule for every side of the wire.
//!
//! Elixir integers are unbounded, and Jason writes them in full. serde_json decodes an integer
//! wider than 64 bits exactly into an `i128`/`u128`, but hands it to anything that takes "any
//! number" (a `serde_json::Value`, an `f64`) as a rounded float, silently. [`decode_exact`]
//! decodes as serde_json does, except that such an integer is an error naming it and its path.

mod guard;
mod wide_integers;

use std::cell::RefCell;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::json_path::JsonPath;

/// An integer wider than 64 bits that the target type would have rounded to a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideInteger {
    /// The integer as written.
    pub digits: String,
    /// Where it sits in the document (empty: the document is the integer).
    pub path: JsonPath,
}

impl fmt::Display for WideInteger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the integer {}", self.digits)?;
        if !self.path.is_empty() {
            write!(f, " at `{}`", self.path)?;
        }
        f.write_str(
            " is wider than 64 bits, which a JSON value (or an f64) cannot hold exactly; decode \
             it into an i128 or u128 field, or have it sent as a string",
        )
    }
}

/// Why JSON text could not be decoded by [`decode_exact`].
#[derive(Debug)]
pub enum ExactJsonError {
    /// An integer wider than 64 bits where the type would have rounded it.
    WideInteger(WideInteger),
    /// serde_json's own error: not JSON ([`serde_json::Error::is_syntax`], `is_eof`), or JSON
    /// of another shape ([`serde_json::Error::is_data`]).
    Json(serde_json::Error),
}

impl ExactJsonError {
    /// Whether the text is JSON of the wrong shape (a wide integer included) rather than not
    /// JSON at all.
    pub fn is_data(&self) -> bool {
        match self {
            ExactJsonError::WideInteger(_) => true,
            ExactJsonError::Json(error) => error.is_data(),
        }
    }
}

impl fmt::Display for ExactJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExactJsonError::WideInteger(wide) => wide.fmt(f),
            ExactJsonError::Json(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ExactJsonError {}

/// Decodes `json` as `T` the way `serde_json::from_slice` does, except that an integer wider
/// than 64 bits that `T` would round (into a `serde_json::Value`, an `f64`, anywhere in `T`) is
/// [`ExactJsonError::WideInteger`]. Fields of type `i128`/`u128` get such integers exactly.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::{decode_exact, ExactJsonError};
/// let json = br#"{"list":[1,1180591620717411303424]}"#;
/// let Err(ExactJsonError::WideInteger(wide)) = decode_exact::<serde_json::Value>(json) else {
///     panic!("refused")
/// };
/// assert_eq!(wide.digits, "1180591620717411303424");
/// assert_eq!(wide.path.to_string(), "list[1]");
///
/// #[derive(serde::Deserialize)]
/// struct Exact { list: Vec<i128> }
/// assert_eq!(decode_exact::<Exact>(json).unwrap().list[1], 1 << 70);
/// ```
pub fn decode_exact<T: DeserializeOwned>(json: &[u8]) -> Result<T, ExactJsonError> {
    let wide = wide_integers::wide_integers(json);
    if wide.is_empty() {
        // Nothing to round: serde_json's own decoding, at full speed.
        return serde_json::from_slice(json).map_err(ExactJsonError::Json);
    }
    let state = RefCell::new(guard::State::default());
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let decoded = T::deserialize(guard::Guarded {
        inner: &mut deserializer,
        wide: guard::Wide::new(&wide, &state),
    })
    .and_then(|value| deserializer.end().map(|()| value));
    decoded.map_err(|error| match state.into_inner().found {
        Some(found) => ExactJsonError::WideInteger(found),
        None => ExactJsonError::Json(error),
    })
}

/// serde_json's message without its ` at line 1 column 5`: a position in text the caller did
/// not write (the host encodes every value) tells them nothing.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// let error = serde_json::from_str::<u8>("\"five\"").unwrap_err();
/// assert_eq!(
///     snakepit_bridge::spec::message_without_position(&error),
///     "invalid type: string \"five\", expected u8"
/// );
/// ```
pub fn message_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return text;
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;

    fn refused<T: DeserializeOwned + fmt::Debug>(json: &str) -> WideInteger {
        match decode_exact::<T>(json.as_bytes()) {
            Err(ExactJsonError::WideInteger(wide)) => wide,
            other => panic!("expected a wide integer, got {other:?}"),
        }
    }

    #[test]
    fn integers_wider_than_64_bits_are_refused_as_values_but_decode_into_i128() {
        let json = r#"{"big":1180591620717411303424}"#;
        let wide = refused::<Value>(json);
        assert_eq!(wide.digits, "1180591620717411303424");
        assert_eq!(wide.path.to_string(), "big");
        assert_eq!(
            wide.to_string(),
            "the integer 1180591620717411303424 at `big` is wider than 64 bits, which a JSON \
             value (or an f64) cannot hold exactly; decode it into an i128 or u128 field, or \
             have it sent as a string"
        );
        #[derive(Deserialize)]
        struct Wide {
            big: u128,
        }
        assert_eq!(decode_exact::<Wide>(json.as_bytes()).unwrap().big, 1 << 70);
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Narrow {
            big: u64,
        }
        // A 64-bit field cannot hold it either: the same error, naming it.
        let error = decode_exact::<Narrow>(json.as_bytes()).unwrap_err();
        assert!(
            matches!(&error, ExactJsonError::WideInteger(wide) if wide.path.to_string() == "big"),
            "{error}"
        );
        assert!(error.is_data());
    }

    #[test]
    fn the_path_names_the_integer_wherever_it_sits() {
        assert_eq!(
            refused::<Value>("1180591620717411303424").path.to_string(),
            ""
        );
        assert_eq!(
            refused::<Value>(r#"{"a":[1,{"b":[-1180591620717411303424]}]}"#)
                .path
                .to_string(),
            "a[1].b[0]"
        );
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Listed {
            small: Option<Value>,
            list: Vec<Value>,
        }
        assert_eq!(
            refused::<Listed>(r#"{"small":1.5,"list":[1,1180591620717411303424]}"#)
                .path
                .to_string(),
            "list[1]"
        );
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        enum Shape {
            Line(Vec<Value>),
            Point { x: f64 },
        }
        assert_eq!(
            refused::<Vec<Shape>>(r#"[{"Line":[0]},{"Line":[0,1180591620717411303424]}]"#)
                .path
                .to_string(),
            "[1].Line[1]"
        );
        assert_eq!(
            refused::<Shape>(r#"{"Point":{"x":1180591620717411303424}}"#)
                .path
                .to_string(),
            "Point.x"
        );
        // Keys of maps with integer keys, and keys after skipped fields.
        assert_eq!(
            refused::<std::collections::BTreeMap<u32, Value>>(
                r#"{"7":1,"8":1180591620717411303424}"#
            )
            .path
            .to_string(),
            "8"
        );
    }

    #[test]
    fn exact_where_the_type_can_hold_it_and_ordinary_numbers_keep_their_form() {
        #[derive(Deserialize)]
        struct Exact {
            list: Vec<i128>,
            small: f64,
        }
        let exact: Exact =
            decode_exact(br#"{"list":[1,-1180591620717411303424],"small":1.5}"#).unwrap();
        assert_eq!(exact.list[1], -(1 << 70));
        assert_eq!(exact.small, 1.5);
        let value: Value = decode_exact(b"[3.75,3,1.0e21,18446744073709551615]").unwrap();
        assert_eq!(value[0].as_f64(), Some(3.75));
        assert_eq!(value[1].as_u64(), Some(3));
        assert_eq!(value[2].as_f64(), Some(1.0e21));
        assert_eq!(value[3].as_u64(), Some(u64::MAX));
    }

    #[test]
    fn a_float_that_equals_a_wide_integer_is_a_float_not_that_integer() {
        // The guard matches numbers by their place in the document, not by value.
        #[derive(Deserialize, Debug)]
        struct Mixed {
            a: u128,
            b: f64,
        }
        let mixed: Mixed =
            decode_exact(br#"{"a":18446744073709551616,"b":18446744073709551616.0}"#).unwrap();
        assert_eq!(mixed.a, 1 << 64);
        assert_eq!(mixed.b, 18446744073709551616.0);
        let value: Value = decode_exact(br#"[18446744073709551616.0, 1.0e21]"#).unwrap();
        assert_eq!(value[0].as_f64(), Some(18446744073709551616.0));
        // the wide integer itself is still refused where it would be rounded, after the float
        let wide = refused::<Vec<Value>>(r#"[18446744073709551616.0,18446744073709551616]"#);
        assert_eq!(wide.path.to_string(), "[1]");
    }

    #[test]
    fn numbers_in_skipped_fields_keys_and_raw_values_keep_the_count() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Some1 {
            kept: Value,
        }
        // an unknown field holding numbers, before the wide integer
        let wide = refused::<Some1>(r#"{"skipped":[1,2.5,{"x":3}],"kept":[18446744073709551616]}"#);
        assert_eq!(wide.path.to_string(), "kept[0]");
        // a float after a skipped wide integer is a float
        #[derive(Deserialize, Debug)]
        struct Some2 {
            kept: f64,
        }
        let ok: Some2 =
            decode_exact(br#"{"skipped":18446744073709551616,"kept":18446744073709551616.0}"#)
                .unwrap();
        assert_eq!(ok.kept, 18446744073709551616.0);
        // integer map keys are strings in JSON: not numbers of the document
        let wide = refused::<std::collections::BTreeMap<u64, Value>>(
            r#"{"1":2.5,"2":18446744073709551616}"#,
        );
        assert_eq!(wide.path.to_string(), "2");
        // a RawValue's numbers are counted without being visited
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Raw {
            raw: Box<serde_json::value::RawValue>,
            after: Value,
        }
        let wide = refused::<Raw>(
            r#"{"raw":[1,18446744073709551616,2.0],"after":[0.5,18446744073709551616]}"#,
        );
        assert_eq!(wide.path.to_string(), "after[1]");
        #[derive(Deserialize, Debug)]
        struct RawThenFloat {
            raw: Box<serde_json::value::RawValue>,
            after: f64,
        }
        let ok: RawThenFloat =
            decode_exact(br#"{"raw":[18446744073709551616],"after":18446744073709551616.0}"#)
                .unwrap();
        assert_eq!(ok.raw.get(), "[18446744073709551616]");
        assert_eq!(ok.after, 18446744073709551616.0);
    }

    #[test]
    fn keys_through_newtypes_and_options_are_keys() {
        #[derive(Deserialize, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        struct Id(u64);
        let wide =
            refused::<std::collections::BTreeMap<Id, Value>>(r#"{"7":18446744073709551616}"#);
        assert_eq!(wide.path.to_string(), "7");
        #[derive(Deserialize, Debug)]
        struct Keyed {
            m: std::collections::BTreeMap<Id, f64>,
            big: u128,
        }
        let keyed: Keyed =
            decode_exact(br#"{"m":{"7":18446744073709551616.0},"big":18446744073709551616}"#)
                .unwrap();
        assert_eq!(keyed.m[&Id(7)], 18446744073709551616.0);
        assert_eq!(keyed.big, 1 << 64);
        let wide = refused::<std::collections::BTreeMap<Option<u64>, Value>>(
            r#"{"7":18446744073709551616}"#,
        );
        assert_eq!(wide.path.to_string(), "7");
    }

    #[test]
    fn a_skipped_value_is_checked_no_more_than_without_the_guard() {
        #[derive(Deserialize, Debug)]
        struct S {
            n: u128,
        }
        // what serde_json's own skipping takes: an out-of-range float, a lone surrogate, deep
        // nesting
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for extra in ["1e400", r#""\ud800""#, deep.as_str()] {
            let json = format!(r#"{{"extra":{extra},"n":18446744073709551616}}"#);
            let s: S = decode_exact(json.as_bytes()).unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!(s.n, 1 << 64);
        }
        #[derive(Deserialize, Debug)]
        struct Empty {}
        let huge = format!(r#"{{"extra":{}}}"#, "1".repeat(310));
        decode_exact::<Empty>(huge.as_bytes()).unwrap();
    }

    #[test]
    fn other_errors_are_serde_jsons() {
        let error = decode_exact::<Value>(b"not json").unwrap_err();
        assert!(matches!(&error, ExactJsonError::Json(e) if e.is_syntax()));
        assert!(!error.is_data());
        // Trailing text after a document with a wide integer is still refused.
        let error = decode_exact::<i128>(b"1180591620717411303424 x").unwrap_err();
        assert!(
            matches!(&error, ExactJsonError::Json(e) if e.is_syntax()),
            "{error}"
        );
    }

    #[test]
    fn positions_are_dropped_from_messages() {
        let error = serde_json::from_str::<u8>("[1]").unwrap_err();
        assert_eq!(
            message_without_position(&error),
            "invalid type: sequence, expected u8"
        );
        let custom: serde_json::Error = serde::de::Error::custom("plain");
        assert_eq!(message_without_position(&custom), "plain");
    }
}
