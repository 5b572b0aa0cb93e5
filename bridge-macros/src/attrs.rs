//! The attributes the macro reads: `#[elixir_tools(...)]`, `#[tool(...)]` on methods and
//! `#[param(...)]` on arguments. Each is removed from the output once read.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use crate::errors::Errors;

/// Options of `#[elixir_tools(...)]`.
#[derive(Default)]
pub(crate) struct MacroOptions {
    /// `manifest = "path"`: check the trait against this tool-list snapshot at build time.
    pub(crate) manifest: Option<LitStr>,
    /// `crate = "path"`: where the generated code finds the runtime (the facade
    /// `snakepit_bridge` by default).
    pub(crate) krate: Option<syn::Path>,
}

/// Options of `#[worker_tools(...)]`.
#[derive(Default)]
pub(crate) struct WorkerMacroOptions {
    /// `crate = "path"`: where the generated code finds the worker runtime
    /// (`snakepit_bridge::worker` by default).
    pub(crate) krate: Option<syn::Path>,
}

/// Options of `#[tool(...)]`.
#[derive(Default)]
pub(crate) struct ToolOptions {
    /// `name = "..."`: the tool's name on the host, when it differs from the method's.
    pub(crate) name: Option<LitStr>,
}

/// Options of `#[param(...)]`.
#[derive(Default)]
pub(crate) struct ParamOptions {
    /// `rename = "..."`: the parameter's name on the wire.
    pub(crate) rename: Option<LitStr>,
    /// `kind = "..."`: the kind of value the argument sends, when the macro cannot see it.
    pub(crate) kind: Option<LitStr>,
}

pub(crate) fn macro_options(args: TokenStream, errors: &mut Errors) -> MacroOptions {
    let mut options = MacroOptions::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("manifest") {
            set_once(&mut options.manifest, meta.value()?.parse()?, "manifest")
        } else if meta.path.is_ident("crate") {
            set_crate(&mut options.krate, &meta, "snakepit_bridge")
        } else {
            Err(meta.error(
                "unknown option of #[elixir_tools]; use `manifest = \"path/to/elixir_tools.json\"` or `crate = \"snakepit_bridge\"`",
            ))
        }
    });
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    options
}

pub(crate) fn worker_macro_options(args: TokenStream, errors: &mut Errors) -> WorkerMacroOptions {
    let mut options = WorkerMacroOptions::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            set_crate(&mut options.krate, &meta, "snakepit_bridge::worker")
        } else {
            Err(meta.error(
                "unknown option of #[worker_tools]; the only one is `crate = \"snakepit_bridge::worker\"`; name tools with #[tool(name = \"...\")] on methods",
            ))
        }
    });
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    options
}

/// Reads `crate = "path"`, the path the generated code names the runtime by (as serde's
/// `#[serde(crate = "...")]`).
fn set_crate(
    slot: &mut Option<syn::Path>,
    meta: &syn::meta::ParseNestedMeta<'_>,
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

/// Reads and removes the `#[tool(...)]` attributes.
pub(crate) fn tool_options(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> ToolOptions {
    let mut options = ToolOptions::default();
    each_key(attrs, "tool", errors, |meta| {
        if meta.path.is_ident("name") {
            set_once(&mut options.name, meta.value()?.parse()?, "name")
        } else {
            Err(meta.error("unknown key of #[tool]; the only one is `name = \"tool_name\"`"))
        }
    });
    options
}

/// Reads and removes the `#[param(...)]` attributes.
pub(crate) fn param_options(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> ParamOptions {
    let mut options = ParamOptions::default();
    each_key(attrs, "param", errors, |meta| {
        if meta.path.is_ident("rename") {
            set_once(&mut options.rename, meta.value()?.parse()?, "rename")
        } else if meta.path.is_ident("kind") {
            set_once(&mut options.kind, meta.value()?.parse()?, "kind")
        } else {
            Err(meta.error(
                "unknown key of #[param]; use `rename = \"wire_name\"` or `kind = \"integer\"`",
            ))
        }
    });
    options
}

/// Options of `#[tool(...)]` on a `#[worker_tools]` method.
#[derive(Default)]
pub(crate) struct WorkerToolOptions {
    /// `name = "..."`: the tool's name, when it differs from the method's.
    pub(crate) name: Option<LitStr>,
    /// `streaming`: the method returns a stream of chunks (needed when the return type is a
    /// named stream type rather than `impl Stream<...>`).
    pub(crate) streaming: Option<Span>,
    /// `skip`: a public method that is not a tool.
    pub(crate) skip: Option<Span>,
}

/// Options of `#[param(...)]` on a `#[worker_tools]` argument.
#[derive(Default)]
pub(crate) struct WorkerParamOptions {
    /// `rename = "..."`: the parameter's name on the wire.
    pub(crate) rename: Option<LitStr>,
    /// `kind = "..."`: the host type registered for the parameter.
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

/// Reads and removes the `#[tool(...)]` attributes of a worker tool method.
pub(crate) fn worker_tool_options(
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> WorkerToolOptions {
    let mut options = WorkerToolOptions::default();
    each_key(attrs, "tool", errors, |meta| {
        if meta.path.is_ident("name") {
            set_once(&mut options.name, meta.value()?.parse()?, "name")
        } else if meta.path.is_ident("streaming") {
            set_flag(&mut options.streaming, &meta, "streaming")
        } else if meta.path.is_ident("skip") {
            set_flag(&mut options.skip, &meta, "skip")
        } else {
            Err(meta
                .error("unknown key of #[tool]; use `name = \"tool_name\"`, `streaming` or `skip`"))
        }
    });
    options
}

/// Reads and removes the `#[param(...)]` attributes of a worker tool argument.
pub(crate) fn worker_param_options(
    attrs: &mut Vec<Attribute>,
    errors: &mut Errors,
) -> WorkerParamOptions {
    let mut options = WorkerParamOptions::default();
    each_key(attrs, "param", errors, |meta| {
        if meta.path.is_ident("rename") {
            set_once(&mut options.rename, meta.value()?.parse()?, "rename")
        } else if meta.path.is_ident("kind") {
            set_once(&mut options.kind, meta.value()?.parse()?, "kind")
        } else if meta.path.is_ident("default") {
            let expr: syn::Expr = meta.value()?.parse()?;
            if options.default.is_some() {
                return Err(syn::Error::new_spanned(
                    expr,
                    "`default` is given twice; keep one",
                ));
            }
            options.default = Some(expr);
            Ok(())
        } else if meta.path.is_ident("binary") {
            set_flag(&mut options.binary, &meta, "binary")
        } else if meta.path.is_ident("rest") {
            set_flag(&mut options.rest, &meta, "rest")
        } else if meta.path.is_ident("description") {
            set_once(
                &mut options.description,
                meta.value()?.parse()?,
                "description",
            )
        } else {
            Err(meta.error(
                "unknown key of #[param]; use `rename = \"wire_name\"`, `default = <value>`, `binary`, `rest`, `kind = \"integer\"` or `description = \"...\"`",
            ))
        }
    });
    options
}

fn set_flag(
    slot: &mut Option<Span>,
    meta: &syn::meta::ParseNestedMeta<'_>,
    key: &str,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format!("`{key}` is given twice; keep one")));
    }
    *slot = Some(meta.path.span());
    Ok(())
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

/// Reads and removes every `#[name(...)]` attribute, handing each key to `read`; a key it
/// refuses is an error at that key, and reading goes on.
fn each_key(
    attrs: &mut Vec<Attribute>,
    name: &str,
    errors: &mut Errors,
    mut read: impl FnMut(syn::meta::ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in take(attrs, name) {
        if let Err(error) = attr.parse_nested_meta(&mut read) {
            errors.push(error);
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
        return Err(syn::Error::new(
            value.span(),
            format!("`{key}` is given twice; keep one"),
        ));
    }
    *slot = Some(value);
    Ok(())
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

    #[test]
    fn reads_and_removes_tool_attributes() {
        let mut attrs: Vec<Attribute> = vec![
            parse_quote!(#[doc = " x"]),
            parse_quote!(#[tool(name = "process_list")]),
        ];
        let mut errors = Errors::default();
        let options = tool_options(&mut attrs, &mut errors);
        assert!(errors.to_compile_errors().is_empty());
        assert_eq!(options.name.unwrap().value(), "process_list");
        assert_eq!(attrs.len(), 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let mut attrs: Vec<Attribute> = vec![parse_quote!(#[tool(nmae = "x")])];
        let mut errors = Errors::default();
        tool_options(&mut attrs, &mut errors);
        assert!(errors
            .to_compile_errors()
            .to_string()
            .contains("unknown key of #[tool]"));

        let mut errors = Errors::default();
        macro_options(quote!(manifest = "a.json", strict = true), &mut errors);
        assert!(errors
            .to_compile_errors()
            .to_string()
            .contains("unknown option"));
    }

    #[test]
    fn param_attributes_read_rename_and_kind() {
        let mut attrs: Vec<Attribute> =
            vec![parse_quote!(#[param(rename = "list", kind = "list")])];
        let mut errors = Errors::default();
        let options = param_options(&mut attrs, &mut errors);
        assert!(errors.to_compile_errors().is_empty());
        assert_eq!(options.rename.unwrap().value(), "list");
        assert_eq!(options.kind.unwrap().value(), "list");
        assert!(attrs.is_empty());
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        let mut attrs: Vec<Attribute> = vec![parse_quote!(#[param(rename = "a", rename = "b")])];
        let mut errors = Errors::default();
        param_options(&mut attrs, &mut errors);
        assert!(errors
            .to_compile_errors()
            .to_string()
            .contains("given twice"));
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
