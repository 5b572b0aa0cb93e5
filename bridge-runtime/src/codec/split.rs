//! Serializes a parameters value (a struct or a map) straight into one JSON text per field:
//! one pass, no whole-object text to parse back apart.

use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

/// Why the value could not be split.
#[derive(Debug)]
pub(crate) enum SplitError {
    /// It is not a struct or a map: what it is instead (`an array`, `a number`, ...).
    NotAnObject(&'static str),
    /// A map key that is not text.
    KeyNotText,
    /// A field's value failed to serialize.
    Field(String, serde_json::Error),
    /// The value's own `Serialize` failed.
    Custom(String),
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::NotAnObject(what) => write!(f, "serialized to {what}"),
            SplitError::KeyNotText => f.write_str("a map key is not text"),
            SplitError::Field(name, error) => write!(f, "field `{name}`: {error}"),
            SplitError::Custom(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for SplitError {}

impl ser::Error for SplitError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        SplitError::Custom(message.to_string())
    }
}

/// Each field of `value` as `(name, JSON text)`, in serialization order.
pub(crate) fn split_fields<P: Serialize + ?Sized>(
    value: &P,
) -> Result<Vec<(String, Vec<u8>)>, SplitError> {
    value.serialize(Splitter)
}

struct Splitter;

struct Fields {
    fields: Vec<(String, Vec<u8>)>,
    key: Option<String>,
}

fn field<T: Serialize + ?Sized>(name: String, value: &T) -> Result<(String, Vec<u8>), SplitError> {
    match serde_json::to_vec(value) {
        Ok(json) => Ok((name, json)),
        Err(error) => Err(SplitError::Field(name, error)),
    }
}

macro_rules! not_an_object {
    ($what:expr; $($method:ident($($ty:ty),*)),*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<Self::Ok, SplitError> {
            Err(SplitError::NotAnObject($what))
        }
    )*};
}

impl Serializer for Splitter {
    type Ok = Vec<(String, Vec<u8>)>;
    type Error = SplitError;
    type SerializeSeq = Impossible<Self::Ok, SplitError>;
    type SerializeTuple = Impossible<Self::Ok, SplitError>;
    type SerializeTupleStruct = Impossible<Self::Ok, SplitError>;
    type SerializeTupleVariant = Impossible<Self::Ok, SplitError>;
    type SerializeMap = Fields;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Self::Ok, SplitError>;

    not_an_object!("a boolean"; serialize_bool(bool));
    not_an_object!("a number"; serialize_i8(i8), serialize_i16(i16), serialize_i32(i32), serialize_i64(i64),
        serialize_i128(i128), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32), serialize_u64(u64),
        serialize_u128(u128), serialize_f32(f32), serialize_f64(f64));
    not_an_object!("a string"; serialize_char(char), serialize_str(&str),
        serialize_unit_variant(&'static str, u32, &'static str));
    not_an_object!("an array"; serialize_bytes(&[u8]));
    not_an_object!("null"; serialize_none(), serialize_unit(), serialize_unit_struct(&'static str));

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, SplitError> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Self::Ok, SplitError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, SplitError> {
        Err(SplitError::NotAnObject(
            "an object holding one enum variant",
        ))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SplitError> {
        Err(SplitError::NotAnObject("an array"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SplitError> {
        Err(SplitError::NotAnObject("an array"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SplitError> {
        Err(SplitError::NotAnObject("an array"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SplitError> {
        Err(SplitError::NotAnObject(
            "an object holding one enum variant",
        ))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, SplitError> {
        Ok(Fields {
            fields: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }

    fn serialize_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, SplitError> {
        Ok(Fields {
            fields: Vec::with_capacity(len),
            key: None,
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SplitError> {
        Err(SplitError::NotAnObject(
            "an object holding one enum variant",
        ))
    }
}

impl SerializeStruct for Fields {
    type Ok = Vec<(String, Vec<u8>)>;
    type Error = SplitError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SplitError> {
        self.fields.push(field(key.to_owned(), value)?);
        Ok(())
    }

    fn skip_field(&mut self, _: &'static str) -> Result<(), SplitError> {
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, SplitError> {
        Ok(self.fields)
    }
}

impl SerializeMap for Fields {
    type Ok = Vec<(String, Vec<u8>)>;
    type Error = SplitError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SplitError> {
        // Keys as serde_json writes them: text, or numbers and booleans turned into text.
        self.key = Some(match serde_json::to_value(key) {
            Ok(serde_json::Value::String(text)) => text,
            Ok(serde_json::Value::Number(n)) => n.to_string(),
            Ok(serde_json::Value::Bool(b)) => b.to_string(),
            _ => return Err(SplitError::KeyNotText),
        });
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SplitError> {
        let key = self.key.take().ok_or(SplitError::KeyNotText)?;
        self.fields.push(field(key, value)?);
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, SplitError> {
        Ok(self.fields)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_field_is_its_own_json_text() {
        #[derive(serde::Serialize)]
        struct Args {
            n: u128,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            text: &'static str,
        }
        let fields = split_fields(&Args {
            n: 1 << 70,
            skipped: None,
            text: "é",
        })
        .unwrap();
        assert_eq!(
            fields,
            [
                ("n".to_owned(), b"1180591620717411303424".to_vec()),
                ("text".to_owned(), "\"é\"".as_bytes().to_vec())
            ]
        );
        let map: BTreeMap<u32, bool> = [(7, true)].into();
        assert_eq!(
            split_fields(&map).unwrap(),
            [("7".to_owned(), b"true".to_vec())]
        );
    }

    #[test]
    fn anything_but_an_object_says_what_it_is() {
        let what = |error: SplitError| error.to_string();
        assert_eq!(
            what(split_fields(&[1]).unwrap_err()),
            "serialized to an array"
        );
        assert_eq!(
            what(split_fields(&Some(3)).unwrap_err()),
            "serialized to a number"
        );
        assert_eq!(what(split_fields(&()).unwrap_err()), "serialized to null");
        let keyed: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(matches!(
            split_fields(&keyed).unwrap_err(),
            SplitError::KeyNotText
        ));
    }
}
