//! Validates an `#[elixir_tools]` trait's [`model`](crate::model), reporting every problem at
//! its own tokens, in the order they are written, so one build shows them all.

use syn::ext::IdentExt;
use syn::GenericParam;

use crate::internals::signature::SelfArg;
use crate::internals::types::find_impl_trait;
use crate::internals::Ctxt;
use crate::model::{ResultShape, ToolArg, ToolMethod, ToolTrait, TraitHeader};
use crate::naming::{self, Unique};

pub(crate) fn check(model: &ToolTrait, cx: &mut Ctxt) {
    check_header(&model.header, cx);
    let mut tools_seen = Unique::new();
    for method in &model.methods {
        check_method(method, cx);
        if let Some(first) = tools_seen.first_owner(&method.tool_name, &method.ident) {
            cx.push(syn::Error::new(
                method.tool_name_span,
                format!(
                    "tool `{}` is already declared by method `{first}`; declare each tool once",
                    method.tool_name
                ),
            ));
        }
    }
    for stray in &model.strays {
        cx.at(
            stray,
            "an #[elixir_tools] trait holds only tool methods; move this item out of the trait",
        );
    }
}

/// The macro implements the trait for every tool caller: nothing in its header may stand in
/// the way.
fn check_header(header: &TraitHeader, cx: &mut Ctxt) {
    let generics = &header.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        cx.at(
            generics,
            "#[elixir_tools] traits cannot be generic; remove the generic parameters",
        );
    }
    if !header.supertraits.is_empty() {
        cx.at(
            &header.supertraits,
            "#[elixir_tools] traits cannot have supertraits: the macro implements the trait for every tool caller",
        );
    }
    if let Some(unsafety) = header.unsafety {
        cx.at(unsafety, "#[elixir_tools] traits cannot be `unsafe`");
    }
    if let Some(auto) = header.auto_token {
        cx.at(auto, "#[elixir_tools] traits cannot be auto traits");
    }
}

fn check_method(method: &ToolMethod, cx: &mut Ctxt) {
    if let Some(body) = &method.body {
        cx.at(
            body,
            "remove the body: #[elixir_tools] writes the body of each tool method",
        );
    }
    check_qualifiers(method, cx);
    check_generics(method, cx);
    check_not_shadowed(method, cx);
    check_self_arg(&method.self_arg, cx);
    let mut wire_names = Unique::new();
    for arg in &method.args {
        check_arg(arg, cx);
        if let Some(first) = wire_names.first_owner(&arg.wire_name, &arg.ident) {
            let message = format!(
                "parameter `{}` is already passed by argument `{first}`",
                arg.wire_name
            );
            match &arg.pattern {
                Some(pattern) => cx.at(pattern, message),
                None => cx.at(&arg.ident, message),
            }
        }
    }
    check_output(method, cx);
    let given = method.tool_name_given;
    naming::check_tool_name(&method.tool_name, method.tool_name_span, given, cx);
}

/// `async`, and no `const`, `unsafe` or ABI.
fn check_qualifiers(method: &ToolMethod, cx: &mut Ctxt) {
    let qualifiers = &method.qualifiers;
    if qualifiers.asyncness.is_none() {
        cx.at(
            qualifiers.fn_token,
            "tool methods are `async fn`; add `async` (the generated blocking trait has the plain `fn` of each)",
        );
    }
    if let Some(constness) = qualifiers.constness {
        cx.at(constness, "tool methods cannot be `const`");
    }
    if let Some(unsafety) = qualifiers.unsafety {
        cx.at(unsafety, "tool methods cannot be `unsafe`");
    }
    if let Some(abi) = &qualifiers.abi {
        cx.at(abi, "tool methods cannot have an `extern` ABI");
    }
}

/// Lifetimes only: no type or const generics, no `where` clause.
fn check_generics(method: &ToolMethod, cx: &mut Ctxt) {
    for param in &method.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            cx.at(
                param,
                "tool methods cannot be generic: use a concrete type (serde_json::Value accepts any JSON)",
            );
        }
    }
    if let Some(where_clause) = &method.generics.where_clause {
        cx.at(where_clause, "tool methods cannot have a `where` clause");
    }
}

/// A method named like one of the session context's own would be shadowed by it.
fn check_not_shadowed(method: &ToolMethod, cx: &mut Ctxt) {
    let ident = &method.ident;
    if snakepit_bridge_spec::CONTEXT_METHOD_NAMES.contains(&ident.unraw().to_string().as_str()) {
        cx.at(
            ident,
            format!(
                "a method named `{ident}` would be shadowed by the session context's own `{ident}`; \
                 rename the method and keep the tool's name with #[tool(name = \"{ident}\")]"
            ),
        );
    }
}

fn check_self_arg(self_arg: &SelfArg, cx: &mut Ctxt) {
    match self_arg {
        SelfArg::RefSelf => {}
        SelfArg::Other(receiver) => cx.at(receiver, "tool methods take `&self`"),
        SelfArg::Missing(at) => cx.push(syn::Error::new(
            *at,
            "tool methods take `&self` first; add `&self,`",
        )),
    }
}

fn check_arg(arg: &ToolArg, cx: &mut Ctxt) {
    if let Some(pattern) = &arg.pattern {
        cx.at(
            pattern,
            "use a plain name for each argument: it is the parameter's name on the host",
        );
    }
    if let Some(found) = find_impl_trait(&arg.ty) {
        cx.at(
            found,
            "`impl Trait` makes the method generic; use a concrete type",
        );
    }
    naming::check_kind(arg.kind_given.as_ref(), cx);
    naming::check_wire_name(&arg.wire_name, arg.wire_name_span, cx);
}

/// A call can fail: the method returns `Result<T, E>` (or an alias of it).
fn check_output(method: &ToolMethod, cx: &mut Ctxt) {
    if let Some(at) = method.missing_output {
        cx.push(syn::Error::new(
            at,
            "tool methods return `Result<T, E>`, since a call can fail: add `-> Result<T, snakepit_bridge::Error>`",
        ));
    } else if method.shape == ResultShape::Invalid {
        cx.at(
            &method.output,
            "tool methods return `Result<T, E>` (or an alias of it), since a call can fail",
        );
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;
    use crate::internals::attr::MacroOptions;
    use crate::internals::testing::{checked, message_starts as starts};
    use crate::parse::parse_trait;

    /// The messages the check reports for `item`, in order.
    fn check_messages(item: syn::ItemTrait) -> Vec<String> {
        checked(|cx| parse_trait(item, MacroOptions::default(), cx), check)
    }

    #[test]
    fn reports_every_problem_at_once_in_the_order_written() {
        let errors = check_messages(parse_quote! {
            trait Broken {
                async fn no_self(n: u32) -> Result<u32, Error>;
                async fn pattern(&self, (a, b): (u32, u32)) -> Result<u32, Error>;
                async fn generic<T>(&self, t: T) -> Result<u32, Error>;
                async fn not_result(&self) -> u32;
                #[tool(name = "bad name")]
                async fn named(&self) -> Result<u32, Error>;
                #[tool(name = "pattern")]
                async fn twin(&self) -> Result<u32, Error>;
                async fn ping(&self) -> Result<u32, Error>;
                const X: u32;
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "tool methods take `&self` first",
                "use a plain name for each argument",
                "tool methods cannot be generic",
                "tool methods return `Result<T, E>` (or an alias of it), since a call can fail",
                "invalid tool name `bad name`",
                "tool `pattern` is already declared by method `pattern`",
                "a method named `ping` would be shadowed by the session context's own `ping`",
                "an #[elixir_tools] trait holds only tool methods",
            ]
        );
    }

    #[test]
    fn a_method_without_async_or_return_type_is_told_what_to_add() {
        let errors = check_messages(parse_quote! {
            trait T {
                fn sync(&self) -> Result<u32, Error>;
                async fn nothing(&self);
                async fn body(&self) -> Result<u32, Error> { Ok(1) }
            }
        });
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("add `async`"));
        assert!(errors[1].ends_with("add `-> Result<T, snakepit_bridge::Error>`"));
        assert!(errors[2].starts_with("remove the body"));
    }

    #[test]
    fn an_unknown_kind_and_a_duplicate_parameter_are_reported() {
        let errors = check_messages(parse_quote! {
            trait T {
                async fn f(&self, #[param(kind = "tensor")] a: u32, #[param(rename = "a")] b: u32) -> Result<u32, Error>;
                async fn g(&self, #[param(rename = " ")] c: u32, d: impl Serialize) -> Result<u32, Error>;
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "unknown kind",
                "parameter `a` is already passed by argument `a`",
                "a parameter name cannot be empty",
                "`impl Trait` makes the method generic",
            ]
        );
    }

    #[test]
    fn the_trait_header_and_qualifiers_are_checked() {
        let errors = check_messages(parse_quote! {
            unsafe trait T<X>: Send {
                const unsafe extern "C" fn f<'a, U>(&mut self) -> Result<u32, Error> where U: Send;
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "#[elixir_tools] traits cannot be generic",
                "#[elixir_tools] traits cannot have supertraits",
                "#[elixir_tools] traits cannot be `unsafe`",
                "tool methods are `async fn`",
                "tool methods cannot be `const`",
                "tool methods cannot be `unsafe`",
                "tool methods cannot have an `extern` ABI",
                "tool methods cannot be generic",
                "tool methods cannot have a `where` clause",
                "tool methods take `&self`",
            ]
        );
    }

    #[test]
    fn a_valid_trait_checks_out() {
        let errors = check_messages(parse_quote! {
            trait T {
                async fn f<'a>(&self, n: u32, s: Option<&'a str>) -> Result<u32, Error>;
                #[tool(name = "ping")]
                async fn ping_host(&self) -> Res<()>;
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
    }
}
