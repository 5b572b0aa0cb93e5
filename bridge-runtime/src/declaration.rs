//! The tools an `#[elixir_tools]` trait declares, as data, and the checks and docs made from it.

use snakepit_bridge_spec::{compare_tools, declared_tools_markdown, DeclaredTool, Mismatch};

use crate::Error;

/// Implemented by the `{Trait}Declaration` type that `#[elixir_tools]` generates for a trait:
/// the tools the trait declares, with names, descriptions, parameters and JSON Schemas.
pub trait DeclaredTools {
    /// The trait's name.
    const TRAIT_NAME: &'static str;

    /// The declared tools, in the trait's order.
    fn tools() -> Vec<DeclaredTool>;

    /// A Markdown reference of the declared tools.
    fn markdown() -> String {
        declared_tools_markdown(Self::TRAIT_NAME, &Self::tools())
    }
}

/// `Ok` when the host agrees with every declared tool, else the error listing every mismatch.
pub(crate) fn check_declared(
    trait_name: &str,
    declared: &[DeclaredTool],
    host: &crate::ElixirTools,
) -> Result<(), Error> {
    let mismatches: Vec<Mismatch> = compare_tools(declared, host.values());
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(Error::Mismatch {
            declaration: trait_name.to_owned(),
            mismatches,
        })
    }
}
