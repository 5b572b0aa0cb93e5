//! Reads a `#[worker_tools]` block into the [`model`](super::model). Only what needs the
//! attribute tokens is reported here (the options of `#[tool]` and `#[param]`); everything
//! else is validated by [`super::check`], which sees the model.

use proc_macro2::Span;
use snakepit_bridge_spec::ValueKind;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Signature, Type, Visibility};

use super::model::{
    AnswerShape, ArgSource, Method, Parameter, Taking, Unusable, WorkerArg, WorkerImpl, WorkerTool,
};
use crate::classify::classify;
use crate::internals::attr::{self, Keys, MacroOptions, ParamOptions, ToolOptions};
use crate::internals::signature::{self, SelfArg};
use crate::internals::types::{find_impl_trait, option_inner, result_ok};
use crate::internals::Ctxt;
use crate::naming;

/// The keys of `#[worker_tools(...)]`.
const MACRO_KEYS: Keys = Keys {
    allowed: &["crate"],
    unknown: "unknown option of #[worker_tools]; the only one is `crate = \"snakepit_bridge::worker\"`; name tools with #[tool(name = \"...\")] on methods",
};

/// The keys of `#[tool(...)]` on a worker method.
const TOOL_KEYS: Keys = Keys {
    allowed: &["name", "streaming", "skip"],
    unknown: "unknown key of #[tool]; use `name = \"tool_name\"`, `streaming` or `skip`",
};

/// The keys of `#[param(...)]` on a worker method's argument.
const PARAM_KEYS: Keys = Keys {
    allowed: &["rename", "kind", "default", "binary", "rest", "description"],
    unknown: "unknown key of #[param]; use `rename = \"wire_name\"`, `default = <value>`, `binary`, `rest`, `kind = \"integer\"` or `description = \"...\"`",
};

/// Reads `#[worker_tools(...)]`.
pub(crate) fn macro_options(args: proc_macro2::TokenStream, cx: &mut Ctxt) -> MacroOptions {
    attr::macro_options(args, &MACRO_KEYS, "snakepit_bridge::worker", cx)
}

pub(crate) fn parse_impl(mut item: ItemImpl, options: MacroOptions, cx: &mut Ctxt) -> WorkerImpl {
    let krate = options.runtime(quote::quote!(::snakepit_bridge::worker));
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let options = attr::tool_options(&mut method.attrs, &TOOL_KEYS, cx);
        if options.skip.is_some() {
            attr::strip_param_attributes(&mut method.sig);
        } else if !matches!(method.vis, Visibility::Public(_)) {
            methods.extend(options.name.map(Method::PrivateNamed));
        } else {
            methods.push(parse_method(method, options, cx));
        }
    }
    WorkerImpl {
        item,
        methods,
        krate,
    }
}

/// A `pub` method: a tool when it takes `&self`.
fn parse_method(method: &mut ImplItemFn, options: ToolOptions, cx: &mut Ctxt) -> Method {
    let description = attr::doc_text(&method.attrs);
    let self_arg = SelfArg::of(&method.sig);
    if !matches!(self_arg, SelfArg::RefSelf) {
        attr::strip_param_attributes(&mut method.sig);
        let method = method.sig.ident.clone();
        return Method::WrongReceiver { method, self_arg };
    }
    let sig = &mut method.sig;
    let args = parse_args(sig, cx);
    let (answer, output_span, output) = parse_answer(sig, options.streaming.is_some());
    let value_ty = output.as_ref().and_then(|ty| answered_type(ty, answer));
    let (tool_name, tool_name_span) = naming::tool_name(&sig.ident, options.name.as_ref());
    Method::Tool(Box::new(WorkerTool {
        method: sig.ident.clone(),
        tool_name,
        tool_name_span,
        tool_name_given: options.name.is_some(),
        description,
        is_async: sig.asyncness.is_some(),
        generics: sig.generics.clone(),
        unsafety: sig.unsafety,
        args,
        answer,
        missing_output: output.is_none().then(|| sig.paren_token.span.join()),
        output,
        output_span,
        value_ty,
    }))
}

/// The arguments after `&self`, their `#[param(...)]` read and removed.
fn parse_args(sig: &mut Signature, cx: &mut Ctxt) -> Vec<WorkerArg> {
    let mut args = Vec::new();
    for (index, input) in sig.inputs.iter_mut().skip(1).enumerate() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let options = attr::param_options(&mut pat_type.attrs, &PARAM_KEYS, cx);
        args.push(parse_arg(pat_type, index, options));
    }
    args
}

/// How the method answers, where errors about the answer point, and the return type (`None`
/// when there is none).
fn parse_answer(sig: &Signature, marked_streaming: bool) -> (AnswerShape, Span, Option<Type>) {
    match &sig.output {
        ReturnType::Default => (AnswerShape::Unary, sig.ident.span(), None),
        ReturnType::Type(_, ty) => (
            answer_shape(ty, marked_streaming),
            ty.span(),
            Some((**ty).clone()),
        ),
    }
}

fn parse_arg(pat_type: &syn::PatType, index: usize, options: ParamOptions) -> WorkerArg {
    let ty = (*pat_type.ty).clone();
    let given = given_keys(&options);
    let plain = signature::plain_name(&pat_type.pat).map(|pat| pat.ident.clone());
    let ident = plain
        .clone()
        .unwrap_or_else(|| quote::format_ident!("__arg{}", index));
    let source = match (&ty, plain) {
        (_, None) => ArgSource::Unusable(Unusable::Pattern),
        (Type::Reference(reference), _) => borrowed_source(reference),
        (_, Some(_)) => match find_impl_trait(&ty) {
            Some(found) => ArgSource::Unusable(Unusable::ImplTrait(found)),
            None => ArgSource::Parameter(Box::new(parameter(&ident, &ty, options))),
        },
    };
    WorkerArg {
        ident,
        pat: pat_type.pat.clone(),
        ty,
        given,
        source,
    }
}

/// The `#[param(...)]` keys given, and where, in the order the message lists them.
fn given_keys(options: &ParamOptions) -> Vec<(&'static str, Span)> {
    let spans = [
        ("rename", options.rename.as_ref().map(LitStr::span)),
        ("kind", options.kind.as_ref().map(LitStr::span)),
        ("default", options.default.as_ref().map(Spanned::span)),
        ("binary", options.binary),
        ("rest", options.rest),
        (
            "description",
            options.description.as_ref().map(LitStr::span),
        ),
    ];
    spans
        .into_iter()
        .filter_map(|(key, span)| Some((key, span?)))
        .collect()
}

/// A borrowed argument: only the call's context can be borrowed. Whether the type is the
/// context (under any name) is for the compiler to say; what plainly is not is unusable.
fn borrowed_source(reference: &syn::TypeReference) -> ArgSource {
    if reference.mutability.is_some() || !could_be_context(&reference.elem) {
        return ArgSource::Unusable(Unusable::Borrowed(reference.clone()));
    }
    ArgSource::Borrowed(reference.elem.clone())
}

/// A parameter of the call: its wire name, how it is taken, and its registered host type.
fn parameter(ident: &syn::Ident, ty: &Type, options: ParamOptions) -> Parameter {
    let (wire_name, wire_name_span) = naming::wire_name(ident, options.rename.as_ref());
    let classified = classify(ty);
    let optional_inner = option_inner(ty).cloned();
    let optional = optional_inner.is_some();
    let value_ty = optional_inner.unwrap_or_else(|| ty.clone());
    let (binary, rest) = (options.binary.is_some(), options.rest.is_some());
    let taking = taking(options.default, binary, rest, optional);
    let type_name = match naming::declared_kind(options.kind.as_ref()) {
        Some(kind) => kind.host_type_name().to_owned(),
        None => host_type_name(&taking, classified.kind).to_owned(),
    };
    Parameter {
        wire_name,
        wire_name_span,
        kind_given: options.kind,
        optional,
        type_name,
        value_ty,
        taking,
        description: options
            .description
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_default(),
    }
}

/// How the parameter is taken: `default` first, then `binary`, then `rest`.
fn taking(default: Option<syn::Expr>, binary: bool, rest: bool, optional: bool) -> Taking {
    if let Some(default) = default {
        Taking::Default(default)
    } else if binary {
        Taking::Binary { optional }
    } else if rest {
        Taking::Rest
    } else if optional {
        Taking::Optional
    } else {
        Taking::Required
    }
}

/// The host type registered for a parameter taken so, of `kind` (unless `kind = "..."` says
/// otherwise): bytes for `binary`, any for `rest`.
fn host_type_name(taking: &Taking, kind: ValueKind) -> &'static str {
    match taking {
        Taking::Binary { .. } => snakepit_bridge_spec::BYTES_TYPE,
        Taking::Rest => ValueKind::Any.host_type_name(),
        _ => kind.host_type_name(),
    }
}

/// Whether a borrowed argument's type may be the call's context: a plain path (the context
/// under any name), not `str`, a slice, an array or a tuple, which plainly are not.
fn could_be_context(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_none() && !path.path.is_ident("str"),
        Type::Paren(inner) => could_be_context(&inner.elem),
        Type::Group(inner) => could_be_context(&inner.elem),
        _ => false,
    }
}

/// The `Stream` bounds of an `impl Stream<...>`, if `ty` is one.
fn stream_bounds(ty: &Type) -> impl Iterator<Item = &syn::PathSegment> {
    let bounds = match ty {
        Type::ImplTrait(bounds) => Some(bounds.bounds.iter()),
        _ => None,
    };
    bounds
        .into_iter()
        .flatten()
        .filter_map(|bound| match bound {
            syn::TypeParamBound::Trait(bound) => {
                bound.path.segments.last().filter(|s| s.ident == "Stream")
            }
            _ => None,
        })
}

/// What the method answers: a stream when marked `streaming` or when it returns
/// `impl Stream<...>` (optionally inside `Result`), else one value.
fn answer_shape(ty: &Type, marked_streaming: bool) -> AnswerShape {
    let returns_stream = |ty: &Type| stream_bounds(ty).next().is_some();
    match result_ok(ty) {
        Some(ok) if marked_streaming || returns_stream(ok) => AnswerShape::FallibleStream,
        _ if marked_streaming || returns_stream(ty) => AnswerShape::Stream,
        _ => AnswerShape::Unary,
    }
}

/// `T` of the answer, where written out: of `Result<T, E>` for a unary tool, of the stream's
/// `Item = Result<T, E>` for a streaming one (`None` for `impl Trait`, which the generated code
/// cannot name).
fn answered_type(ty: &Type, answer: AnswerShape) -> Option<Type> {
    let value = match answer {
        AnswerShape::Unary => result_ok(ty),
        AnswerShape::Stream => stream_item(ty).and_then(result_ok),
        AnswerShape::FallibleStream => result_ok(ty).and_then(stream_item).and_then(result_ok),
    }?;
    find_impl_trait(value).is_none().then(|| value.clone())
}

/// `I` of a written-out `impl Stream<Item = I>`.
fn stream_item(ty: &Type) -> Option<&Type> {
    stream_bounds(ty).find_map(|bound| {
        let syn::PathArguments::AngleBracketed(args) = &bound.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Item" => Some(&assoc.ty),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    use crate::internals::testing::reported;

    /// The model, and the messages of what parsing reported.
    fn parse(item: ItemImpl) -> (WorkerImpl, Vec<String>) {
        reported(|cx| parse_impl(item, MacroOptions::default(), cx))
    }

    fn tools(model: &WorkerImpl) -> Vec<&WorkerTool> {
        model.tools().collect()
    }

    #[test]
    fn reads_tools_arguments_and_shapes() {
        let (model, errors) = parse(parse_quote! {
            impl Showcase {
                /// Echo.
                pub fn ping(&self, #[param(default = "pong")] message: String) -> Result<Value, ToolError> { todo!() }
                #[tool(name = "add")]
                pub async fn basic_add(&self, ctx: &ToolContext, a: f64, b: Option<f64>) -> Result<f64, ToolError> { todo!() }
                pub fn stream_data(&self, count: u32) -> impl Stream<Item = Result<Value, ToolError>> { todo!() }
                pub fn process(&self, #[param(binary)] data: Vec<u8>, #[param(rest)] kwargs: Map<String, Value>) -> Result<(), ToolError> { todo!() }
                fn helper(&self) {}
                #[tool(skip)]
                pub fn new() -> Self { todo!() }
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let tools = tools(&model);
        let names: Vec<_> = tools.iter().map(|t| t.tool_name.as_str()).collect();
        assert_eq!(names, ["ping", "add", "stream_data", "process"]);
        assert!(tools.iter().all(|tool| tool.served().is_some()));
        assert_eq!(tools[0].description, "Echo.");
        assert!(tools[1].is_async);
        assert!(matches!(tools[1].args[0].source, ArgSource::Borrowed(_)));
        assert_eq!(tools[2].answer, AnswerShape::Stream);
        let value_ty = |i: usize| {
            let ty = tools[i].value_ty.as_ref();
            ty.map(|ty| quote::ToTokens::to_token_stream(ty).to_string())
        };
        assert_eq!(value_ty(0).as_deref(), Some("Value"));
        assert_eq!(value_ty(2).as_deref(), Some("Value"));
        assert_eq!(value_ty(3).as_deref(), Some("()"));
        let ArgSource::Parameter(data) = &tools[3].args[0].source else {
            panic!()
        };
        assert_eq!(data.type_name, "bytes");
        let ArgSource::Parameter(b) = &tools[1].args[2].source else {
            panic!()
        };
        assert!(matches!(b.taking, Taking::Optional));
        assert_eq!(b.type_name, "float");
    }

    #[test]
    fn the_answered_type_is_found_where_written_out() {
        let (model, errors) = parse(parse_quote! {
            impl Shapes {
                pub fn fallible(&self) -> Result<impl Stream<Item = Result<Point, E>>, E> { todo!() }
                pub fn opaque(&self) -> Result<impl Serialize, ToolError> { todo!() }
                pub fn aliased(&self) -> Answer<u32> { todo!() }
                #[tool(streaming)]
                pub fn channel(&self) -> ChunkReceiver { todo!() }
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let found: Vec<_> = model
            .tools()
            .map(|tool| {
                let ty = tool.value_ty.as_ref();
                ty.map(|ty| quote::ToTokens::to_token_stream(ty).to_string())
            })
            .collect();
        assert_eq!(found, [Some("Point".to_owned()), None, None, None]);
        assert_eq!(tools(&model)[0].answer, AnswerShape::FallibleStream);
    }

    #[test]
    fn only_attribute_options_are_reported_while_parsing() {
        let (model, errors) = parse(parse_quote! {
            impl Broken {
                pub fn no_self(n: u32) -> Result<u32, ToolError> { todo!() }
                #[tool(stream)]
                pub fn borrowed(&self, s: &str, #[param(optional)] (a, b): (u32, u32)) { }
                pub fn generic<T>(&self, t: impl Display) -> Result<u32, ToolError> { todo!() }
                #[tool(name = "private")]
                fn private(&self) {}
                pub fn exclusive(&self, #[param(binary, rest)] data: Option<Vec<u8>>, #[param(default = 1)] n: Option<u32>) -> Result<u32, ToolError> { todo!() }
            }
        });
        assert_eq!(
            errors,
            [
                "unknown key of #[tool]; use `name = \"tool_name\"`, `streaming` or `skip`",
                "unknown key of #[param]; use `rename = \"wire_name\"`, `default = <value>`, `binary`, `rest`, `kind = \"integer\"` or `description = \"...\"`",
            ]
        );
        let sorts: Vec<_> = model
            .methods
            .iter()
            .map(|method| match method {
                Method::Tool(_) => "tool",
                Method::WrongReceiver { .. } => "wrong receiver",
                Method::PrivateNamed(_) => "private",
            })
            .collect();
        assert_eq!(sorts, ["wrong receiver", "tool", "tool", "private", "tool"]);
        let tools = tools(&model);
        assert!(tools.iter().all(|tool| tool.served().is_none()));
        let unusable = |arg: &WorkerArg| match &arg.source {
            ArgSource::Unusable(Unusable::Pattern) => "pattern",
            ArgSource::Unusable(Unusable::Borrowed(_)) => "borrowed",
            ArgSource::Unusable(Unusable::ImplTrait(_)) => "impl trait",
            _ => "usable",
        };
        let args: Vec<_> = tools[0]
            .args
            .iter()
            .chain(&tools[1].args)
            .map(unusable)
            .collect();
        assert_eq!(args, ["borrowed", "pattern", "impl trait"]);
        assert!(tools[0].missing_output.is_some());
        // Both sources are kept for the check; `binary` is the one taken.
        let data = &tools[2].args[0];
        assert_eq!(
            data.given.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
            ["binary", "rest"]
        );
        let ArgSource::Parameter(n) = &tools[2].args[1].source else {
            panic!("a parameter")
        };
        assert!(n.defaults_an_option());
    }
}
