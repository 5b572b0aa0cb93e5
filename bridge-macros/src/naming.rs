//! Names and kinds both attributes read the same way: a tool's name (from the method or
//! `#[tool(name = "...")]`, checked against snakepit's rule), a parameter's wire name (from the
//! argument or `#[param(rename = "...")]`), a `#[param(kind = "...")]`, names given twice, and
//! the `impl Trait` no tool can take.

use std::collections::HashMap;

use proc_macro2::Span;
use snakepit_bridge_spec::{validate_tool_name, ValueKind};
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{Ident, LitStr, Type};

use crate::attrs::span_or;
use crate::errors::Errors;

/// The tool's name and where it is written; an invalid name is reported there, with a fix
/// that fits where it came from.
pub(crate) fn tool_name(
    method: &Ident,
    given: Option<&LitStr>,
    errors: &mut Errors,
) -> (String, Span) {
    let name = match given {
        Some(name) => name.value(),
        None => method.unraw().to_string(),
    };
    let span = span_or(given, method.span());
    if let Err(reason) = validate_tool_name(&name) {
        let fix = if given.is_some() {
            "write a name that follows the rule"
        } else {
            "keep the method's name and give the tool another with #[tool(name = \"...\")]"
        };
        errors.push(syn::Error::new(
            span,
            format!("invalid tool name `{name}`: {reason}; {fix}"),
        ));
    }
    (name, span)
}

/// The parameter's name on the wire and where it is written.
pub(crate) fn wire_name(
    argument: &Ident,
    rename: Option<&LitStr>,
    errors: &mut Errors,
) -> (String, Span) {
    if let Some(rename) = rename {
        if rename.value().trim().is_empty() {
            errors.at(
                rename,
                "a parameter name cannot be empty; write the name the call passes, or remove `rename`",
            );
        }
    }
    let name = match rename {
        Some(rename) => rename.value(),
        None => argument.unraw().to_string(),
    };
    (name, span_or(rename, argument.span()))
}

/// The kind `#[param(kind = "...")]` names, if given and known.
pub(crate) fn declared_kind(kind: Option<&LitStr>, errors: &mut Errors) -> Option<ValueKind> {
    let kind = kind?;
    let known = ValueKind::from_host_type_name(&kind.value());
    if known.is_none() {
        let names: Vec<String> = snakepit_bridge_spec::host_type_names()
            .map(|name| format!("\"{name}\""))
            .collect();
        errors.at(
            kind,
            format!("unknown kind; use one of {}", names.join(", ")),
        );
    }
    known
}

/// Remembers names and who took them first, to report a name given twice.
pub(crate) struct Unique(HashMap<String, Ident>);

impl Unique {
    pub(crate) fn new() -> Self {
        Unique(HashMap::new())
    }

    /// `None` the first time `name` is seen (by `owner`); the first owner afterwards.
    pub(crate) fn first_owner(&mut self, name: &str, owner: &Ident) -> Option<&Ident> {
        if self.0.contains_key(name) {
            return self.0.get(name);
        }
        self.0.insert(name.to_owned(), owner.clone());
        None
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
