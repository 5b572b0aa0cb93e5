//! What the `#[elixir_tools]` methods call through: anything that can call a tool.
//!
//! The macro implements a tool trait for every [`ToolCaller`] (async methods) and every
//! [`BlockingToolCaller`] (plain methods). The session contexts are callers; so is any type of
//! yours, which is how a worker's logic is unit-tested without a host:
//!
//! ```
//! # extern crate snakepit_bridge_runtime as snakepit_bridge;
//! use snakepit_bridge::{Error, Parameters, ToolCaller, ToolResponse};
//!
//! /// Answers every call with the parameter `n` doubled.
//! struct Doubler;
//!
//! impl ToolCaller for Doubler {
//!     async fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
//!         let n: u64 = parameters.decode("n").map_err(|e| e.for_tool(tool))?;
//!         ToolResponse::from_json(tool, &(n * 2))
//!     }
//! }
//! ```

use std::future::Future;

use crate::codec::{Parameters, ToolResponse};
use crate::Error;

/// Calls a tool, asynchronously. Implemented by [`SessionContext`](crate::SessionContext); implement it for a
/// fake to test code written against an `#[elixir_tools]` trait.
pub trait ToolCaller: Send + Sync {
    /// Calls `tool` with `parameters` and returns the host's whole answer.
    fn call_tool(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> impl Future<Output = Result<ToolResponse, Error>> + Send;
}

/// Calls a tool, blocking. Implemented by [`blocking::SessionContext`](crate::blocking::SessionContext).
pub trait BlockingToolCaller {
    /// Calls `tool` with `parameters` and returns the host's whole answer.
    fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error>;
}

impl ToolCaller for crate::SessionContext {
    fn call_tool(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> impl Future<Output = Result<ToolResponse, Error>> + Send {
        self.call_with_parameters(tool, parameters)
    }
}

impl BlockingToolCaller for crate::blocking::SessionContext {
    fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        self.call_with_parameters(tool, parameters)
    }
}

impl<C: ToolCaller + ?Sized> ToolCaller for &C {
    fn call_tool(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> impl Future<Output = Result<ToolResponse, Error>> + Send {
        (**self).call_tool(tool, parameters)
    }
}

impl<C: BlockingToolCaller + ?Sized> BlockingToolCaller for &C {
    fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        (**self).call_tool(tool, parameters)
    }
}
