//! The error context both attributes report into, as serde_derive's `Ctxt`: every problem is
//! collected, so one build reports them all, and the context must be consumed by
//! [`Ctxt::check`], so that no error is forgotten.

use std::fmt::Display;

/// Errors found so far, each at its own span, in the order they were found.
pub(crate) struct Ctxt {
    /// `None` once checked: a context dropped while this is `Some` was never checked.
    errors: Option<Vec<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: Some(Vec::new()),
        }
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors
            .as_mut()
            .expect("the context is consumed by `check`")
            .push(error);
    }

    /// An error at the tokens of `at`.
    pub(crate) fn at<T: quote::ToTokens, M: Display>(&mut self, at: T, message: M) {
        self.push(syn::Error::new_spanned(at, message));
    }

    /// Whether a problem has been reported so far.
    pub(crate) fn has_errors(&self) -> bool {
        self.errors
            .as_ref()
            .is_some_and(|errors| !errors.is_empty())
    }

    /// Consumes the context: every error found, combined in the order found.
    pub(crate) fn check(mut self) -> syn::Result<()> {
        let mut errors = self.errors.take().into_iter().flatten();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }

    /// Consumes the context: every error found, as `compile_error!` invocations (none when
    /// there is no error).
    pub(crate) fn into_compile_errors(self) -> proc_macro2::TokenStream {
        self.check()
            .err()
            .map(|error| error.to_compile_error())
            .unwrap_or_default()
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        // A panic already under way says more than this one would.
        if !std::thread::panicking() && self.errors.is_some() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::Span;

    use super::*;
    use crate::internals::testing::messages;

    #[test]
    fn combines_every_error_in_the_order_found() {
        let mut cx = Ctxt::new();
        assert!(!cx.has_errors());
        cx.push(syn::Error::new(Span::call_site(), "first"));
        cx.at(quote::quote!(x), "second");
        assert!(cx.has_errors());
        assert_eq!(messages(cx.check()), ["first", "second"]);
    }

    #[test]
    fn a_context_without_errors_checks_out() {
        assert!(Ctxt::new().check().is_ok());
        assert!(Ctxt::new().into_compile_errors().is_empty());
    }

    #[test]
    fn compile_errors_name_each_message() {
        let mut cx = Ctxt::new();
        cx.push(syn::Error::new(Span::call_site(), "one"));
        cx.push(syn::Error::new(Span::call_site(), "two"));
        let file: syn::File = syn::parse2(cx.into_compile_errors()).unwrap();
        assert_eq!(file.items.len(), 2);
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn dropping_an_unchecked_context_panics() {
        let mut cx = Ctxt::new();
        cx.push(syn::Error::new(Span::call_site(), "lost"));
        drop(cx);
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn dropping_an_unchecked_context_panics_even_without_errors() {
        drop(Ctxt::new());
    }
}
