//! Which Rust values a host parameter type accepts.
//!
//! | host type names | accepted kinds |
//! |---|---|
//! | `integer`, `int` | integers |
//! | `float`, `number` | floats and integers |
//! | `string`, `str` | strings |
//! | `boolean`, `bool` | `bool` |
//! | `list`, `array` | sequences |
//! | `map`, `object`, `dict` | maps and structs |
//! | `any`, and any name not listed here (e.g. `bytes`) | anything |
//!
//! A declared argument of kind [`ValueKind::Any`] (`serde_json::Value`) fits every host type.
//! Names are compared case-insensitively, ignoring surrounding white space.

use crate::ValueKind;

use ValueKind::{Boolean, Float, Integer, List, Map, String};

/// The one table of host type names: each name, the kind of value it stands for, and the
/// kinds a parameter of that type accepts. Read by [`accepted_kinds`] and
/// [`ValueKind::from_host_type_name`].
const HOST_TYPES: &[(&str, ValueKind, &[ValueKind])] = &[
    ("integer", Integer, &[Integer]),
    ("int", Integer, &[Integer]),
    ("float", Float, &[Float, Integer]),
    ("number", Float, &[Float, Integer]),
    ("string", String, &[String]),
    ("str", String, &[String]),
    ("boolean", Boolean, &[Boolean]),
    ("bool", Boolean, &[Boolean]),
    ("list", List, &[List]),
    ("array", List, &[List]),
    ("map", Map, &[Map]),
    ("object", Map, &[Map]),
    ("dict", Map, &[Map]),
];

fn host_type(type_name: &str) -> Option<&'static (&'static str, ValueKind, &'static [ValueKind])> {
    let name = type_name.trim().to_ascii_lowercase();
    HOST_TYPES.iter().find(|(known, _, _)| *known == name)
}

/// The host type names, in the table's order, with `any` last (for messages).
pub fn host_type_names() -> impl Iterator<Item = &'static str> {
    HOST_TYPES.iter().map(|(name, _, _)| *name).chain(["any"])
}

/// The kinds the host type `type_name` accepts; `None` when it accepts anything.
pub fn accepted_kinds(type_name: &str) -> Option<&'static [ValueKind]> {
    host_type(type_name).map(|(_, _, accepted)| *accepted)
}

/// The kind of value the host type `type_name` stands for (`any` is [`ValueKind::Any`]);
/// `None` for a name not in the table.
pub(crate) fn kind_of_host_type(type_name: &str) -> Option<ValueKind> {
    if type_name.trim().eq_ignore_ascii_case("any") {
        return Some(ValueKind::Any);
    }
    host_type(type_name).map(|(_, kind, _)| *kind)
}

/// Whether an argument of `kind` may be sent for a host parameter of type `type_name`.
pub fn is_compatible(kind: ValueKind, type_name: &str) -> bool {
    kind == ValueKind::Any || accepted_kinds(type_name).is_none_or(|kinds| kinds.contains(&kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueKind::*;

    #[test]
    fn the_documented_table_holds() {
        let cases = [
            ("integer", Integer, true),
            ("int", Integer, true),
            ("integer", Float, false),
            ("float", Integer, true),
            ("number", Float, true),
            ("float", String, false),
            ("string", String, true),
            ("str", Integer, false),
            ("boolean", Boolean, true),
            ("bool", String, false),
            ("list", List, true),
            ("array", Map, false),
            ("map", Map, true),
            ("object", Map, true),
            ("dict", List, false),
            ("any", Boolean, true),
            ("bytes", List, true),
            (" Integer ", Integer, true),
        ];
        for (host, kind, expected) in cases {
            assert_eq!(is_compatible(kind, host), expected, "{kind} for {host:?}");
        }
    }

    #[test]
    fn every_host_type_name_names_a_kind_that_its_type_accepts() {
        for name in host_type_names() {
            let kind = ValueKind::from_host_type_name(name).unwrap();
            assert!(is_compatible(kind, name), "{name}");
        }
        assert_eq!(ValueKind::from_host_type_name("int"), Some(Integer));
        assert_eq!(ValueKind::from_host_type_name("dict"), Some(Map));
        assert_eq!(ValueKind::from_host_type_name(" Number "), Some(Float));
        assert_eq!(ValueKind::from_host_type_name("bytes"), None);
    }

    #[test]
    fn a_json_value_fits_everything() {
        for host in ["integer", "string", "list", "map", "whatever"] {
            assert!(is_compatible(Any, host));
        }
    }
}
