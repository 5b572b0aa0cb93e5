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

/// The kinds the host type `type_name` accepts; `None` when it accepts anything.
pub fn accepted_kinds(type_name: &str) -> Option<&'static [ValueKind]> {
    let kinds: &'static [ValueKind] = match type_name.trim().to_ascii_lowercase().as_str() {
        "integer" | "int" => &[ValueKind::Integer],
        "float" | "number" => &[ValueKind::Float, ValueKind::Integer],
        "string" | "str" => &[ValueKind::String],
        "boolean" | "bool" => &[ValueKind::Boolean],
        "list" | "array" => &[ValueKind::List],
        "map" | "object" | "dict" => &[ValueKind::Map],
        _ => return None,
    };
    Some(kinds)
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
    fn a_json_value_fits_everything() {
        for host in ["integer", "string", "list", "map", "whatever"] {
            assert!(is_compatible(Any, host));
        }
    }
}
