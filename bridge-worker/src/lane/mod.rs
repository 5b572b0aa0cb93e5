//! The Unix-socket lane beside snakepit's gRPC (the rules: `snakepit_bridge_spec::lane`): the
//! Elixir package's adapter carries `ExecuteTool` and `ExecuteStreamingTool` calls here, in
//! Erlang's external term format, instead of through snakepit's gRPC client. A call on the lane
//! runs through the worker's `BridgeService` methods, so that it answers what the same call on
//! gRPC answers.

mod codec;
mod server;

pub(crate) use server::{offer, Lane};
