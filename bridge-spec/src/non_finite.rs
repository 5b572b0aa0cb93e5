//! Finds NaN and infinite floats in a `Serialize` value: one rule for every side of the wire.
//!
//! serde_json quietly writes non-finite floats as `null`, so a NaN would reach the other side
//! as a missing value. [`find_non_finite`] visits the value once, without building anything,
//! and reports the path of the first non-finite float so the error can name it;
//! [`to_finite_json`] writes JSON and refuses such a float.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::json_path::{JsonPath, PathSegment as Segment};

/// A non-finite float and where it sits, e.g. `values[3]` or `point.x`.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// Where the float sits in the value (empty: the value is the float).
    pub path: JsonPath,
    /// The float: NaN or an infinity.
    pub value: f64,
}

impl NonFinite {
    /// What is wrong, e.g. `NaN` or `infinite (-inf)`.
    pub fn describe(&self) -> String {
        if self.value.is_nan() {
            "NaN".to_owned()
        } else {
            format!("infinite ({})", self.value)
        }
    }
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} float", self.describe())?;
        if !self.path.is_empty() {
            write!(f, " at `{}`", self.path)?;
        }
        f.write_str(", which JSON cannot carry")
    }
}

/// Why a value could not be written as JSON by [`to_finite_json`].
#[derive(Debug)]
pub enum FiniteJsonError {
    /// A NaN or infinite float, which serde_json would have written as `null`.
    NonFinite(NonFinite),
    /// serde_json's own error (a map with keys that are not strings, a failing `Serialize`).
    Json(serde_json::Error),
}

impl fmt::Display for FiniteJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FiniteJsonError::NonFinite(found) => write!(f, "holds {found}"),
            FiniteJsonError::Json(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FiniteJsonError {}

/// `value` as JSON text, refusing NaN and infinite floats (which serde_json writes as `null`).
///
/// The value is walked only when its JSON holds a `null`: JSON without one cannot hide a
/// non-finite float, so the usual case serializes once.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::{to_finite_json, FiniteJsonError};
/// assert_eq!(to_finite_json(&[1.5, 2.0]).unwrap(), b"[1.5,2.0]");
/// let Err(FiniteJsonError::NonFinite(found)) = to_finite_json(&[1.0, f64::NAN]) else {
///     panic!("refused")
/// };
/// assert_eq!(found.path.to_string(), "[1]");
/// ```
pub fn to_finite_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FiniteJsonError> {
    let json = serde_json::to_vec(value).map_err(FiniteJsonError::Json)?;
    if holds_null(&json) {
        if let Some(found) = find_non_finite(value) {
            return Err(FiniteJsonError::NonFinite(found));
        }
    }
    Ok(json)
}

/// Whether JSON text holds `null` anywhere (strings included: a harmless false alarm).
pub fn holds_null(json: &[u8]) -> bool {
    json.windows(4).any(|window| window == b"null")
}

/// The first non-finite float in `value`, if any.
///
/// A `Serialize` impl that fails for its own reasons is not reported here; serializing it for
/// real reports that failure.
pub fn find_non_finite<T: Serialize + ?Sized>(value: &T) -> Option<NonFinite> {
    let mut walker = Walker { path: Vec::new() };
    match value.serialize(&mut walker) {
        Err(Stop(found)) => found,
        Ok(()) => None,
    }
}

struct Walker {
    path: Vec<Segment>,
}

/// Ends the walk: with the non-finite float found, or with `None` for the value's own error.
#[derive(Debug)]
struct Stop(Option<NonFinite>);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Stop(None)
    }
}

impl Walker {
    fn float(&mut self, value: f64) -> Result<(), Stop> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(Stop(Some(NonFinite {
                path: JsonPath::from(self.path.clone()),
                value,
            })))
        }
    }

    fn nested<T: Serialize + ?Sized>(&mut self, segment: Segment, value: &T) -> Result<(), Stop> {
        self.path.push(segment);
        value.serialize(&mut *self)?;
        self.path.pop();
        Ok(())
    }
}

/// Visits the elements of a sequence, map, struct or variant.
struct Compound<'a> {
    walker: &'a mut Walker,
    next_index: usize,
    key: Option<String>,
    /// Whether a variant name was pushed onto the path and must be popped at the end.
    in_variant: bool,
}

impl<'a> Compound<'a> {
    fn new(walker: &'a mut Walker, variant: Option<&'static str>) -> Self {
        if let Some(name) = variant {
            walker.path.push(Segment::Key(name.to_owned()));
        }
        Compound {
            walker,
            next_index: 0,
            key: None,
            in_variant: variant.is_some(),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let index = self.next_index;
        self.next_index += 1;
        self.walker.nested(Segment::Index(index), value)
    }

    fn finish(self) -> Result<(), Stop> {
        if self.in_variant {
            self.walker.path.pop();
        }
        Ok(())
    }
}

macro_rules! accept {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, _value: $ty) -> Result<(), Stop> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    accept!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, value: f32) -> Result<(), Stop> {
        self.float(f64::from(value))
    }

    fn serialize_f64(self, value: f64) -> Result<(), Stop> {
        self.float(value)
    }

    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.nested(Segment::Key(variant.to_owned()), value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, None))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, Some(variant)))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, None))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, None))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        Ok(Compound::new(self, Some(variant)))
    }
}

/// The compounds whose parts are elements: sequences, tuples and tuple variants.
macro_rules! element_compounds {
    ($($compound:ident::$method:ident),* $(,)?) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.element(value)
            }
            fn end(self) -> Result<(), Stop> {
                self.finish()
            }
        }
    )*};
}

element_compounds!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        // Keys are JSON object keys: a string, or a number serde_json turns into one.
        self.key = Some(match serde_json::to_value(key) {
            Ok(serde_json::Value::String(text)) => text,
            Ok(other) => other.to_string(),
            Err(_) => String::from("?"),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = self.key.take().unwrap_or_default();
        self.walker.nested(Segment::Key(key), value)
    }
    fn end(self) -> Result<(), Stop> {
        self.finish()
    }
}

/// The compounds whose parts are named fields: structs and struct variants.
macro_rules! field_compounds {
    ($($compound:ident),* $(,)?) => {$(
        impl ser::$compound for Compound<'_> {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                self.walker.nested(Segment::Key(key.to_owned()), value)
            }
            fn end(self) -> Result<(), Stop> {
                self.finish()
            }
        }
    )*};
}

field_compounds!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Point {
        x: f64,
        y: f32,
    }

    #[derive(Serialize)]
    enum Shape {
        Line(Vec<Point>),
    }

    fn path_of<T: Serialize>(value: &T) -> Option<String> {
        find_non_finite(value).map(|found| found.path.to_string())
    }

    #[test]
    fn finite_values_pass() {
        assert_eq!(path_of(&(1.5, vec![0.0, -2.0], "text", Some(3u8))), None);
        assert_eq!(path_of(&Point { x: 1.0, y: 2.0 }), None);
    }

    #[test]
    fn finds_nan_in_a_struct_field() {
        let found = find_non_finite(&Point {
            x: f64::NAN,
            y: 0.0,
        })
        .unwrap();
        assert_eq!(found.path.to_string(), "x");
        assert_eq!(found.describe(), "NaN");
    }

    #[test]
    fn finds_infinity_in_a_nested_sequence_of_a_map() {
        let mut map = BTreeMap::new();
        map.insert("values", vec![1.0, 2.0, f64::NEG_INFINITY]);
        let found = find_non_finite(&map).unwrap();
        assert_eq!(found.path.to_string(), "values[2]");
        assert_eq!(found.describe(), "infinite (-inf)");
    }

    #[test]
    fn finds_f32_infinity_inside_an_enum_variant() {
        let shape = Shape::Line(vec![
            Point { x: 0.0, y: 0.0 },
            Point {
                x: 0.0,
                y: f32::INFINITY,
            },
        ]);
        assert_eq!(path_of(&shape).as_deref(), Some("Line[1].y"));
    }

    #[test]
    fn finds_nan_behind_option_and_json_values() {
        assert_eq!(path_of(&Some(f64::NAN)).as_deref(), Some(""));
        let mut map = BTreeMap::new();
        map.insert(7, Some(f64::NAN));
        assert_eq!(path_of(&map).as_deref(), Some("7"));
    }

    #[test]
    fn to_finite_json_writes_finite_values_and_refuses_the_rest_with_a_path() {
        assert_eq!(
            to_finite_json(&Point { x: 1.0, y: 2.0 }).unwrap(),
            br#"{"x":1.0,"y":2.0}"#
        );
        // A null that is a real null is no false alarm.
        assert_eq!(
            to_finite_json(&(None::<f64>, "null")).unwrap(),
            br#"[null,"null"]"#
        );
        let Err(FiniteJsonError::NonFinite(found)) = to_finite_json(&Shape::Line(vec![
            Point { x: 0.0, y: 0.0 },
            Point {
                x: f64::INFINITY,
                y: 0.0,
            },
        ])) else {
            panic!("refused")
        };
        assert_eq!(found.path.under("result"), "result.Line[1].x");
        assert_eq!(
            found.to_string(),
            "a infinite (inf) float at `Line[1].x`, which JSON cannot carry"
        );
        let mut keyed = BTreeMap::new();
        keyed.insert(vec![1], 1.0);
        assert!(matches!(
            to_finite_json(&keyed),
            Err(FiniteJsonError::Json(_))
        ));
    }
}
