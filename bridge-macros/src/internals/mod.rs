//! The reader layer both attributes share, as serde_derive's `internals`: the error context
//! ([`Ctxt`]), the attribute options ([`attr`]), what is read from types ([`types`]) and from
//! signatures ([`signature`]), and the driver that runs an attribute's pipeline
//! ([`expand_attribute`]).

pub(crate) mod attr;
pub(crate) mod ctxt;
pub(crate) mod signature;
#[cfg(test)]
pub(crate) mod testing;
pub(crate) mod types;

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) use ctxt::Ctxt;

/// Runs an attribute on `input`: reads its options, picks the item it goes on (`pick`, else
/// the error `misplaced`), and hands both to `expand`, which parses, checks and writes the
/// code. Returns the code with every error found.
pub(crate) fn expand_attribute<O, T>(
    input: TokenStream,
    read_options: impl FnOnce(&mut Ctxt) -> O,
    pick: impl FnOnce(syn::Item) -> Option<T>,
    misplaced: &str,
    expand: impl FnOnce(T, O, &mut Ctxt) -> TokenStream,
) -> TokenStream {
    let mut cx = Ctxt::new();
    let options = read_options(&mut cx);
    let item = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(item) => pick(item),
        Err(error) => {
            // The item's own syntax error is the one to fix first: it is shown alone.
            let _ = cx.check();
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
    };
    let Some(item) = item else {
        cx.push(syn::Error::new(Span::call_site(), misplaced));
        // Keep the item, so that its uses raise no follow-on errors.
        let errors = cx.into_compile_errors();
        return quote!(#input #errors);
    };
    let code = expand(item, options, &mut cx);
    let errors = cx.into_compile_errors();
    quote!(#code #errors)
}

#[cfg(test)]
mod tests {
    use super::testing::compile_error_messages;
    use super::*;

    fn run(input: TokenStream) -> syn::File {
        let code = expand_attribute(
            input,
            |cx| cx.at(quote!(option), "bad option"),
            |item| match item {
                syn::Item::Struct(item) => Some(item),
                _ => None,
            },
            "goes on a struct",
            |item, (), cx| {
                cx.at(&item.ident, "bad struct");
                quote!(#item)
            },
        );
        syn::parse2(code).unwrap()
    }

    #[test]
    fn the_code_comes_with_every_error_in_order() {
        let file = run(quote!(
            struct S;
        ));
        assert!(matches!(&file.items[0], syn::Item::Struct(s) if s.ident == "S"));
        assert_eq!(compile_error_messages(&file), ["bad option", "bad struct"]);
    }

    #[test]
    fn a_misplaced_attribute_keeps_the_item_beside_the_error() {
        let file = run(quote!(
            enum E {}
        ));
        assert!(matches!(&file.items[0], syn::Item::Enum(e) if e.ident == "E"));
        assert_eq!(
            compile_error_messages(&file),
            ["bad option", "goes on a struct"]
        );
    }
}
