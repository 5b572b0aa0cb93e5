//! The protobuf messages and the gRPC client and server of `snakepit.bridge.BridgeService`,
//! generated from `proto/snakepit_bridge.proto` (snakepit's `priv/proto/snakepit_bridge.proto`).
//!
//! These are the exact wire types of the snakepit host; most users never touch them, but they
//! are public for raw calls, custom hosts and benchmarks.
//!
//! The code is checked in (`src/generated/`), so that building the runtime runs no build script
//! and compiles no protobuf compiler; `cargo run -p snakepit-bridge-codegen` writes it again, and
//! CI checks that it is what the proto gives.
#![allow(missing_docs, clippy::all)]

include!("generated/snakepit.bridge.rs");
