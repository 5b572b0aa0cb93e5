//! The build-time check of a trait against the host's tool-list snapshot (the manifest of
//! `#[elixir_tools(manifest = "...")]`), through the same comparison as the runtime's
//! `verify`: `snakepit_bridge_spec::compare_tools`.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use snakepit_bridge_spec::{
    compare_tools, snapshot_command, DeclaredTool, Manifest, Mismatch, MismatchKind,
};

use crate::declared::declared;
use crate::internals::Ctxt;
use crate::model::{ToolArg, ToolMethod, ToolTrait};
use crate::type_text::type_text;

/// Where relative manifest paths are resolved instead of the crate's directory.
pub(crate) const MANIFEST_DIR_VARIABLE: &str = "SNAKEPIT_TOOLS_MANIFEST_DIR";

/// Checks `model` against its manifest, if it names one, reporting each mismatch at its own
/// tokens. Returns code that makes Cargo rebuild the crate when the manifest (or the variable)
/// changes.
pub(crate) fn check(model: &ToolTrait, cx: &mut Ctxt) -> TokenStream {
    let Some(manifest_lit) = &model.manifest else {
        return TokenStream::new();
    };
    let written = manifest_lit.value();
    let base = std::env::var_os(MANIFEST_DIR_VARIABLE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = resolve(&base, &written);
    let (shown, snapshot) = (
        path.display(),
        snapshot_command("HOST:PORT", "SESSION", &written),
    );
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            let message = format!(
                "cannot read the tool manifest {shown}: {error}; create it from a running host with `{snapshot}`"
            );
            cx.at(manifest_lit, message);
            return TokenStream::new();
        }
    };
    let manifest = match Manifest::from_json(&text) {
        Ok(manifest) => manifest,
        Err(error) => {
            let message = format!(
                "the tool manifest {shown} is not valid: {error}; write it anew with `{snapshot}`"
            );
            cx.at(manifest_lit, message);
            return tracking(&path);
        }
    };
    let declared: Vec<DeclaredTool> = model
        .methods
        .iter()
        .filter(|m| m.valid())
        .map(|method| declared(method, &model.private).tool)
        .collect();
    let listed = listed_tools(&manifest, &written);
    for mismatch in compare_tools(&declared, &manifest.tools) {
        if let Some(method) = model.methods.iter().find(|m| m.ident == mismatch.method) {
            cx.push(placed(&mismatch, method, &listed));
        }
    }
    tracking(&path)
}

/// `written` against `base`, unless it is absolute.
fn resolve(base: &Path, written: &str) -> PathBuf {
    let written = Path::new(written);
    if written.is_absolute() {
        written.to_owned()
    } else {
        base.join(written)
    }
}

/// Makes rustc record the manifest and the variable as inputs of the crate, so that Cargo
/// rebuilds it when either changes.
fn tracking(path: &Path) -> TokenStream {
    let path = path.to_string_lossy();
    quote! {
        const _: &[u8] = ::core::include_bytes!(#path);
        const _: ::core::option::Option<&str> = ::core::option_env!(#MANIFEST_DIR_VARIABLE);
    }
}

/// For a tool the manifest does not list and whose name is close to none: what it does list,
/// and how to write it anew if the host has the tool now.
fn listed_tools(manifest: &Manifest, written: &str) -> String {
    let names: Vec<&str> = manifest
        .tools
        .iter()
        .map(|tool| tool.name.as_str())
        .collect();
    let listed = if names.is_empty() {
        "lists no tools".to_owned()
    } else {
        format!("lists {}", names.join(", "))
    };
    let session = if manifest.session.is_empty() {
        "SESSION"
    } else {
        &manifest.session
    };
    format!(
        "; the manifest {written} {listed}; if the host has the tool now, write the manifest \
         anew with `{}`",
        snapshot_command("HOST:PORT", session, written)
    )
}

/// The mismatch as an error placed where it is: the tool name, the method, the argument's
/// name, or its whole type.
fn placed(mismatch: &Mismatch, method: &ToolMethod, listed: &str) -> syn::Error {
    let message = mismatch.message();
    let at_method = || syn::Error::new(method.ident.span(), &message);
    let arg = |name: &str| method.args.iter().find(|a| a.ident == name);
    match &mismatch.kind {
        MismatchKind::MissingTool { suggestion: None } => {
            // "check the name, or refresh the host's tool list" said with what is at hand.
            let message = format!("the host exposes no tool `{}`{listed}", mismatch.tool);
            syn::Error::new(method.tool_name_span, message)
        }
        MismatchKind::MissingTool { .. } => syn::Error::new(method.tool_name_span, &message),
        MismatchKind::MissingParameter { .. } => at_method(),
        MismatchKind::UnknownParameter {
            argument,
            suggestion,
            ..
        } => {
            // At compile time the fix can be spelled out exactly.
            let message = match suggestion {
                Some(name) => format!("{message} fix it with #[param(rename = \"{name}\")]"),
                None => message.clone(),
            };
            match arg(argument) {
                Some(arg) => syn::Error::new(arg.wire_name_span, &message),
                None => syn::Error::new(method.ident.span(), &message),
            }
        }
        MismatchKind::OptionalButRequired { argument, .. } => match arg(argument) {
            Some(arg) => syn::Error::new_spanned(&arg.ty, &message),
            None => at_method(),
        },
        MismatchKind::IncompatibleType {
            argument,
            host_type,
            ..
        } => match arg(argument) {
            Some(arg) => {
                syn::Error::new_spanned(&arg.ty, with_kind_hint(message.clone(), arg, host_type))
            }
            None => at_method(),
        },
    }
}

/// For a type the macro only guessed at, how to say what it really sends.
fn with_kind_hint(message: String, arg: &ToolArg, host_type: &str) -> String {
    if !arg.kind_guessed {
        return message;
    }
    let kind = snakepit_bridge_spec::accepted_kinds(host_type)
        .and_then(|kinds| kinds.first())
        .map_or("any", |kind| kind.host_type_name());
    format!(
        "{message} (the macro takes `{}` for a struct); if it serializes as `{host_type}`, mark \
         the argument #[param(kind = \"{kind}\")]",
        type_text(&arg.value_ty)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_base_and_absolute_ones_stand() {
        assert_eq!(
            resolve(Path::new("/crate"), "tools.json"),
            Path::new("/crate/tools.json")
        );
        assert_eq!(
            resolve(Path::new("/crate"), "/etc/tools.json"),
            Path::new("/etc/tools.json")
        );
    }

    #[test]
    fn tracking_code_includes_the_manifest_and_reads_the_variable() {
        let file: syn::File = syn::parse2(tracking(Path::new("/crate/tools.json"))).unwrap();
        let called: Vec<(String, String)> = file
            .items
            .iter()
            .map(|item| {
                let syn::Item::Const(item) = item else {
                    panic!("a const item")
                };
                let syn::Expr::Macro(call) = &*item.expr else {
                    panic!("a macro call")
                };
                let name = call.mac.path.segments.last().unwrap().ident.to_string();
                let argument: syn::LitStr = call.mac.parse_body().unwrap();
                (name, argument.value())
            })
            .collect();
        assert_eq!(
            called,
            [
                ("include_bytes".to_owned(), "/crate/tools.json".to_owned()),
                ("option_env".to_owned(), MANIFEST_DIR_VARIABLE.to_owned()),
            ]
        );
    }

    fn check_with_manifest(path: &str) -> (TokenStream, Vec<String>) {
        let mut cx = Ctxt::new();
        let model = crate::parse::parse_trait(
            syn::parse_quote!(
                trait T {
                    async fn f(&self) -> Result<u32, Error>;
                }
            ),
            crate::parse::macro_options(quote!(manifest = #path), &mut cx),
            &mut cx,
        );
        let tracking = check(&model, &mut cx);
        (tracking, crate::internals::testing::messages(cx.check()))
    }

    #[test]
    fn a_missing_manifest_is_reported_with_how_to_write_it() {
        let path = std::env::temp_dir().join("snakepit-no-such-manifest.json");
        let (tracking, errors) = check_with_manifest(path.to_str().unwrap());
        assert!(tracking.is_empty(), "nothing to track");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with(&format!("cannot read the tool manifest {}", path.display())),
            "{errors:?}"
        );
    }

    #[test]
    fn an_invalid_manifest_is_reported_and_still_tracked() {
        let path = std::env::temp_dir().join(format!("snakepit-bad-{}.json", std::process::id()));
        std::fs::write(&path, "not json").unwrap();
        let (tracking, errors) = check_with_manifest(path.to_str().unwrap());
        std::fs::remove_file(&path).unwrap();
        assert_eq!(syn::parse2::<syn::File>(tracking).unwrap().items.len(), 2);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("is not valid"), "{errors:?}");
    }
}
