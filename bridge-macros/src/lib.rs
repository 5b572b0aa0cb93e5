//! The attributes of snakepit-bridge: `#[elixir_tools]` (typed clients of the Elixir host's
//! tools, generated from a trait) and `#[worker_tools]` (a worker's tools, from an `impl` block).
//!
//! Use them through the facade crate, `snakepit_bridge::elixir_tools` and
//! `snakepit_bridge::worker_tools`, whose documentation describes what they generate. Both run
//! the same pipeline on one reader layer, `internals` (the error context `Ctxt`, the attribute
//! options, what is read from types and signatures, and the driver): `parse` (and
//! `worker_tools::parse`) builds a typed model, reporting only bad attribute options; `check`
//! (and `worker_tools::check`) validates the model, reporting every problem at once;
//! `manifest_check` compares a trait with a tool-list snapshot; and `expand` writes the code.
//! `classify` names the kind of value each argument carries, and `naming` holds the name rules
//! both attributes share.
#![warn(missing_docs)]

mod check;
mod classify;
mod declared;
mod expand;
mod internals;
mod manifest_check;
mod model;
mod naming;
mod parse;
mod type_text;
mod worker_tools;

use proc_macro::TokenStream;

/// `#[elixir_tools]` comes from the crate `snakepit-bridge-macros`: write it as
/// `snakepit_bridge::elixir_tools`, through the facade crate `snakepit-bridge`, which documents
/// it in full and whose paths the generated code names (its `crate = "..."` option names
/// another).
#[proc_macro_attribute]
pub fn elixir_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::elixir_tools(args.into(), input.into()).into()
}

/// `#[worker_tools]` comes from the crate `snakepit-bridge-macros`: write it as
/// `snakepit_bridge::worker_tools`, through the facade crate `snakepit-bridge`, which documents
/// it in full and whose paths the generated code names (its `crate = "..."` option names
/// another).
#[proc_macro_attribute]
pub fn worker_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    worker_tools::worker_tools(args.into(), input.into()).into()
}
