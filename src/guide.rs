//! Guides: how to run, test and call a worker, beyond the first steps of the crate docs. Each
//! is a page of its own; their examples compile as the crate's doc tests.
//!
//! - [`pool`]: a Rust worker in a snakepit pool, the Elixir side, and what the worker does as
//!   snakepit's Python worker does it.
//! - [`production`]: writing tools, and a worker in production (start-up and shutdown hooks,
//!   sessions, deadlines, tracing, telemetry into Elixir, unit tests of tools).
//! - [`testing`]: testing a worker without Elixir (the embedded host, the launcher, the
//!   `snakepit-tools worker` CLI) and the robustness tests.
//! - [`session`]: calling the host from Rust (the session context, its options, timeouts,
//!   TLS, the wire's rules for values, the errors).
//! - [`build_check`]: typed calls into Elixir, the build-time check against a manifest, and
//!   the CLI that writes manifests.
//!
//! The [`worker`](crate::worker) module is the worker's own guide, and
//! [`worker_tools`](crate::worker_tools) and [`elixir_tools`](crate::elixir_tools) document
//! the two attributes.

pub mod pool {
    #![doc = include_str!("guide/pool.md")]
}

pub mod production {
    #![doc = include_str!("guide/production.md")]
}

pub mod testing {
    #![doc = include_str!("guide/testing.md")]
}

pub mod session {
    #![doc = include_str!("guide/session.md")]
}

pub mod build_check {
    #![doc = include_str!("guide/build_check.md")]
}
