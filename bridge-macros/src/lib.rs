//! The `#[elixir_tools]` attribute of snakepit-bridge: typed clients of the Elixir host's tools,
//! generated from a trait.
//!
//! Use it through the facade crate, `snakepit_bridge::elixir_tools`, whose documentation
//! describes what it generates. The work happens in a pipeline: [`attrs`] reads the
//! attributes, [`parse`] builds a typed [`model`] of the trait (with [`classify`] naming the
//! kind of value each argument sends) and collects every problem, and [`expand`] writes the
//! code.
#![warn(missing_docs)]

mod attrs;
mod classify;
mod errors;
mod expand;
mod manifest_check;
mod model;
mod naming;
mod parse;
mod type_text;
mod worker_tools;

use proc_macro::TokenStream;

/// Turns a trait of `async fn` tool methods into typed calls of the Elixir host's tools. See
/// `snakepit_bridge::elixir_tools` for the full documentation.
#[proc_macro_attribute]
pub fn elixir_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::elixir_tools(args.into(), input.into()).into()
}

/// Serves the public methods of an `impl` block as the tools of a snakepit worker. See
/// `snakepit_bridge::worker_tools` for the full documentation.
#[proc_macro_attribute]
pub fn worker_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    worker_tools::worker_tools(args.into(), input.into()).into()
}
