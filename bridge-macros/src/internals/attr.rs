//! The options both attributes read: the macro's own (`#[elixir_tools(...)]`,
//! `#[worker_tools(...)]`), `#[tool(...)]` on methods and `#[param(...)]` on arguments. One
//! reader serves both attributes; each says which keys it takes with its [`Keys`]. Each
//! `#[tool]` and `#[param]` is removed from the output once read.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use super::Ctxt;

/// The keys an attribute takes, and the error for any other (which says what to write).
pub(crate) struct Keys {
    pub(crate) allowed: &'static [&'static str],
    pub(crate) unknown: &'static str,
}

impl Keys {
    /// The key `meta` names, if this attribute takes it.
    fn of(&self, meta: &ParseNestedMeta<'_>) -> Option<&'static str> {
        self.allowed
            .iter()
            .copied()
            .find(|key| meta.path.is_ident(key))
    }
}

/// Options of the macro itself: `#[elixir_tools(...)]` or `#[worker_tools(...)]`.
#[derive(Default)]
pub(crate) struct MacroOptions {
    /// `manifest = "path"`: check the trait against this tool-list snapshot at build time.
    pub(crate) manifest: Option<LitStr>,
    /// `crate = "path"`: where the generated code finds the runtime.
    pub(crate) krate: Option<syn::Path>,
}

impl MacroOptions {
    /// The runtime's path: `crate = "..."` as written, else `default`.
    pub(crate) fn runtime(&self, default: TokenStream) -> TokenStream {
        match &self.krate {
            Some(path) => quote::quote!(#path),
            None => default,
        }
    }
}

/// Options of `#[tool(...)]`.
#[derive(Default)]
pub(crate) struct ToolOptions {
    /// `name = "..."`: the tool's name, when it differs from the method's.
    pub(crate) name: Option<LitStr>,
    /// `streaming`: the method returns a stream of chunks (needed when the return type is a
    /// named stream type rather than `impl Stream<...>`).
    pub(crate) streaming: Option<Span>,
    /// `skip`: a public method that is not a tool.
    pub(crate) skip: Option<Span>,
}

/// Options of `#[param(...)]`.
#[derive(Default)]
pub(crate) struct ParamOptions {
    /// `rename = "..."`: the parameter's name on the wire.
    pub(crate) rename: Option<LitStr>,
    /// `kind = "..."`: the kind of value the argument carries, when the macro cannot see it.
    pub(crate) kind: Option<LitStr>,
    /// `default = <expr>`: the value when the call leaves the parameter out.
    pub(crate) default: Option<syn::Expr>,
    /// `binary`: the value comes from `binary_parameters`.
    pub(crate) binary: Option<Span>,
    /// `rest`: every parameter no other argument takes (Python's `**kwargs`).
    pub(crate) rest: Option<Span>,
    /// `description = "..."`: what the parameter means, registered with the host.
    pub(crate) description: Option<LitStr>,
}

/// Reads the macro's own options; `crate_example` is the runtime path the error for a bad
/// `crate` shows.
pub(crate) fn macro_options(
    args: TokenStream,
    keys: &Keys,
    crate_example: &str,
    cx: &mut Ctxt,
) -> MacroOptions {
    let mut options = MacroOptions::default();
    let parser = syn::meta::parser(|meta| match keys.of(&meta) {
        Some("manifest") => set_once(&mut options.manifest, meta.value()?.parse()?, "manifest"),
        Some("crate") => set_crate(&mut options.krate, &meta, crate_example),
        _ => Err(meta.error(keys.unknown)),
    });
    if let Err(error) = parser.parse2(args) {
        cx.push(error);
    }
    options
}

/// Reads and removes the `#[tool(...)]` attributes.
pub(crate) fn tool_options(attrs: &mut Vec<Attribute>, keys: &Keys, cx: &mut Ctxt) -> ToolOptions {
    let mut options = ToolOptions::default();
    each_key(attrs, "tool", cx, |meta| match keys.of(&meta) {
        Some("name") => set_once(&mut options.name, meta.value()?.parse()?, "name"),
        Some("streaming") => set_flag(&mut options.streaming, &meta, "streaming"),
        Some("skip") => set_flag(&mut options.skip, &meta, "skip"),
        _ => Err(meta.error(keys.unknown)),
    });
    options
}

/// Reads and removes the `#[param(...)]` attributes.
pub(crate) fn param_options(
    attrs: &mut Vec<Attribute>,
    keys: &Keys,
    cx: &mut Ctxt,
) -> ParamOptions {
    let mut o = ParamOptions::default();
    each_key(attrs, "param", cx, |meta| match keys.of(&meta) {
        Some("rename") => set_once(&mut o.rename, meta.value()?.parse()?, "rename"),
        Some("kind") => set_once(&mut o.kind, meta.value()?.parse()?, "kind"),
        Some("default") => set_expr_once(&mut o.default, meta.value()?.parse()?, "default"),
        Some("binary") => set_flag(&mut o.binary, &meta, "binary"),
        Some("rest") => set_flag(&mut o.rest, &meta, "rest"),
        Some("description") => set_once(&mut o.description, meta.value()?.parse()?, "description"),
        _ => Err(meta.error(keys.unknown)),
    });
    o
}

/// Removes the `#[param(...)]` attributes unread, from the arguments of a method that is not
/// a tool.
pub(crate) fn strip_param_attributes(sig: &mut syn::Signature) {
    for input in &mut sig.inputs {
        if let syn::FnArg::Typed(pat_type) = input {
            pat_type.attrs.retain(|attr| !attr.path().is_ident("param"));
        }
    }
}

/// Reads `crate = "path"`, the path the generated code names the runtime by (as serde's
/// `#[serde(crate = "...")]`).
fn set_crate(
    slot: &mut Option<syn::Path>,
    meta: &ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<()> {
    let text: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        return Err(syn::Error::new(
            text.span(),
            "`crate` is given twice; keep one",
        ));
    }
    let path = text.parse::<syn::Path>().map_err(|_| {
        syn::Error::new(
            text.span(),
            format!("`crate` takes a path to the runtime crate, such as `crate = \"{example}\"`"),
        )
    })?;
    *slot = Some(path);
    Ok(())
}

/// Reads and removes every `#[name(...)]` attribute, handing each key to `read`; a key it
/// refuses is an error at that key, and reading goes on.
fn each_key(
    attrs: &mut Vec<Attribute>,
    name: &str,
    cx: &mut Ctxt,
    mut read: impl FnMut(ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in take(attrs, name) {
        if let Err(error) = attr.parse_nested_meta(&mut read) {
            cx.push(error);
        }
    }
}

fn take(attrs: &mut Vec<Attribute>, name: &str) -> Vec<Attribute> {
    let (taken, kept) = std::mem::take(attrs)
        .into_iter()
        .partition(|attr| attr.path().is_ident(name));
    *attrs = kept;
    taken
}

fn set_once(slot: &mut Option<LitStr>, value: LitStr, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(value.span(), given_twice(key)));
    }
    *slot = Some(value);
    Ok(())
}

fn set_expr_once(slot: &mut Option<syn::Expr>, value: syn::Expr, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new_spanned(value, given_twice(key)));
    }
    *slot = Some(value);
    Ok(())
}

fn set_flag(slot: &mut Option<Span>, meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(given_twice(key)));
    }
    *slot = Some(meta.path.span());
    Ok(())
}

fn given_twice(key: &str) -> String {
    format!("`{key}` is given twice; keep one")
}

/// The doc comment of `attrs` as text: one line per `///` line, common indentation removed.
pub(crate) fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|text| text.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let text: Vec<&str> = lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or("").trim_end())
        .collect();
    text.join("\n").trim().to_owned()
}

/// The span of `lit`, or `fallback` when there is none.
pub(crate) fn span_or(lit: Option<&LitStr>, fallback: Span) -> Span {
    lit.map(LitStr::span).unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use quote::quote;
    use syn::parse_quote;

    use super::*;
    use crate::internals::testing::messages;

    const TOOL: Keys = Keys {
        allowed: &["name", "skip"],
        unknown: "unknown key of #[tool]",
    };
    const PARAM: Keys = Keys {
        allowed: &["rename", "kind", "default", "binary"],
        unknown: "unknown key of #[param]",
    };
    const MACRO: Keys = Keys {
        allowed: &["manifest", "crate"],
        unknown: "unknown option",
    };

    #[test]
    fn reads_and_removes_tool_attributes() {
        let mut attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = " x"]),
            parse_quote!(#[tool(name = "process_list", skip)]),
        ];
        let mut cx = Ctxt::new();
        let options = tool_options(&mut attrs, &TOOL, &mut cx);
        assert!(cx.check().is_ok());
        assert_eq!(options.name.unwrap().value(), "process_list");
        assert!(options.skip.is_some());
        assert!(options.streaming.is_none());
        assert_eq!(attrs.len(), 1);
    }

    #[test]
    fn a_key_the_attribute_does_not_take_is_unknown_and_reading_goes_on() {
        let mut attrs: Vec<Attribute> = vec![
            parse_quote!(#[tool(streaming)]),
            parse_quote!(#[tool(nmae = "x")]),
            parse_quote!(#[tool(name = "kept")]),
        ];
        let mut cx = Ctxt::new();
        let options = tool_options(&mut attrs, &TOOL, &mut cx);
        assert_eq!(options.name.unwrap().value(), "kept");
        assert_eq!(
            messages(cx.check()),
            ["unknown key of #[tool]", "unknown key of #[tool]"]
        );
        assert!(attrs.is_empty());
    }

    #[test]
    fn param_attributes_read_values_expressions_and_flags() {
        let mut attrs: Vec<Attribute> = vec![
            parse_quote!(#[param(rename = "list", kind = "list")]),
            parse_quote!(#[param(default = 1 + 1, binary)]),
        ];
        let mut cx = Ctxt::new();
        let options = param_options(&mut attrs, &PARAM, &mut cx);
        assert!(cx.check().is_ok());
        assert_eq!(options.rename.unwrap().value(), "list");
        assert_eq!(options.kind.unwrap().value(), "list");
        assert!(matches!(options.default, Some(syn::Expr::Binary(_))));
        assert!(options.binary.is_some());
        assert!(options.rest.is_none() && options.description.is_none());
        assert!(attrs.is_empty());
    }

    #[test]
    fn a_key_given_twice_is_an_error_of_each_sort() {
        let mut attrs: Vec<Attribute> = vec![parse_quote!(
            #[param(rename = "a", rename = "b", default = 1, default = 2, binary, binary)]
        )];
        let mut cx = Ctxt::new();
        param_options(&mut attrs, &PARAM, &mut cx);
        // The first error in an attribute ends its reading.
        assert_eq!(messages(cx.check()), ["`rename` is given twice; keep one"]);
        for (attr, key) in [
            (quote!(#[param(default = 1, default = 2)]), "default"),
            (quote!(#[param(binary, binary)]), "binary"),
        ] {
            let mut attrs: Vec<Attribute> = vec![parse_quote!(#attr)];
            let mut cx = Ctxt::new();
            param_options(&mut attrs, &PARAM, &mut cx);
            assert_eq!(
                messages(cx.check()),
                [format!("`{key}` is given twice; keep one")]
            );
        }
    }

    #[test]
    fn macro_options_read_the_manifest_and_the_runtime_path() {
        let mut cx = Ctxt::new();
        let options = macro_options(
            quote!(manifest = "a.json", crate = "::my::bridge"),
            &MACRO,
            "snakepit_bridge",
            &mut cx,
        );
        assert!(cx.check().is_ok());
        assert_eq!(options.manifest.as_ref().unwrap().value(), "a.json");
        let segments = |path: syn::Path| -> Vec<String> {
            path.segments.iter().map(|s| s.ident.to_string()).collect()
        };
        let runtime: syn::Path = syn::parse2(options.runtime(quote!(::snakepit_bridge))).unwrap();
        assert!(runtime.leading_colon.is_some());
        assert_eq!(segments(runtime), ["my", "bridge"]);
        let default = MacroOptions::default().runtime(quote!(::snakepit_bridge));
        assert_eq!(segments(syn::parse2(default).unwrap()), ["snakepit_bridge"]);
    }

    #[test]
    fn macro_options_report_unknown_keys_and_bad_paths() {
        let mut cx = Ctxt::new();
        macro_options(quote!(strict = true), &MACRO, "x", &mut cx);
        assert_eq!(messages(cx.check()), ["unknown option"]);

        let mut cx = Ctxt::new();
        macro_options(
            quote!(crate = "not a path"),
            &MACRO,
            "snakepit_bridge",
            &mut cx,
        );
        assert_eq!(
            messages(cx.check()),
            ["`crate` takes a path to the runtime crate, such as `crate = \"snakepit_bridge\"`"]
        );
    }

    #[test]
    fn param_attributes_of_a_method_that_is_no_tool_are_stripped() {
        let mut sig: syn::Signature =
            parse_quote!(fn f(&self, #[param(rename = "x")] #[allow(unused)] a: u32));
        strip_param_attributes(&mut sig);
        let syn::FnArg::Typed(arg) = &sig.inputs[1] else {
            panic!("a typed argument")
        };
        assert_eq!(arg.attrs.len(), 1);
        assert!(arg.attrs[0].path().is_ident("allow"));
    }

    #[test]
    fn doc_text_joins_lines_and_removes_indentation() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = " Calculate the first `n` numbers."]),
            parse_quote!(#[doc = ""]),
            parse_quote!(#[doc = " More."]),
        ];
        assert_eq!(
            doc_text(&attrs),
            "Calculate the first `n` numbers.\n\nMore."
        );
        assert_eq!(doc_text(&[]), "");
    }
}
