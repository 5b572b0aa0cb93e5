//! A deserializer that refuses to round an integer wider than 64 bits into a float, wherever it
//! lands, and knows where it is.
//!
//! serde_json hands such an integer to a type that takes "any number" (a `serde_json::Value`,
//! anywhere: a field, a `Vec<Value>`, a `Map`, an `Option<Value>`) as an `f64`, silently
//! rounded; a field that asks for `i128`/`u128` gets it exactly. This deserializer forwards
//! everything to serde_json's, keeps the path of the value being decoded, and counts the numbers
//! visitors receive, in document order: a float received for a number that is a wide integer
//! literal of the document (by its position, not its value: `18446744073709551616.0` is a
//! float by the sender's choice) is an error that names it and its path.
//!
//! Every number of the document is counted once, in order: a skipped value
//! (`deserialize_ignored_any`) and a `RawValue` by their text, the others as visitors get them;
//! map keys (strings in JSON, even when a map's keys are integers) are not numbers of the
//! document. With serde_json's `arbitrary_precision` feature (off in this workspace), numbers
//! reach visitors as maps and the count does not hold: nothing is rounded then, but a float
//! could be refused as a wide integer.

use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use super::WideInteger;
use crate::json_path::{JsonPath, PathSegment};

/// serde_json's name for the newtype that holds a `RawValue`'s text.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// What the guard learns while decoding: where it is, the last key read, how many numbers it
/// has been handed, the refused integer.
#[derive(Default)]
pub(crate) struct State {
    path: Vec<PathSegment>,
    key: Option<String>,
    numbers_seen: usize,
    pub(crate) found: Option<WideInteger>,
}

/// The wide integer literals of a document with their positions among its numbers, the
/// decoding's state, and whether the value at hand is a key (an object key or a variant name)
/// or the text of a `RawValue`.
#[derive(Clone, Copy)]
pub(crate) struct Wide<'w> {
    pub(crate) wide: &'w [(usize, &'w str)],
    pub(crate) state: &'w RefCell<State>,
    key: bool,
    raw: bool,
}

impl<'w> Wide<'w> {
    pub(crate) fn new(wide: &'w [(usize, &'w str)], state: &'w RefCell<State>) -> Self {
        Wide {
            wide,
            state,
            key: false,
            raw: false,
        }
    }

    fn value(self) -> Self {
        Wide { key: false, ..self }
    }

    fn key(self) -> Self {
        Wide { key: true, ..self }
    }

    fn raw(self) -> Self {
        Wide { raw: true, ..self }
    }

    /// The position of the number being handed out, counted; `None` for a key.
    fn next_number(&self) -> Option<usize> {
        if self.key {
            return None;
        }
        let mut state = self.state.borrow_mut();
        let position = state.numbers_seen;
        state.numbers_seen += 1;
        Some(position)
    }

    /// A float handed out for the next number: refused if that number is a wide integer.
    fn check_float<E: de::Error>(&self) -> Result<(), E> {
        let Some(position) = self.next_number() else {
            return Ok(());
        };
        let found = self
            .wide
            .binary_search_by_key(&position, |(at, _)| *at)
            .ok()
            .map(|index| self.wide[index].1);
        match found {
            Some(digits) => {
                let mut state = self.state.borrow_mut();
                let found = WideInteger {
                    digits: digits.to_owned(),
                    path: JsonPath::from(state.path.clone()),
                };
                let error = E::custom(&found);
                state.found = Some(found);
                Err(error)
            }
            None => Ok(()),
        }
    }

    /// The text of a `RawValue`: its numbers are not handed out one by one.
    fn skip_raw(&self, text: &str) {
        if self.raw && !self.key {
            self.state.borrow_mut().numbers_seen +=
                super::wide_integers::count_numbers(text.as_bytes());
        }
    }

    fn record_key(&self, key: impl fmt::Display) {
        if self.key {
            self.state.borrow_mut().key = Some(key.to_string());
        }
    }

    /// Runs `step` one segment deeper: the index given, or the key last read.
    fn within<T>(&self, segment: Option<PathSegment>, step: impl FnOnce() -> T) -> T {
        let segment = segment.unwrap_or_else(|| {
            PathSegment::Key(self.state.borrow_mut().key.take().unwrap_or_default())
        });
        self.state.borrow_mut().path.push(segment);
        let result = step();
        self.state.borrow_mut().path.pop();
        result
    }
}

/// A deserializer (or a sequence, map, enum or variant access) that guards what it hands out.
pub(crate) struct Guarded<'w, D> {
    pub(crate) inner: D,
    pub(crate) wide: Wide<'w>,
}

/// A sequence access that counts its elements for the path.
struct GuardedSeq<'w, A> {
    inner: A,
    wide: Wide<'w>,
    next_index: usize,
}

struct GuardedVisitor<'w, V> {
    inner: V,
    wide: Wide<'w>,
}

macro_rules! forward_deserialize {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(GuardedVisitor { inner: visitor, wide: self.wide })
        }
    )*};
}

impl<'de, 'w, D: Deserializer<'de>> Deserializer<'de> for Guarded<'w, D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier
    );

    /// Skipped as serde_json skips it (`ignore_value`: no more checks than without the guard),
    /// but as a `RawValue`, so that its text is at hand and its numbers are counted. A key is
    /// a string in JSON: skipped as it is.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.wide.key {
            return self.inner.deserialize_ignored_any(visitor);
        }
        self.inner
            .deserialize_newtype_struct(RAW_VALUE_TOKEN, SkippedValue { wide: self.wide })?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = self.wide;
        self.inner.deserialize_unit_struct(
            name,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = if name == RAW_VALUE_TOKEN {
            self.wide.raw()
        } else {
            self.wide
        };
        self.inner.deserialize_newtype_struct(
            name,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = self.wide;
        self.inner.deserialize_tuple(
            len,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = self.wide;
        self.inner.deserialize_tuple_struct(
            name,
            len,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = self.wide;
        self.inner.deserialize_struct(
            name,
            fields,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wide = self.wide;
        self.inner.deserialize_enum(
            name,
            variants,
            GuardedVisitor {
                inner: visitor,
                wide,
            },
        )
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Visits that may be a key (an object key or a variant name): recorded for the path.
macro_rules! forward_visit {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.wide.record_key(&value);
            self.inner.$method(value)
        }
    )*};
}

/// Numbers that are no float: counted, and recorded for the path when they are a key.
macro_rules! forward_number {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.wide.next_number();
            self.wide.record_key(&value);
            self.inner.$method(value)
        }
    )*};
}

/// Text: recorded for the path when it is a key, counted for its numbers when it is a
/// `RawValue`'s.
macro_rules! forward_text {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.wide.record_key(&value);
            self.wide.skip_raw(&value);
            self.inner.$method(value)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for GuardedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    forward_visit!(visit_bool(bool), visit_char(char));

    forward_number!(
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128)
    );

    forward_text!(
        visit_str(&str),
        visit_string(String),
        visit_borrowed_str(&'de str)
    );

    fn visit_f32<E: de::Error>(self, value: f32) -> Result<Self::Value, E> {
        self.wide.check_float()?;
        self.inner.visit_f32(value)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        self.wide.check_float()?;
        self.inner.visit_f64(value)
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Self::Value, E> {
        self.inner.visit_bytes(value)
    }

    fn visit_byte_buf<E: de::Error>(self, value: Vec<u8>) -> Result<Self::Value, E> {
        self.inner.visit_byte_buf(value)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, value: &'de [u8]) -> Result<Self::Value, E> {
        self.inner.visit_borrowed_bytes(value)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    // An `Option` or a newtype is still where its contents are: a key (serde_json's map keys
    // are deserialized through them: `HashMap<Id, _>`) stays a key.
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.visit_some(Guarded {
            inner: deserializer,
            wide: self.wide,
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        self.inner.visit_newtype_struct(Guarded {
            inner: deserializer,
            wide: self.wide,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(GuardedSeq {
            inner: seq,
            wide: self.wide.value(),
            next_index: 0,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Guarded {
            inner: map,
            wide: self.wide.value(),
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Guarded {
            inner: data,
            wide: self.wide.value(),
        })
    }
}

/// A skipped value, read by serde_json as a `RawValue` (a map of one entry whose value is the
/// value's text): its numbers are counted.
struct SkippedValue<'w> {
    wide: Wide<'w>,
}

impl<'de> Visitor<'de> for SkippedValue<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<de::IgnoredAny>()?.is_some() {
            map.next_value_seed(SkippedText { wide: self.wide })?;
        }
        Ok(())
    }

    // Not serde_json's deserializer, or serde_json without its `raw_value` feature (which
    // this crate's Cargo.toml turns on): there is no text to count, only the value to skip.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        de::Deserialize::deserialize(deserializer).map(|_: de::IgnoredAny| ())
    }
}

struct SkippedText<'w> {
    wide: Wide<'w>,
}

impl<'de> DeserializeSeed<'de> for SkippedText<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for SkippedText<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("the text of a JSON value")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.wide.state.borrow_mut().numbers_seen +=
            super::wide_integers::count_numbers(text.as_bytes());
        Ok(())
    }
}

/// A seed whose deserializer is guarded.
struct GuardedSeed<'w, S> {
    inner: S,
    wide: Wide<'w>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for GuardedSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.inner.deserialize(Guarded {
            inner: deserializer,
            wide: self.wide,
        })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for GuardedSeq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let index = self.next_index;
        self.next_index += 1;
        let wide = self.wide;
        wide.within(Some(PathSegment::Index(index)), || {
            self.inner
                .next_element_seed(GuardedSeed { inner: seed, wide })
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Guarded<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(GuardedSeed {
            inner: seed,
            wide: self.wide.key(),
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let wide = self.wide;
        wide.within(None, || {
            self.inner
                .next_value_seed(GuardedSeed { inner: seed, wide })
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, 'w, A: EnumAccess<'de>> EnumAccess<'de> for Guarded<'w, A> {
    type Error = A::Error;
    type Variant = Guarded<'w, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let wide = self.wide;
        let (value, variant) = self.inner.variant_seed(GuardedSeed {
            inner: seed,
            wide: wide.key(),
        })?;
        Ok((
            value,
            Guarded {
                inner: variant,
                wide,
            },
        ))
    }
}

/// A variant's contents sit below its name, as the non-finite walk writes them.
impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Guarded<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.wide.state.borrow_mut().key = None;
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let wide = self.wide;
        wide.within(None, || {
            self.inner
                .newtype_variant_seed(GuardedSeed { inner: seed, wide })
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let wide = self.wide;
        wide.within(None, || {
            self.inner.tuple_variant(
                len,
                GuardedVisitor {
                    inner: visitor,
                    wide,
                },
            )
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let wide = self.wide;
        wide.within(None, || {
            self.inner.struct_variant(
                fields,
                GuardedVisitor {
                    inner: visitor,
                    wide,
                },
            )
        })
    }
}
