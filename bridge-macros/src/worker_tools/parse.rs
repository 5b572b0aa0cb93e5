//! Reads a `#[worker_tools]` block into the [`model`](super::model), reporting every problem at
//! its own tokens and carrying on.

use proc_macro2::Span;
use snakepit_bridge_spec::ValueKind;
use syn::spanned::Spanned;
use syn::{
    FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, ReturnType, Signature, Type,
    Visibility,
};

use super::model::{AnswerShape, ArgSource, Parameter, Taking, WorkerArg, WorkerImpl, WorkerTool};
use crate::attrs;
use crate::classify::{classify, option_inner};
use crate::errors::Errors;
use crate::naming::{self, Unique};

pub(crate) fn parse_impl(
    mut item: ItemImpl,
    options: attrs::WorkerMacroOptions,
    errors: &mut Errors,
) -> WorkerImpl {
    let krate = match &options.krate {
        Some(path) => quote::quote!(#path),
        None => quote::quote!(::snakepit_bridge::worker),
    };
    if let Some((_, path, _)) = &item.trait_ {
        errors.at(
            path,
            "#[worker_tools] goes on an inherent `impl` block (`impl MyTools { ... }`), not on a trait implementation",
        );
    }
    if !item.generics.params.is_empty() {
        errors.at(
            &item.generics,
            "#[worker_tools] blocks cannot be generic: the worker serves one concrete type; put the tools on a concrete type (a type alias works)",
        );
    }
    let mut tools = Vec::new();
    let mut names = Unique::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(method) = impl_item else {
            continue;
        };
        let options = attrs::worker_tool_options(&mut method.attrs, errors);
        let is_public = matches!(method.vis, Visibility::Public(_));
        if options.skip.is_some() {
            strip_param_attributes(method);
            continue;
        }
        if !is_public {
            if let Some(name) = &options.name {
                errors.at(name, "only `pub` methods are tools; make the method `pub`");
            }
            continue;
        }
        let Some(tool) = parse_method(method, options, errors) else {
            continue;
        };
        if let Some(first) = names.first_owner(&tool.tool_name, &tool.method) {
            errors.at(
                &method.sig.ident,
                format!(
                    "tool `{}` is already served by method `{first}`; name each tool once",
                    tool.tool_name
                ),
            );
        }
        tools.push(tool);
    }
    if tools.is_empty() && errors.is_empty() {
        errors.push(syn::Error::new(
            item.impl_token.span,
            "this #[worker_tools] block has no tools: each `pub fn` or `pub async fn` taking `&self` is one",
        ));
    }
    WorkerImpl { item, tools, krate }
}

fn strip_param_attributes(method: &mut ImplItemFn) {
    for input in &mut method.sig.inputs {
        if let FnArg::Typed(pat_type) = input {
            pat_type.attrs.retain(|attr| !attr.path().is_ident("param"));
        }
    }
}

fn parse_method(
    method: &mut ImplItemFn,
    options: attrs::WorkerToolOptions,
    errors: &mut Errors,
) -> Option<WorkerTool> {
    let description = attrs::doc_text(&method.attrs);
    if !check_receiver(&method.sig, errors) {
        strip_param_attributes(method);
        return None;
    }
    let sig = &mut method.sig;
    let ident = sig.ident.clone();
    let mut valid = check_not_generic_or_unsafe(sig, errors);
    let (args, args_ok) = parse_args(sig, errors);
    valid &= args_ok;
    let (answer, output_span, output) = parse_answer(sig, options.streaming.is_some(), errors);
    valid &= output.is_some();

    let value_ty = output.as_ref().and_then(|ty| answered_type(ty, answer));
    let (tool_name, _) = naming::tool_name(&ident, options.name.as_ref(), errors);

    Some(WorkerTool {
        method: ident,
        tool_name,
        description,
        is_async: sig.asyncness.is_some(),
        args,
        answer,
        output,
        output_span,
        value_ty,
        valid,
    })
}

/// Whether the method takes `&self` first, as a tool must; when not, it is reported.
fn check_receiver(sig: &Signature, errors: &mut Errors) -> bool {
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() =>
        {
            true
        }
        Some(FnArg::Receiver(receiver)) => {
            errors.at(
                receiver,
                "tool methods take `&self` (calls run concurrently); keep mutable state behind a Mutex",
            );
            false
        }
        _ => {
            errors.at(
                &sig.ident,
                "a `pub fn` in a #[worker_tools] block is a tool and takes `&self`; add `&self`, make it non-`pub`, or mark it #[tool(skip)]",
            );
            false
        }
    }
}

/// Whether the method has no generic parameters and is not `unsafe`; what it has is reported.
fn check_not_generic_or_unsafe(sig: &Signature, errors: &mut Errors) -> bool {
    let mut valid = true;
    for param in &sig.generics.params {
        errors.at(
            param,
            "tool methods cannot be generic: the host calls them by name with JSON values; use a concrete type, or mark a helper method #[tool(skip)] (or make it non-`pub`)",
        );
        valid = false;
    }
    if let Some(unsafety) = sig.unsafety {
        errors.at(
            unsafety,
            "tool methods cannot be `unsafe`: the host calls them with any input; remove `unsafe` and call unsafe code inside",
        );
        valid = false;
    }
    valid
}

/// The arguments after `&self`, their `#[param(...)]` removed, each wire name once and one
/// `rest` at most; whether all of them are usable.
fn parse_args(sig: &mut Signature, errors: &mut Errors) -> (Vec<WorkerArg>, bool) {
    let mut valid = true;
    let mut args = Vec::new();
    let mut wire_names = Unique::new();
    let mut has_rest = false;
    for input in sig.inputs.iter_mut().skip(1) {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let param_options = attrs::worker_param_options(&mut pat_type.attrs, errors);
        let Some(arg) = parse_arg(pat_type, param_options, errors) else {
            valid = false;
            continue;
        };
        if let ArgSource::Parameter(parameter) = &arg.source {
            if matches!(parameter.taking, Taking::Rest) {
                if has_rest {
                    errors.at(
                        &pat_type.pat,
                        "only one argument can take the rest of the parameters; keep #[param(rest)] on one",
                    );
                }
                has_rest = true;
            }
            if let Some(first) = wire_names.first_owner(&parameter.wire_name, &arg.ident) {
                errors.at(
                    &pat_type.pat,
                    format!(
                        "parameter `{}` is already taken by argument `{first}`; give one another name with #[param(rename = \"...\")]",
                        parameter.wire_name
                    ),
                );
            }
        }
        args.push(arg);
    }
    (args, valid)
}

/// How the method answers, where errors about the answer point, and the return type (`None`,
/// reported, when there is none).
fn parse_answer(
    sig: &Signature,
    marked_streaming: bool,
    errors: &mut Errors,
) -> (AnswerShape, Span, Option<Type>) {
    match &sig.output {
        ReturnType::Default => {
            errors.push(syn::Error::new(
                sig.paren_token.span.join(),
                "tool methods return `Result<T, E>`, since a call can fail: add `-> Result<T, ToolError>`",
            ));
            (AnswerShape::Unary, sig.ident.span(), None)
        }
        ReturnType::Type(_, ty) => (
            answer_shape(ty, marked_streaming),
            ty.span(),
            Some((**ty).clone()),
        ),
    }
}

fn parse_arg(
    pat_type: &syn::PatType,
    options: attrs::WorkerParamOptions,
    errors: &mut Errors,
) -> Option<WorkerArg> {
    let ty = (*pat_type.ty).clone();
    let ident = arg_ident(&pat_type.pat, errors)?;
    if let Type::Reference(reference) = &ty {
        let source = borrowed_source(reference, &options, errors)?;
        return Some(WorkerArg { ident, source, ty });
    }
    if let Some(found) = naming::find_impl_trait(&ty) {
        errors.at(
            found,
            "`impl Trait` cannot be decoded from JSON; use a concrete type",
        );
        return None;
    }
    let parameter = parameter(&ident, &ty, &pat_type.pat, options, errors)?;
    Some(WorkerArg {
        ident,
        ty,
        source: ArgSource::Parameter(Box::new(parameter)),
    })
}

/// The argument's name: a plain name is required (`mut` is allowed).
fn arg_ident(pat: &Pat, errors: &mut Errors) -> Option<Ident> {
    match pat {
        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => Some(pat.ident.clone()),
        other => {
            errors.at(
                other,
                "use a plain name for each argument: it is the parameter's name on the wire",
            );
            None
        }
    }
}

/// A borrowed argument: only the call's context can be borrowed. Whether the type is the
/// context (under any name) is for the compiler to say; what plainly is not is refused here.
fn borrowed_source(
    reference: &syn::TypeReference,
    options: &attrs::WorkerParamOptions,
    errors: &mut Errors,
) -> Option<ArgSource> {
    if reference.mutability.is_some() || !could_be_context(&reference.elem) {
        errors.at(
            reference,
            "tool arguments are owned values decoded from JSON: use `String` for `&str`, `Vec<T>` for `&[T]`; only the call's context is borrowed (`ctx: &ToolContext`)",
        );
        return None;
    }
    reject_param_options(options, errors);
    Some(ArgSource::Borrowed(reference.elem.clone()))
}

/// A parameter of the call: its wire name, how it is taken, and its registered host type.
fn parameter(
    ident: &Ident,
    ty: &Type,
    pat: &Pat,
    options: attrs::WorkerParamOptions,
    errors: &mut Errors,
) -> Option<Parameter> {
    let (wire_name, _) = naming::wire_name(ident, options.rename.as_ref(), errors);
    let classified = classify(ty);
    let optional_inner = option_inner(ty).cloned();
    let optional = optional_inner.is_some();
    let value_ty = optional_inner.unwrap_or_else(|| ty.clone());

    check_one_source(&options, pat, errors);
    let (binary, rest) = (options.binary.is_some(), options.rest.is_some());
    let taking = taking(options.default, binary, rest, ty, optional, errors)?;
    let type_name = match naming::declared_kind(options.kind.as_ref(), errors) {
        Some(kind) => kind.host_type_name().to_owned(),
        None => host_type_name(&taking, classified.kind).to_owned(),
    };
    Some(Parameter {
        wire_name,
        type_name,
        value_ty,
        taking,
        description: options
            .description
            .as_ref()
            .map(LitStr::value)
            .unwrap_or_default(),
    })
}

/// `default`, `binary` and `rest` say where the value comes from: one at most.
fn check_one_source(options: &attrs::WorkerParamOptions, pat: &Pat, errors: &mut Errors) {
    let sources = [
        options.default.is_some(),
        options.binary.is_some(),
        options.rest.is_some(),
    ];
    if sources.iter().filter(|given| **given).count() > 1 {
        errors.at(
            pat,
            "`default`, `binary` and `rest` exclude each other; keep one",
        );
    }
}

/// How the parameter is taken (`default` first, then `binary`, then `rest`); a default on an
/// `Option` is refused.
fn taking(
    default: Option<syn::Expr>,
    binary: bool,
    rest: bool,
    ty: &Type,
    optional: bool,
    errors: &mut Errors,
) -> Option<Taking> {
    Some(if let Some(default) = default {
        if optional {
            errors.at(
                ty,
                "an argument with a default is not an `Option`: the default fills it in; take the value's type, or remove `default`",
            );
            return None;
        }
        Taking::Default(default)
    } else if binary {
        Taking::Binary { optional }
    } else if rest {
        Taking::Rest
    } else if optional {
        Taking::Optional
    } else {
        Taking::Required
    })
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

/// The context is not a parameter: `#[param(...)]` keys say nothing about it.
fn reject_param_options(options: &attrs::WorkerParamOptions, errors: &mut Errors) {
    let spans = [
        options.rename.as_ref().map(LitStr::span),
        options.kind.as_ref().map(LitStr::span),
        options.default.as_ref().map(Spanned::span),
        options.binary,
        options.rest,
        options.description.as_ref().map(LitStr::span),
    ];
    for span in spans.into_iter().flatten() {
        errors.push(syn::Error::new(
            span,
            "a borrowed argument is the call's context, not a parameter: remove #[param(...)]",
        ));
    }
}

/// What the method answers: a stream when marked `streaming` or when it returns
/// `impl Stream<...>` (optionally inside `Result`), else one value.
fn answer_shape(ty: &Type, marked_streaming: bool) -> AnswerShape {
    let result_ok = result_ok_type(ty);
    let returns_stream = |ty: &Type| matches!(ty, Type::ImplTrait(bounds) if bounds.bounds.iter().any(|bound| matches!(bound, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "Stream"))));
    match result_ok {
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
        AnswerShape::Unary => result_ok_type(ty),
        AnswerShape::Stream => stream_item(ty).and_then(result_ok_type),
        AnswerShape::FallibleStream => result_ok_type(ty)
            .and_then(stream_item)
            .and_then(result_ok_type),
    }?;
    naming::find_impl_trait(value)
        .is_none()
        .then(|| value.clone())
}

/// `I` of a written-out `impl Stream<Item = I>`.
fn stream_item(ty: &Type) -> Option<&Type> {
    let Type::ImplTrait(bounds) = ty else {
        return None;
    };
    bounds.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last().filter(|s| s.ident == "Stream")?;
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Item" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// `T` of a written-out `Result<T, E>`.
fn result_ok_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    fn parse(item: ItemImpl) -> (WorkerImpl, String) {
        let mut errors = Errors::default();
        let model = parse_impl(item, attrs::WorkerMacroOptions::default(), &mut errors);
        (model, errors.to_compile_errors().to_string())
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
        assert_eq!(errors, "");
        let names: Vec<_> = model.tools.iter().map(|t| t.tool_name.as_str()).collect();
        assert_eq!(names, ["ping", "add", "stream_data", "process"]);
        assert_eq!(model.tools[0].description, "Echo.");
        assert!(model.tools[1].is_async);
        assert!(matches!(
            model.tools[1].args[0].source,
            ArgSource::Borrowed(_)
        ));
        assert_eq!(model.tools[2].answer, AnswerShape::Stream);
        let value_ty = |i: usize| {
            let ty = model.tools[i].value_ty.as_ref();
            ty.map(|ty| quote::ToTokens::to_token_stream(ty).to_string())
        };
        assert_eq!(value_ty(0).as_deref(), Some("Value"));
        assert_eq!(value_ty(2).as_deref(), Some("Value"));
        assert_eq!(value_ty(3).as_deref(), Some("()"));
        let ArgSource::Parameter(data) = &model.tools[3].args[0].source else {
            panic!()
        };
        assert_eq!(data.type_name, "bytes");
        let ArgSource::Parameter(b) = &model.tools[1].args[2].source else {
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
        assert_eq!(errors, "");
        let found: Vec<_> = model
            .tools
            .iter()
            .map(|tool| {
                let ty = tool.value_ty.as_ref();
                ty.map(|ty| quote::ToTokens::to_token_stream(ty).to_string())
            })
            .collect();
        assert_eq!(found, [Some("Point".to_owned()), None, None, None]);
        assert_eq!(model.tools[0].answer, AnswerShape::FallibleStream);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let (_, errors) = parse(parse_quote! {
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
            }
        });
        for expected in [
            "add `&self`, make it non-`pub`, or mark it #[tool(skip)]",
            "use `String` for `&str`",
            "tool methods cannot be generic",
            "invalid tool name `bad name`",
            "write a name that follows the rule",
            "tool `named_twice` is already served by method `a`",
            "exclude each other",
            "add `-> Result<T, ToolError>`",
        ] {
            assert!(
                errors.contains(expected),
                "missing {expected:?} in {errors}"
            );
        }
        assert!(
            !errors.contains("name the tool with #[tool(name"),
            "{errors}"
        );
    }
}
