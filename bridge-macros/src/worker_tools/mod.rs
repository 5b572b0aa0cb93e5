//! `#[worker_tools]`: the tools of a snakepit worker, from an inherent `impl` block.
//!
//! The same pipeline as `#[elixir_tools]`: [`parse`] reads the block into the typed [`model`]
//! (reusing the attribute readers, the argument classifier behind the host type table, and the
//! error collector), reporting every problem at its tokens, and [`expand`] writes the
//! `ToolSet` implementation.

mod expand;
mod model;
mod parse;

pub(crate) use expand::worker_tools;
