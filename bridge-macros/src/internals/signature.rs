//! What both attributes read from a method's signature: whether it takes `&self` first, and an
//! argument's plain name. What each says about a wrong one is its own.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Pat, PatIdent, Signature};

/// How a tool method takes `self`, which must be `&self`.
pub(crate) enum SelfArg {
    /// `&self` (or `&'a self`).
    RefSelf,
    /// Another receiver, as written: `self`, `&mut self`, `self: Box<Self>`.
    Other(syn::Receiver),
    /// No receiver; where an error about it points: the first input, else the method's name.
    Missing(Span),
}

impl SelfArg {
    /// How `sig` takes `self`.
    pub(crate) fn of(sig: &Signature) -> SelfArg {
        match sig.inputs.first() {
            Some(FnArg::Receiver(receiver))
                if receiver.reference.is_some()
                    && receiver.mutability.is_none()
                    && receiver.colon_token.is_none() =>
            {
                SelfArg::RefSelf
            }
            Some(FnArg::Receiver(receiver)) => SelfArg::Other(receiver.clone()),
            Some(first) => SelfArg::Missing(first.span()),
            None => SelfArg::Missing(sig.ident.span()),
        }
    }
}

/// The argument's name when it is a plain one (`name` or `mut name`, no `ref`, no `@`
/// pattern); whether `mut` is allowed is for the caller to say.
pub(crate) fn plain_name(pat: &Pat) -> Option<&PatIdent> {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn kind(sig: Signature) -> &'static str {
        match SelfArg::of(&sig) {
            SelfArg::RefSelf => "&self",
            SelfArg::Other(_) => "other",
            SelfArg::Missing(_) if sig.inputs.is_empty() => "none",
            SelfArg::Missing(_) => "argument",
        }
    }

    #[test]
    fn only_a_shared_reference_to_self_is_the_receiver_of_a_tool() {
        assert_eq!(kind(parse_quote!(fn f(&self, n: u32))), "&self");
        assert_eq!(kind(parse_quote!(fn f(&'a self))), "&self");
        assert_eq!(kind(parse_quote!(fn f(&mut self))), "other");
        assert_eq!(kind(parse_quote!(fn f(self))), "other");
        assert_eq!(kind(parse_quote!(fn f(self: &Self))), "other");
        assert_eq!(kind(parse_quote!(fn f(n: u32))), "argument");
        assert_eq!(kind(parse_quote!(fn f())), "none");
    }

    #[test]
    fn plain_names_allow_mut_but_no_patterns() {
        let name =
            |pat: Pat| plain_name(&pat).map(|p| (p.ident.to_string(), p.mutability.is_some()));
        assert_eq!(name(parse_quote!(n)), Some(("n".to_owned(), false)));
        assert_eq!(name(parse_quote!(mut n)), Some(("n".to_owned(), true)));
        assert_eq!(name(parse_quote!(ref n)), None);
        assert_eq!(name(parse_quote!(n @ 1)), None);
        assert_eq!(name(parse_quote!((a, b))), None);
    }
}
