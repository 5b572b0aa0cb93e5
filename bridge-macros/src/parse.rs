//! Reads an `#[elixir_tools]` trait into the typed [`model`](crate::model). Only what needs the
//! attribute tokens is reported here (the options of `#[tool]` and `#[param]`); everything
//! else is validated by [`crate::check`], which sees the model.

use quote::format_ident;
use syn::{FnArg, ItemTrait, ReturnType, Signature, TraitItem, TraitItemFn, Type};

use crate::classify::classify;
use crate::internals::attr::{self, Keys, MacroOptions};
use crate::internals::signature::{self, SelfArg};
use crate::internals::types::{last_segment, option_inner, result_ok};
use crate::internals::Ctxt;
use crate::model::{Qualifiers, ResultShape, ToolArg, ToolMethod, ToolTrait, TraitHeader};
use crate::naming;

/// The keys of `#[elixir_tools(...)]`.
pub(crate) const MACRO_KEYS: Keys = Keys {
    allowed: &["manifest", "crate"],
    unknown: "unknown option of #[elixir_tools]; use `manifest = \"path/to/elixir_tools.json\"` or `crate = \"snakepit_bridge\"`",
};

/// The keys of `#[tool(...)]` on a trait method.
const TOOL_KEYS: Keys = Keys {
    allowed: &["name"],
    unknown: "unknown key of #[tool]; the only one is `name = \"tool_name\"`",
};

/// The keys of `#[param(...)]` on a trait method's argument.
const PARAM_KEYS: Keys = Keys {
    allowed: &["rename", "kind"],
    unknown: "unknown key of #[param]; use `rename = \"wire_name\"` or `kind = \"integer\"`",
};

/// Reads `#[elixir_tools(...)]`.
pub(crate) fn macro_options(args: proc_macro2::TokenStream, cx: &mut Ctxt) -> MacroOptions {
    attr::macro_options(args, &MACRO_KEYS, "snakepit_bridge", cx)
}

pub(crate) fn parse_trait(item: ItemTrait, options: MacroOptions, cx: &mut Ctxt) -> ToolTrait {
    let mut methods = Vec::new();
    let mut strays = Vec::new();
    for trait_item in item.items {
        match trait_item {
            TraitItem::Fn(method) => methods.push(parse_method(method, cx)),
            other => strays.push(other),
        }
    }
    let runtime = options.runtime(quote::quote!(::snakepit_bridge));
    ToolTrait {
        attrs: item.attrs,
        vis: item.vis,
        ident: item.ident,
        methods,
        manifest: options.manifest,
        private: quote::quote!(#runtime::__private),
        header: TraitHeader {
            generics: item.generics,
            supertraits: item.supertraits,
            unsafety: item.unsafety,
            auto_token: item.auto_token,
        },
        strays,
    }
}

fn parse_method(method: TraitItemFn, cx: &mut Ctxt) -> ToolMethod {
    let mut attrs = method.attrs;
    let options = attr::tool_options(&mut attrs, &TOOL_KEYS, cx);
    let description = attr::doc_text(&attrs);
    let sig = method.sig;
    let (self_arg, inputs) = self_arg(&sig);
    let args = inputs
        .enumerate()
        .filter_map(|(index, input)| match input {
            FnArg::Typed(pat_type) => Some(parse_arg(pat_type.clone(), index, cx)),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let (output, missing_output) = match &sig.output {
        ReturnType::Default => (syn::parse_quote!(()), Some(sig.paren_token.span.join())),
        ReturnType::Type(_, ty) => ((**ty).clone(), None),
    };
    let shape = match missing_output {
        Some(_) => ResultShape::Invalid,
        None => result_shape(&output),
    };
    let (tool_name, tool_name_span) = naming::tool_name(&sig.ident, options.name.as_ref());
    ToolMethod {
        attrs,
        ident: sig.ident.clone(),
        tool_name,
        tool_name_span,
        tool_name_given: options.name.is_some(),
        description,
        qualifiers: qualifiers(&sig),
        body: method.default,
        self_arg,
        generics: sig.generics,
        args,
        output,
        missing_output,
        shape,
    }
}

fn qualifiers(sig: &Signature) -> Qualifiers {
    Qualifiers {
        asyncness: sig.asyncness,
        constness: sig.constness,
        unsafety: sig.unsafety,
        abi: sig.abi.clone(),
        fn_token: sig.fn_token,
    }
}

/// How the method takes `self`, and the inputs left to read as arguments (all of them when
/// the first is not a receiver).
fn self_arg(sig: &Signature) -> (SelfArg, syn::punctuated::Iter<'_, FnArg>) {
    let self_arg = SelfArg::of(sig);
    let mut rest = sig.inputs.iter();
    // When the first input is not a receiver, it is read as an argument.
    if !matches!(self_arg, SelfArg::Missing(_)) {
        rest.next();
    }
    (self_arg, rest)
}

/// An argument; one whose pattern is not a plain name gets a stand-in, which keeps the method
/// declarable.
fn parse_arg(mut pat_type: syn::PatType, index: usize, cx: &mut Ctxt) -> ToolArg {
    let options = attr::param_options(&mut pat_type.attrs, &PARAM_KEYS, cx);
    let ty = (*pat_type.ty).clone();
    let plain = signature::plain_name(&pat_type.pat).filter(|pat| pat.mutability.is_none());
    let (ident, pattern) = match plain {
        Some(pat) => (pat.ident.clone(), None),
        None => (
            format_ident!("__arg{}", index),
            Some((*pat_type.pat).clone()),
        ),
    };
    let classified = classify(&ty);
    let (kind, kind_guessed) = match naming::declared_kind(options.kind.as_ref()) {
        Some(given) => (given, false),
        None => (classified.kind, classified.guessed),
    };
    let (wire_name, wire_name_span) = naming::wire_name(&ident, options.rename.as_ref());
    let value_ty = option_inner(&ty).cloned().unwrap_or_else(|| ty.clone());
    ToolArg {
        ident,
        ty,
        wire_name,
        wire_name_span,
        value_ty,
        optional: classified.optional,
        kind,
        kind_guessed,
        kind_given: options.kind,
        pattern,
    }
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
    let Some(last) = last_segment(ty) else {
        return ResultShape::Invalid;
    };
    if NOT_RESULTS.contains(&last.ident.to_string().as_str()) {
        return ResultShape::Invalid;
    }
    match result_ok(ty) {
        None => ResultShape::Decode(None),
        Some(Type::Tuple(tuple)) if tuple.elems.is_empty() => ResultShape::Unit,
        Some(ok) if last_segment(ok).is_some_and(|s| s.ident == "ToolResponse") => ResultShape::Raw,
        Some(ok) => ResultShape::Decode(Some(Box::new(ok.clone()))),
    }
}

#[cfg(test)]
mod tests {
    use snakepit_bridge_spec::ValueKind;
    use syn::parse_quote;

    use super::*;
    use crate::internals::testing::reported;

    /// The model, and the messages of what parsing reported.
    fn parse(item: ItemTrait) -> (ToolTrait, Vec<String>) {
        reported(|cx| parse_trait(item, MacroOptions::default(), cx))
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
        assert!(errors.is_empty(), "{errors:?}");
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
        assert!(matches!(
            model.methods[0].shape,
            ResultShape::Decode(Some(ref ok)) if last_segment(ok).unwrap().ident == "Fib"
        ));
        let sum = &model.methods[1];
        assert!(sum.tool_name_given);
        assert_eq!(sum.args[1].wire_name, "operation");
        assert!(sum.args[1].optional);
        assert_eq!(sum.args[0].kind, ValueKind::List);
        assert_eq!(sum.shape, ResultShape::Unit);
        assert_eq!(model.methods[2].shape, ResultShape::Raw);
        assert_eq!(model.methods[3].shape, ResultShape::Decode(None));
        assert_eq!(model.methods[4].shape, ResultShape::Decode(None));
        assert!(model.methods.iter().all(|m| m.valid()));
        assert!(model.strays.is_empty());
    }

    #[test]
    fn only_attribute_options_are_reported_while_parsing() {
        let (model, errors) = parse(parse_quote! {
            trait Broken {
                #[tool(nmae = "x")]
                fn no_self(n: u32) -> u32;
                async fn pattern(&self, #[param(renmae = "y")] (a, b): (u32, u32));
                const X: u32;
            }
        });
        assert_eq!(
            errors,
            [
                "unknown key of #[tool]; the only one is `name = \"tool_name\"`",
                "unknown key of #[param]; use `rename = \"wire_name\"` or `kind = \"integer\"`",
            ]
        );
        // The rest is in the model, for the check.
        assert!(matches!(model.methods[0].self_arg, SelfArg::Missing(_)));
        assert!(model.methods[0].qualifiers.asyncness.is_none());
        assert_eq!(model.methods[0].args[0].ident, "n");
        assert!(model.methods[1].missing_output.is_some());
        assert_eq!(model.methods[1].shape, ResultShape::Invalid);
        assert_eq!(model.strays.len(), 1);
    }

    #[test]
    fn what_makes_a_method_invalid() {
        let (model, _) = parse(parse_quote! {
            trait Broken {
                async fn no_self(n: u32) -> Result<u32, Error>;
                async fn pattern(&self, (a, b): (u32, u32)) -> Result<u32, Error>;
                async fn generic<T>(&self, t: T) -> Result<u32, Error>;
                async fn not_result(&self) -> u32;
                async fn impl_arg(&self, t: impl Display) -> Result<u32, Error>;
                async fn lifetimes<'a>(&self, s: &'a str) -> Result<u32, Error>;
                fn not_async(&self) -> Result<u32, Error>;
            }
        });
        let valid: Vec<bool> = model.methods.iter().map(ToolMethod::valid).collect();
        assert_eq!(valid, [false, false, false, false, false, true, true]);
        // The pattern argument gets a stand-in name, so the method can still be declared.
        assert_eq!(model.methods[1].args[0].ident, "__arg0");
        assert!(model.methods[1].args[0].pattern.is_some());
    }

    #[test]
    fn a_declared_kind_replaces_the_classified_one() {
        let (model, errors) = parse(parse_quote! {
            trait T {
                async fn f(&self, #[param(kind = "integer")] a: Id, b: Id, #[param(kind = "tensor")] c: u32) -> Result<u32, Error>;
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let args = &model.methods[0].args;
        assert_eq!(
            (args[0].kind, args[0].kind_guessed),
            (ValueKind::Integer, false)
        );
        assert_eq!((args[1].kind, args[1].kind_guessed), (ValueKind::Map, true));
        // An unknown kind (reported by the check) leaves the classified one.
        assert_eq!(args[2].kind, ValueKind::Integer);
    }

    #[test]
    fn raw_identifiers_name_tools_without_the_prefix() {
        let (model, errors) = parse(parse_quote! {
            trait T { async fn r#type(&self, r#in: u32) -> Result<u32, Error>; }
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(model.methods[0].tool_name, "type");
        assert_eq!(model.methods[0].args[0].wire_name, "in");
    }

    #[test]
    fn the_runtime_path_follows_the_crate_option() {
        let mut cx = Ctxt::new();
        let options = macro_options(quote::quote!(crate = "my_bridge"), &mut cx);
        let model = parse_trait(
            parse_quote!(
                trait T {}
            ),
            options,
            &mut cx,
        );
        assert!(cx.check().is_ok());
        let private: syn::Path = syn::parse2(model.private).unwrap();
        let segments: Vec<_> = private
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        assert_eq!(segments, ["my_bridge", "__private"]);
    }
}
