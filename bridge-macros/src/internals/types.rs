//! What both attributes read from a type as written: the first type argument of a path type
//! (`T` of `Result<T, E>` or `Option<T>`), the `impl Trait` no tool can take, and the named
//! lifetimes code outside the method cannot name.

use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{GenericArgument, PathArguments, PathSegment, Type, TypePath};

/// The last segment of a path type: `Result<T, E>` of `std::result::Result<T, E>`.
pub(crate) fn last_segment(ty: &Type) -> Option<&PathSegment> {
    let Type::Path(path) = ty else { return None };
    path.path.segments.last()
}

/// The first type argument of `<...>`, lifetimes and bindings passed over.
pub(crate) fn first_type_argument(arguments: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// `T` of a path type named `name` (by its last segment) written with `<T, ...>`.
pub(crate) fn type_argument_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let last = last_segment(ty).filter(|last| last.ident == name)?;
    first_type_argument(&last.arguments)
}

/// `T` of a written-out `Result<T, E>`.
pub(crate) fn result_ok(ty: &Type) -> Option<&Type> {
    type_argument_of(ty, "Result")
}

/// The type inside a top-level `Option<_>`, if `ty` is one (not a `<T as Trait>::Option`).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(TypePath { qself: None, .. }) => type_argument_of(ty, "Option"),
        _ => None,
    }
}

/// The first `impl Trait` inside `ty`, if any.
pub(crate) fn find_impl_trait(ty: &Type) -> Option<syn::TypeImplTrait> {
    struct Finder(Option<syn::TypeImplTrait>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, node: &'ast syn::TypeImplTrait) {
            self.0.get_or_insert_with(|| node.clone());
        }
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}

/// `ty` with its named lifetimes (but `'static`) made `'_`, for code outside the method,
/// where they are not in scope.
pub(crate) fn erase_lifetimes(ty: &Type) -> Type {
    struct EraseLifetimes;
    impl VisitMut for EraseLifetimes {
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            if lifetime.ident != "static" {
                *lifetime = syn::Lifetime::new("'_", lifetime.span());
            }
        }
    }
    let mut ty = ty.clone();
    EraseLifetimes.visit_type_mut(&mut ty);
    ty
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;
    use syn::parse_quote;

    use super::*;

    fn text(ty: Option<&Type>) -> Option<String> {
        ty.map(|ty| ty.to_token_stream().to_string())
    }

    #[test]
    fn the_first_type_argument_passes_over_lifetimes() {
        let ty: Type = parse_quote!(Cow<'a, str>);
        let last = last_segment(&ty).unwrap();
        assert_eq!(last.ident, "Cow");
        assert_eq!(
            text(first_type_argument(&last.arguments)).as_deref(),
            Some("str")
        );
        let bare: Type = parse_quote!(String);
        assert!(first_type_argument(&last_segment(&bare).unwrap().arguments).is_none());
    }

    #[test]
    fn result_ok_reads_result_by_its_last_segment_only() {
        let ok = |ty: Type| text(result_ok(&ty));
        assert_eq!(ok(parse_quote!(Result<u32, Error>)).as_deref(), Some("u32"));
        assert_eq!(
            ok(parse_quote!(std::result::Result<Vec<u8>, E>)).as_deref(),
            Some("Vec < u8 >")
        );
        assert_eq!(ok(parse_quote!(Res<u32>)), None);
        assert_eq!(ok(parse_quote!(Result)), None);
        assert_eq!(ok(parse_quote!(&Result<u32, E>)), None);
    }

    #[test]
    fn option_inner_reads_only_a_plain_option() {
        let inner = |ty: Type| text(option_inner(&ty));
        assert_eq!(inner(parse_quote!(Option<&str>)).as_deref(), Some("& str"));
        assert_eq!(
            inner(parse_quote!(core::option::Option<u8>)).as_deref(),
            Some("u8")
        );
        assert_eq!(inner(parse_quote!(<T as Tr>::Option<u8>)), None);
        assert_eq!(inner(parse_quote!(Vec<u8>)), None);
    }

    #[test]
    fn finds_the_first_impl_trait_anywhere_in_a_type() {
        let ty: Type = parse_quote!(Vec<(u8, impl Display, impl Debug)>);
        let found = find_impl_trait(&ty).unwrap();
        assert_eq!(found.to_token_stream().to_string(), "impl Display");
        assert!(find_impl_trait(&parse_quote!(Vec<u8>)).is_none());
    }

    #[test]
    fn named_lifetimes_are_erased_and_static_kept() {
        let ty = erase_lifetimes(&parse_quote!(&'a Cow<'static, str>));
        let Type::Reference(reference) = &ty else {
            panic!("a reference")
        };
        assert_eq!(reference.lifetime.as_ref().unwrap().ident, "_");
        let arguments = &last_segment(&reference.elem).unwrap().arguments;
        let PathArguments::AngleBracketed(args) = arguments else {
            panic!("angle brackets")
        };
        assert!(matches!(&args.args[0], GenericArgument::Lifetime(l) if l.ident == "static"));
    }
}
