//! Reads an `#[elixir_tools]` trait into the typed [`model`](crate::model), reporting every
//! problem at its own tokens and carrying on, so one build shows them all.

use quote::format_ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericParam, Ident, ItemTrait, Pat, ReturnType, Signature, TraitItem, TraitItemFn, Type,
};

use crate::attrs::{self, MacroOptions};
use crate::classify::{classify, option_inner};
use crate::errors::Errors;
use crate::model::{ResultShape, ToolArg, ToolMethod, ToolTrait};
use crate::naming::{self, Unique};

pub(crate) fn parse_trait(
    item: ItemTrait,
    options: MacroOptions,
    errors: &mut Errors,
) -> ToolTrait {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.at(
            &item.generics,
            "#[elixir_tools] traits cannot be generic; remove the generic parameters",
        );
    }
    if !item.supertraits.is_empty() {
        errors.at(
            &item.supertraits,
            "#[elixir_tools] traits cannot have supertraits: the macro implements the trait for every tool caller",
        );
    }
    if let Some(unsafety) = item.unsafety {
        errors.at(unsafety, "#[elixir_tools] traits cannot be `unsafe`");
    }
    if let Some(auto) = item.auto_token {
        errors.at(auto, "#[elixir_tools] traits cannot be auto traits");
    }

    let mut tools_seen = Unique::new();
    let mut methods = Vec::new();
    for trait_item in item.items {
        match trait_item {
            TraitItem::Fn(method) => {
                let method = parse_method(method, errors);
                if let Some(first) = tools_seen.first_owner(&method.tool_name, &method.ident) {
                    errors.push(syn::Error::new(
                        method.tool_name_span,
                        format!(
                            "tool `{}` is already declared by method `{first}`; declare each tool once",
                            method.tool_name
                        ),
                    ));
                }
                methods.push(method);
            }
            other => errors.at(
                other,
                "an #[elixir_tools] trait holds only tool methods; move this item out of the trait",
            ),
        }
    }

    ToolTrait {
        attrs: item.attrs,
        vis: item.vis,
        ident: item.ident,
        methods,
        manifest: options.manifest,
        private: private_path(options.krate.as_ref(), quote::quote!(::snakepit_bridge)),
    }
}

/// `<crate>::__private`, where the generated code finds its support: `krate` as written in
/// `crate = "..."`, else `default`.
pub(crate) fn private_path(
    krate: Option<&syn::Path>,
    default: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    match krate {
        Some(path) => quote::quote!(#path::__private),
        None => quote::quote!(#default::__private),
    }
}

fn parse_method(method: TraitItemFn, errors: &mut Errors) -> ToolMethod {
    let mut attrs = method.attrs;
    let options = attrs::tool_options(&mut attrs, errors);
    let description = attrs::doc_text(&attrs);
    let sig = method.sig;

    check_no_body(method.default.as_ref(), errors);
    let mut valid = check_qualifiers_and_generics(&sig, errors);
    let ident = sig.ident.clone();
    check_not_shadowed(&ident, errors);
    let (receiver_ok, inputs) = read_receiver(&sig, errors);
    valid &= receiver_ok;
    let (args, args_ok) = parse_args(inputs, errors);
    valid &= args_ok;
    let (output, shape) = parse_output(&sig, errors);
    valid &= shape != ResultShape::Invalid;

    let (tool_name, tool_name_span) = naming::tool_name(&ident, options.name.as_ref(), errors);

    ToolMethod {
        attrs,
        ident,
        tool_name,
        tool_name_span,
        description,
        generics: sig.generics,
        args,
        output,
        shape,
        valid,
    }
}

/// The macro writes each body: a default body is an error.
fn check_no_body(body: Option<&syn::Block>, errors: &mut Errors) {
    if let Some(body) = body {
        errors.at(
            body,
            "remove the body: #[elixir_tools] writes the body of each tool method",
        );
    }
}

/// `async`, and no `const`, `unsafe`, ABI, type or const generics or `where` clause; whether
/// the method stays usable (only generics make it unusable).
fn check_qualifiers_and_generics(sig: &Signature, errors: &mut Errors) -> bool {
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token,
            "tool methods are `async fn`; add `async` (the generated blocking trait has the plain `fn` of each)",
        );
    }
    if let Some(constness) = sig.constness {
        errors.at(constness, "tool methods cannot be `const`");
    }
    if let Some(unsafety) = sig.unsafety {
        errors.at(unsafety, "tool methods cannot be `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, "tool methods cannot have an `extern` ABI");
    }
    let mut valid = true;
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            errors.at(
                param,
                "tool methods cannot be generic: use a concrete type (serde_json::Value accepts any JSON)",
            );
            valid = false;
        }
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.at(where_clause, "tool methods cannot have a `where` clause");
        valid = false;
    }
    valid
}

/// A method named like one of the session context's own would be shadowed by it.
fn check_not_shadowed(ident: &Ident, errors: &mut Errors) {
    if snakepit_bridge_spec::CONTEXT_METHOD_NAMES.contains(&ident.unraw().to_string().as_str()) {
        errors.at(
            ident,
            format!(
                "a method named `{ident}` would be shadowed by the session context's own `{ident}`; \
                 rename the method and keep the tool's name with #[tool(name = \"{ident}\")]"
            ),
        );
    }
}

/// Checks that the method takes `&self` first; whether it does, and the inputs left to read
/// as arguments (all of them when the first is not a receiver).
fn read_receiver<'a>(
    sig: &'a Signature,
    errors: &mut Errors,
) -> (bool, syn::punctuated::Iter<'a, FnArg>) {
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() =>
        {
            (true, inputs)
        }
        Some(FnArg::Receiver(receiver)) => {
            errors.at(receiver, "tool methods take `&self`");
            (false, inputs)
        }
        first => {
            let at = first.map(|arg| arg.span()).unwrap_or(sig.ident.span());
            errors.push(syn::Error::new(
                at,
                "tool methods take `&self` first; add `&self,`",
            ));
            // The first argument was not a receiver: read it as an argument.
            (false, sig.inputs.iter())
        }
    }
}

/// The typed arguments, each wire name once; whether all are usable.
fn parse_args<'a>(
    inputs: impl Iterator<Item = &'a FnArg>,
    errors: &mut Errors,
) -> (Vec<ToolArg>, bool) {
    let mut valid = true;
    let mut args = Vec::new();
    let mut wire_names = Unique::new();
    for (index, input) in inputs.enumerate() {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        let (arg, usable) = parse_arg(pat_type.clone(), index, errors);
        valid &= usable;
        if let Some(first) = wire_names.first_owner(&arg.wire_name, &arg.ident) {
            errors.at(
                &pat_type.pat,
                format!(
                    "parameter `{}` is already passed by argument `{first}`",
                    arg.wire_name
                ),
            );
        }
        args.push(arg);
    }
    (args, valid)
}

/// The declared return type (`()` when none is written) and what it says about the result.
fn parse_output(sig: &Signature, errors: &mut Errors) -> (Type, ResultShape) {
    match &sig.output {
        ReturnType::Default => {
            errors.push(syn::Error::new(
                sig.paren_token.span.join(),
                "tool methods return `Result<T, E>`, since a call can fail: add `-> Result<T, snakepit_bridge::Error>`",
            ));
            (syn::parse_quote!(()), ResultShape::Invalid)
        }
        ReturnType::Type(_, ty) => {
            let shape = result_shape(ty);
            if shape == ResultShape::Invalid {
                errors.at(
                    ty,
                    "tool methods return `Result<T, E>` (or an alias of it), since a call can fail",
                );
            }
            ((**ty).clone(), shape)
        }
    }
}

/// An argument, and whether it can be used (when not, it is a stand-in that keeps the method
/// declarable).
fn parse_arg(mut pat_type: syn::PatType, index: usize, errors: &mut Errors) -> (ToolArg, bool) {
    let options = attrs::param_options(&mut pat_type.attrs, errors);
    let ty = (*pat_type.ty).clone();
    let mut usable = true;

    let ident = match &*pat_type.pat {
        Pat::Ident(pat)
            if pat.by_ref.is_none() && pat.mutability.is_none() && pat.subpat.is_none() =>
        {
            pat.ident.clone()
        }
        other => {
            errors.at(
                other,
                "use a plain name for each argument: it is the parameter's name on the host",
            );
            usable = false;
            format_ident!("__arg{}", index)
        }
    };

    if let Some(found) = naming::find_impl_trait(&ty) {
        errors.at(
            found,
            "`impl Trait` makes the method generic; use a concrete type",
        );
        usable = false;
    }

    let classified = classify(&ty);
    let (kind, kind_guessed) = match naming::declared_kind(options.kind.as_ref(), errors) {
        Some(given) => (given, false),
        None => (classified.kind, classified.guessed),
    };
    let (wire_name, wire_name_span) = naming::wire_name(&ident, options.rename.as_ref(), errors);
    let value_ty = option_inner(&ty).cloned().unwrap_or_else(|| ty.clone());
    let arg = ToolArg {
        ident,
        ty,
        wire_name,
        wire_name_span,
        value_ty,
        optional: classified.optional,
        kind,
        kind_guessed,
    };
    (arg, usable)
}

/// Types that are certainly not a `Result` (nor an alias of one).
const NOT_RESULTS: &[&str] = &[
    "bool", "char", "str", "String", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16",
    "u32", "u64", "u128", "usize", "f32", "f64", "Vec", "Option", "Box", "HashMap", "BTreeMap",
    "Value",
];

/// What the return type says about the result. `Result<T, E>` as written is read here; any
/// other named type may be an alias of one (`type Res<T> = Result<T, Error>`), whatever its
/// name, and is resolved by the compiler through the `ToolResult` trait.
fn result_shape(ty: &Type) -> ResultShape {
    let Type::Path(path) = ty else {
        return ResultShape::Invalid;
    };
    let Some(last) = path.path.segments.last() else {
        return ResultShape::Invalid;
    };
    if NOT_RESULTS.contains(&last.ident.to_string().as_str()) {
        return ResultShape::Invalid;
    }
    if last.ident != "Result" {
        return ResultShape::Decode(None);
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return ResultShape::Decode(None);
    };
    let Some(ok) = args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    }) else {
        return ResultShape::Decode(None);
    };
    match ok {
        Type::Tuple(tuple) if tuple.elems.is_empty() => ResultShape::Unit,
        Type::Path(path)
            if path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "ToolResponse") =>
        {
            ResultShape::Raw
        }
        other => ResultShape::Decode(Some(Box::new(other.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use snakepit_bridge_spec::ValueKind;
    use syn::parse_quote;

    use super::*;

    fn parse(item: ItemTrait) -> (ToolTrait, String) {
        let mut errors = Errors::default();
        let model = parse_trait(item, MacroOptions::default(), &mut errors);
        (model, errors.to_compile_errors().to_string())
    }

    #[test]
    fn reads_names_arguments_and_result_shapes() {
        let (model, errors) = parse(parse_quote! {
            /// Demo tools.
            pub trait DemoTools {
                /// Fibonacci.
                async fn calculate_fibonacci(&self, n: u32) -> Result<Fib, Error>;
                #[tool(name = "process_list")]
                async fn sum(&self, list: &[i64], #[param(rename = "operation")] op: Option<&str>) -> Result<(), Error>;
                async fn raw(&self) -> Result<ToolResponse, Error>;
                async fn aliased(&self) -> FibResult;
                async fn short_alias(&self) -> Res<Fib>;
            }
        });
        assert_eq!(errors, "");
        let names: Vec<_> = model.methods.iter().map(|m| m.tool_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "calculate_fibonacci",
                "process_list",
                "raw",
                "aliased",
                "short_alias"
            ]
        );
        assert_eq!(model.methods[0].description, "Fibonacci.");
        let sum = &model.methods[1];
        assert_eq!(sum.args[1].wire_name, "operation");
        assert!(sum.args[1].optional);
        assert_eq!(sum.args[0].kind, ValueKind::List);
        assert_eq!(sum.shape, ResultShape::Unit);
        assert_eq!(model.methods[2].shape, ResultShape::Raw);
        assert_eq!(model.methods[3].shape, ResultShape::Decode(None));
        assert_eq!(model.methods[4].shape, ResultShape::Decode(None));
        assert!(model.methods.iter().all(|m| m.valid));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let (model, errors) = parse(parse_quote! {
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
        for expected in [
            "tool methods take `&self` first",
            "use a plain name for each argument",
            "tool methods cannot be generic",
            "tool methods return `Result<T, E>`",
            "invalid tool name `bad name`",
            "tool `pattern` is already declared by method `pattern`",
            "would be shadowed by the session context's own `ping`",
            "holds only tool methods",
        ] {
            assert!(
                errors.contains(expected),
                "missing {expected:?} in {errors}"
            );
        }
        let valid: Vec<bool> = model.methods.iter().map(|m| m.valid).collect();
        assert_eq!(valid, [false, false, false, false, true, true, true]);
        // The pattern argument gets a stand-in name, so the method can still be declared.
        assert_eq!(model.methods[1].args[0].ident, "__arg0");
    }

    #[test]
    fn a_method_without_async_or_return_type_is_reported() {
        let (_, errors) = parse(parse_quote! {
            trait T {
                fn sync(&self) -> Result<u32, Error>;
                async fn nothing(&self);
            }
        });
        assert!(errors.contains("add `async`"), "{errors}");
        assert!(
            errors.contains("add `-> Result<T, snakepit_bridge::Error>`"),
            "{errors}"
        );
    }

    #[test]
    fn an_unknown_kind_and_a_duplicate_parameter_are_reported() {
        let (_, errors) = parse(parse_quote! {
            trait T {
                async fn f(&self, #[param(kind = "tensor")] a: u32, #[param(rename = "a")] b: u32) -> Result<u32, Error>;
            }
        });
        assert!(errors.contains("unknown kind"), "{errors}");
        assert!(
            errors.contains("parameter `a` is already passed by argument `a`"),
            "{errors}"
        );
    }

    #[test]
    fn raw_identifiers_name_tools_without_the_prefix() {
        let (model, errors) = parse(parse_quote! {
            trait T { async fn r#type(&self, r#in: u32) -> Result<u32, Error>; }
        });
        assert_eq!(errors, "");
        assert_eq!(model.methods[0].tool_name, "type");
        assert_eq!(model.methods[0].args[0].wire_name, "in");
    }
}
