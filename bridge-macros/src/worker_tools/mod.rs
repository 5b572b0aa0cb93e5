//! `#[worker_tools]`: the tools of a snakepit worker, from an inherent `impl` block.
//!
//! The same pipeline as `#[elixir_tools]`, on the same reader layer ([`crate::internals`]):
//! [`parse`] reads the block into the typed [`model`], [`check`] validates it, reporting every
//! problem at its tokens, and [`expand`] writes the `ToolSet` implementation.

mod check;
mod expand;
mod model;
mod parse;

pub(crate) use expand::worker_tools;
