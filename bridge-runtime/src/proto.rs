//! The protobuf messages and the gRPC client and server of `snakepit.bridge.BridgeService`,
//! generated at build time from `proto/snakepit_bridge.proto`.
//!
//! These are the exact wire types of the snakepit host; most users never touch them, but they
//! are public for raw calls, custom hosts and benchmarks.
#![allow(missing_docs, clippy::all)]

tonic::include_proto!("snakepit.bridge");
