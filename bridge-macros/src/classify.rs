//! What kind of JSON value a Rust argument type sends, read from the type as written.
//!
//! The macro sees only syntax: it knows `u32`, `&str`, `Vec<T>`, `HashMap<K, V>`,
//! `serde_json::Value` and the like, and takes any other named type for a struct, which
//! serializes to a map. `#[param(kind = "...")]` says otherwise for types it cannot see into
//! (a newtype that serializes as an integer, an enum that serializes as a string, an alias).

use snakepit_bridge_spec::ValueKind;
use syn::{PathArguments, Type, TypePath};

use crate::internals::types::{first_type_argument, option_inner};

/// How an argument type was classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Classified {
    /// `Option<T>` at the top: an optional parameter.
    pub(crate) optional: bool,
    /// The kind of value sent (for `Option<T>`, `T`'s).
    pub(crate) kind: ValueKind,
    /// Whether `kind` is a guess for a named type the macro cannot see into.
    pub(crate) guessed: bool,
}

pub(crate) fn classify(ty: &Type) -> Classified {
    let (optional, inner) = match option_inner(ty) {
        Some(inner) => (true, inner),
        None => (false, ty),
    };
    let (kind, guessed) = kind_of(inner);
    Classified {
        optional,
        kind,
        guessed,
    }
}

fn kind_of(ty: &Type) -> (ValueKind, bool) {
    match ty {
        Type::Reference(reference) => kind_of(&reference.elem),
        Type::Paren(paren) => kind_of(&paren.elem),
        Type::Group(group) => kind_of(&group.elem),
        Type::Slice(_) | Type::Array(_) => (ValueKind::List, false),
        Type::Tuple(tuple) if tuple.elems.is_empty() => (ValueKind::Any, false),
        Type::Tuple(_) => (ValueKind::List, false),
        Type::Path(TypePath { qself: None, path }) => match path.segments.last() {
            Some(last) => kind_of_named(&last.ident.to_string(), &last.arguments),
            None => (ValueKind::Any, true),
        },
        _ => (ValueKind::Any, true),
    }
}

fn kind_of_named(name: &str, arguments: &PathArguments) -> (ValueKind, bool) {
    let known = |kind| (kind, false);
    match name {
        "str" | "String" | "char" => known(ValueKind::String),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => known(ValueKind::Integer),
        _ if name.starts_with("NonZero") => known(ValueKind::Integer),
        "f32" | "f64" => known(ValueKind::Float),
        "bool" => known(ValueKind::Boolean),
        "Vec" | "VecDeque" | "LinkedList" | "HashSet" | "BTreeSet" | "BinaryHeap" | "IndexSet" => {
            known(ValueKind::List)
        }
        "HashMap" | "BTreeMap" | "Map" | "IndexMap" => known(ValueKind::Map),
        "Value" => known(ValueKind::Any),
        "Box" | "Rc" | "Arc" | "Cow" | "Option" => match first_type_argument(arguments) {
            Some(inner) => kind_of(inner),
            None => (ValueKind::Any, true),
        },
        // Any other named type: a struct of yours, which serde sends as a map.
        _ => (ValueKind::Map, true),
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn kind(ty: Type) -> (bool, ValueKind, bool) {
        let c = classify(&ty);
        (c.optional, c.kind, c.guessed)
    }

    #[test]
    fn scalars_and_strings() {
        assert_eq!(kind(parse_quote!(u32)), (false, ValueKind::Integer, false));
        assert_eq!(
            kind(parse_quote!(std::num::NonZeroU64)),
            (false, ValueKind::Integer, false)
        );
        assert_eq!(kind(parse_quote!(f64)), (false, ValueKind::Float, false));
        assert_eq!(kind(parse_quote!(bool)), (false, ValueKind::Boolean, false));
        assert_eq!(kind(parse_quote!(&str)), (false, ValueKind::String, false));
        assert_eq!(
            kind(parse_quote!(&'a String)),
            (false, ValueKind::String, false)
        );
        assert_eq!(
            kind(parse_quote!(Cow<'_, str>)),
            (false, ValueKind::String, false)
        );
    }

    #[test]
    fn sequences_and_maps() {
        assert_eq!(kind(parse_quote!(&[i64])), (false, ValueKind::List, false));
        assert_eq!(kind(parse_quote!([u8; 4])), (false, ValueKind::List, false));
        assert_eq!(
            kind(parse_quote!(Vec<String>)),
            (false, ValueKind::List, false)
        );
        assert_eq!(
            kind(parse_quote!((u32, bool))),
            (false, ValueKind::List, false)
        );
        assert_eq!(
            kind(parse_quote!(HashMap<String, u32>)),
            (false, ValueKind::Map, false)
        );
        assert_eq!(
            kind(parse_quote!(&BTreeMap<String, Value>)),
            (false, ValueKind::Map, false)
        );
    }

    #[test]
    fn options_are_optional_and_classified_inside() {
        assert_eq!(
            kind(parse_quote!(Option<&str>)),
            (true, ValueKind::String, false)
        );
        assert_eq!(
            kind(parse_quote!(core::option::Option<Vec<u8>>)),
            (true, ValueKind::List, false)
        );
        assert_eq!(
            kind(parse_quote!(Option<Option<u8>>)),
            (true, ValueKind::Integer, false)
        );
    }

    #[test]
    fn json_values_are_any_and_unknown_types_are_guessed_maps() {
        assert_eq!(
            kind(parse_quote!(serde_json::Value)),
            (false, ValueKind::Any, false)
        );
        assert_eq!(kind(parse_quote!(&Point)), (false, ValueKind::Map, true));
        assert_eq!(
            kind(parse_quote!(Box<Point>)),
            (false, ValueKind::Map, true)
        );
    }
}
