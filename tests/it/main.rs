//! The facade's integration tests, linked into one test binary (`it`): one link of the
//! dependencies instead of one per file. Each module is what was a test binary of its own; run
//! one with `cargo test --test it MODULE::` (for example `cargo test --test it faults::`).
//!
//! Beside it, a binary of its own: `tests/worker_telemetry.rs` (it installs the process's global
//! `tracing` subscriber, which a worker served in any other test would take first). The compile
//! errors of the attributes are pinned by `snakepit-bridge-macros`' UI suite
//! (`bridge-macros/tests/ui.rs`), and the uses that must compile are here (`compiles`).
//!
//! A test here shares its process with every other: it sets no environment variable of the
//! process, installs no global subscriber or panic hook, and a test that changes state others
//! read (the real host's demo session) keeps that state to itself (`real_host::own`).

mod common;
mod compiles;

mod blocking_api;
mod broken_server;
mod concurrency;
mod embedded_host_codec;
mod examples;
mod faults;
mod host_conformance;
mod launcher_any_host;
mod launcher_startup_panic;
mod launcher_telemetry;
mod real_host;
mod round_trip_properties;
mod security;
mod session_context;
mod showcase_in_process;
mod showcase_tools;
mod typed_tools;
mod wire_protocol;
mod worker_by_hand;
mod worker_codec;
mod worker_dependencies;
mod worker_describe;
mod worker_lifecycle;
mod worker_new_session;
mod worker_process;
mod worker_sessions;
mod worker_tools;
