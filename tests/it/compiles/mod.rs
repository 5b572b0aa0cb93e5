//! Uses of `#[elixir_tools]` and `#[worker_tools]` that must compile, and what they generate:
//! each module is written as a user's crate would be (its own imports, or none). The errors the
//! attributes report are pinned by the UI suite of `snakepit-bridge-macros`
//! (`bridge-macros/tests/ui.rs`).

// Items that only have to compile are never used.
#![allow(dead_code)]

mod elixir_tools;
mod worker_tools;
