//! Validates a `#[worker_tools]` block's [`model`](super::model), reporting every problem at
//! its own tokens, in the order they are written, so one build shows them all.

use super::model::{
    ArgSource, Method, Parameter, Taking, Unusable, WorkerArg, WorkerImpl, WorkerTool,
};
use crate::internals::signature::SelfArg;
use crate::internals::Ctxt;
use crate::naming::{self, Unique};

pub(crate) fn check(model: &WorkerImpl, cx: &mut Ctxt) {
    check_header(model, cx);
    let mut names = Unique::new();
    for method in &model.methods {
        let tool = match method {
            Method::Tool(tool) => tool,
            Method::WrongReceiver { method, self_arg } => {
                check_self_arg(method, self_arg, cx);
                continue;
            }
            Method::PrivateNamed(name) => {
                cx.at(name, "only `pub` methods are tools; make the method `pub`");
                continue;
            }
        };
        check_tool(tool, cx);
        if let Some(first) = names.first_owner(&tool.tool_name, &tool.method) {
            cx.at(
                &tool.method,
                format!(
                    "tool `{}` is already served by method `{first}`; name each tool once",
                    tool.tool_name
                ),
            );
        }
    }
    // Said only when nothing else is: a block whose tools are all broken has tools.
    if model.tools().next().is_none() && !cx.has_errors() {
        cx.push(syn::Error::new(
            model.item.impl_token.span,
            "this #[worker_tools] block has no tools: each `pub fn` or `pub async fn` taking `&self` is one",
        ));
    }
}

/// The worker serves one concrete type's own methods.
fn check_header(model: &WorkerImpl, cx: &mut Ctxt) {
    if let Some((_, path, _)) = &model.item.trait_ {
        cx.at(
            path,
            "#[worker_tools] goes on an inherent `impl` block (`impl MyTools { ... }`), not on a trait implementation",
        );
    }
    if !model.item.generics.params.is_empty() {
        cx.at(
            &model.item.generics,
            "#[worker_tools] blocks cannot be generic: the worker serves one concrete type; put the tools on a concrete type (a type alias works)",
        );
    }
}

/// A `pub` method takes `&self`, as a tool must.
fn check_self_arg(method: &syn::Ident, self_arg: &SelfArg, cx: &mut Ctxt) {
    match self_arg {
        SelfArg::RefSelf => {}
        SelfArg::Other(receiver) => cx.at(
            receiver,
            "tool methods take `&self` (calls run concurrently); keep mutable state behind a Mutex",
        ),
        // At the name, wherever the arguments are: `&self` is what the method lacks.
        SelfArg::Missing(_) => cx.at(
            method,
            "a `pub fn` in a #[worker_tools] block is a tool and takes `&self`; add `&self`, make it non-`pub`, or mark it #[tool(skip)]",
        ),
    }
}

fn check_tool(tool: &WorkerTool, cx: &mut Ctxt) {
    for param in &tool.generics.params {
        cx.at(
            param,
            "tool methods cannot be generic: the host calls them by name with JSON values; use a concrete type, or mark a helper method #[tool(skip)] (or make it non-`pub`)",
        );
    }
    if let Some(unsafety) = tool.unsafety {
        cx.at(
            unsafety,
            "tool methods cannot be `unsafe`: the host calls them with any input; remove `unsafe` and call unsafe code inside",
        );
    }
    check_args(&tool.args, cx);
    if let Some(at) = tool.missing_output {
        cx.push(syn::Error::new(
            at,
            "tool methods return `Result<T, E>`, since a call can fail: add `-> Result<T, ToolError>`",
        ));
    }
    naming::check_tool_name(
        &tool.tool_name,
        tool.tool_name_span,
        tool.tool_name_given,
        cx,
    );
}

/// Each argument, each wire name once and one `rest` at most.
fn check_args(args: &[WorkerArg], cx: &mut Ctxt) {
    let mut wire_names = Unique::new();
    let mut has_rest = false;
    for arg in args {
        let Some(parameter) = check_arg(arg, cx) else {
            continue;
        };
        if matches!(parameter.taking, Taking::Rest) {
            if has_rest {
                cx.at(
                    &arg.pat,
                    "only one argument can take the rest of the parameters; keep #[param(rest)] on one",
                );
            }
            has_rest = true;
        }
        if let Some(first) = wire_names.first_owner(&parameter.wire_name, &arg.ident) {
            cx.at(
                &arg.pat,
                format!(
                    "parameter `{}` is already taken by argument `{first}`; give one another name with #[param(rename = \"...\")]",
                    parameter.wire_name
                ),
            );
        }
    }
}

/// Checks one argument; its parameter, when it is a usable one.
fn check_arg<'a>(arg: &'a WorkerArg, cx: &mut Ctxt) -> Option<&'a Parameter> {
    match &arg.source {
        ArgSource::Unusable(Unusable::Pattern) => cx.at(
            &arg.pat,
            "use a plain name for each argument: it is the parameter's name on the wire",
        ),
        ArgSource::Unusable(Unusable::Borrowed(reference)) => cx.at(
            reference,
            "tool arguments are owned values decoded from JSON: use `String` for `&str`, `Vec<T>` for `&[T]`; only the call's context is borrowed (`ctx: &ToolContext`)",
        ),
        ArgSource::Unusable(Unusable::ImplTrait(found)) => cx.at(
            found,
            "`impl Trait` cannot be decoded from JSON; use a concrete type",
        ),
        // The context is not a parameter: `#[param(...)]` keys say nothing about it.
        ArgSource::Borrowed(_) => {
            for (_, span) in &arg.given {
                cx.push(syn::Error::new(
                    *span,
                    "a borrowed argument is the call's context, not a parameter: remove #[param(...)]",
                ));
            }
        }
        ArgSource::Parameter(parameter) => return check_parameter(arg, parameter, cx),
    }
    None
}

fn check_parameter<'a>(
    arg: &WorkerArg,
    parameter: &'a Parameter,
    cx: &mut Ctxt,
) -> Option<&'a Parameter> {
    naming::check_wire_name(&parameter.wire_name, parameter.wire_name_span, cx);
    // `default`, `binary` and `rest` say where the value comes from: one at most.
    let sources = arg
        .given
        .iter()
        .filter(|(key, _)| matches!(*key, "default" | "binary" | "rest"))
        .count();
    if sources > 1 {
        cx.at(
            &arg.pat,
            "`default`, `binary` and `rest` exclude each other; keep one",
        );
    }
    if parameter.defaults_an_option() {
        cx.at(
            &arg.ty,
            "an argument with a default is not an `Option`: the default fills it in; take the value's type, or remove `default`",
        );
        return None;
    }
    naming::check_kind(parameter.kind_given.as_ref(), cx);
    Some(parameter)
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;
    use crate::internals::attr::MacroOptions;
    use crate::internals::testing::{checked, message_starts as starts};
    use crate::worker_tools::parse::parse_impl;

    /// The messages the check reports for `item`, in order.
    fn check_messages(item: syn::ItemImpl) -> Vec<String> {
        checked(|cx| parse_impl(item, MacroOptions::default(), cx), check)
    }

    #[test]
    fn reports_every_problem_at_once_in_the_order_written() {
        let errors = check_messages(parse_quote! {
            impl Broken {
                pub fn no_self(n: u32) -> Result<u32, ToolError> { todo!() }
                pub fn borrowed(&self, s: &str) -> Result<u32, ToolError> { todo!() }
                pub fn generic<T>(&self, t: T) -> Result<u32, ToolError> { todo!() }
                #[tool(name = "bad name")]
                pub fn named(&self) -> Result<u32, ToolError> { todo!() }
                #[tool(name = "named_twice")]
                pub fn a(&self) -> Result<u32, ToolError> { todo!() }
                #[tool(name = "named_twice")]
                pub fn b(&self) -> Result<u32, ToolError> { todo!() }
                pub fn both(&self, #[param(binary, rest)] x: Vec<u8>) -> Result<u32, ToolError> { todo!() }
                pub fn nothing(&self) { }
                pub fn mutable(&mut self) -> Result<u32, ToolError> { todo!() }
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "a `pub fn` in a #[worker_tools] block is a tool and takes `&self`",
                "tool arguments are owned values decoded from JSON",
                "tool methods cannot be generic",
                "invalid tool name `bad name`",
                "tool `named_twice` is already served by method `a`",
                "`default`, `binary` and `rest` exclude each other",
                "tool methods return `Result<T, E>`, since a call can fail",
                "tool methods take `&self` (calls run concurrently)",
            ]
        );
        assert!(errors[3].ends_with("write a name that follows the rule"));
    }

    #[test]
    fn parameters_are_checked_each_and_together() {
        let errors = check_messages(parse_quote! {
            impl Tools {
                pub fn f(
                    &self,
                    #[param(rename = "")] a: u32,
                    #[param(default = 1)] b: Option<u32>,
                    #[param(kind = "tensor")] c: u32,
                    #[param(rest)] d: Map<String, Value>,
                    #[param(rest, rename = "c")] e: Map<String, Value>,
                    #[param(rename = "x")] ctx: &ToolContext,
                    g: impl Serialize,
                    (h, i): (u32, u32),
                ) -> Result<u32, ToolError> { todo!() }
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "a parameter name cannot be empty",
                "an argument with a default is not an `Option`",
                "unknown kind",
                "only one argument can take the rest of the parameters",
                "parameter `c` is already taken by argument `c`",
                "a borrowed argument is the call's context, not a parameter",
                "`impl Trait` cannot be decoded from JSON",
                "use a plain name for each argument",
            ]
        );
    }

    #[test]
    fn the_block_header_is_checked() {
        let errors = check_messages(parse_quote! {
            impl<T> Tool for Tools<T> {
                pub fn f(&self) -> Result<u32, ToolError> { todo!() }
                #[tool(name = "hidden")]
                fn hidden(&self) {}
                pub unsafe fn raw(&self) -> Result<u32, ToolError> { todo!() }
            }
        });
        assert_eq!(
            starts(&errors),
            [
                "#[worker_tools] goes on an inherent `impl` block (`impl MyTools { ... }`), not on a trait implementation",
                "#[worker_tools] blocks cannot be generic",
                "only `pub` methods are tools",
                "tool methods cannot be `unsafe`",
            ]
        );
    }

    #[test]
    fn a_block_without_tools_is_reported_only_when_nothing_else_is() {
        let errors = check_messages(parse_quote! {
            impl Empty { fn private(&self) {} #[tool(skip)] pub fn new() -> Self { todo!() } }
        });
        assert_eq!(starts(&errors), ["this #[worker_tools] block has no tools"]);
        let errors = check_messages(parse_quote! {
            impl Empty { pub fn new() -> Self { todo!() } }
        });
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].ends_with("or mark it #[tool(skip)]"));
    }
}
