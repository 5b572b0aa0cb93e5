//! Collects every problem, so one build reports them all.

use proc_macro2::TokenStream;
use std::fmt::Display;

/// Errors found so far, each at its own span.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// An error at the tokens of `at`.
    pub(crate) fn at<T: quote::ToTokens, M: Display>(&mut self, at: T, message: M) {
        self.push(syn::Error::new_spanned(at, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}
