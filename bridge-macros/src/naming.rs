//! Names and kinds both attributes read, and check, the same way: a tool's name (from the
//! method or `#[tool(name = "...")]`, checked against snakepit's rule), a parameter's wire name
//! (from the argument or `#[param(rename = "...")]`), a `#[param(kind = "...")]`, and names
//! given twice. Reading is silent; each `check_` function reports what is wrong.

use std::collections::HashMap;

use proc_macro2::Span;
use snakepit_bridge_spec::{validate_tool_name, ValueKind};
use syn::ext::IdentExt;
use syn::{Ident, LitStr};

use crate::internals::attr::span_or;
use crate::internals::Ctxt;

/// The tool's name and where it is written.
pub(crate) fn tool_name(method: &Ident, given: Option<&LitStr>) -> (String, Span) {
    let name = match given {
        Some(name) => name.value(),
        None => method.unraw().to_string(),
    };
    (name, span_or(given, method.span()))
}

/// Reports a tool name that breaks snakepit's rule at `span`, with a fix that fits where it
/// came from (`given`: from `#[tool(name = "...")]`).
pub(crate) fn check_tool_name(name: &str, span: Span, given: bool, cx: &mut Ctxt) {
    if let Err(reason) = validate_tool_name(name) {
        let fix = if given {
            "write a name that follows the rule"
        } else {
            "keep the method's name and give the tool another with #[tool(name = \"...\")]"
        };
        cx.push(syn::Error::new(
            span,
            format!("invalid tool name `{name}`: {reason}; {fix}"),
        ));
    }
}

/// The parameter's name on the wire and where it is written.
pub(crate) fn wire_name(argument: &Ident, rename: Option<&LitStr>) -> (String, Span) {
    let name = match rename {
        Some(rename) => rename.value(),
        None => argument.unraw().to_string(),
    };
    (name, span_or(rename, argument.span()))
}

/// Reports an empty wire name (only `rename = ""` can write one) at `span`.
pub(crate) fn check_wire_name(name: &str, span: Span, cx: &mut Ctxt) {
    if name.trim().is_empty() {
        cx.push(syn::Error::new(
            span,
            "a parameter name cannot be empty; write the name the call passes, or remove `rename`",
        ));
    }
}

/// The kind `#[param(kind = "...")]` names, if given and known.
pub(crate) fn declared_kind(kind: Option<&LitStr>) -> Option<ValueKind> {
    ValueKind::from_host_type_name(&kind?.value())
}

/// Reports a `#[param(kind = "...")]` that names no kind, with the ones there are.
pub(crate) fn check_kind(kind: Option<&LitStr>, cx: &mut Ctxt) {
    let Some(kind) = kind else { return };
    if declared_kind(Some(kind)).is_none() {
        let names: Vec<String> = snakepit_bridge_spec::host_type_names()
            .map(|name| format!("\"{name}\""))
            .collect();
        cx.at(
            kind,
            format!("unknown kind; use one of {}", names.join(", ")),
        );
    }
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
