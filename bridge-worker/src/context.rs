//! What a tool sees of its call besides its parameters.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use snakepit_bridge_runtime::{
    BlockingToolCaller, Error, Parameters, SessionContext, ToolCaller, ToolResponse,
};

use crate::host_link::HostLink;

/// A tool's view of its call: the session, the correlation id and metadata the host sent, and
/// the host itself, for calls back into Elixir.
///
/// Take it as an argument of a tool (`ctx: &ToolContext` or `ctx: ToolContext`). It implements
/// [`ToolCaller`], so an `#[elixir_tools]` trait's typed methods work on it directly:
/// `ctx.calculate_fibonacci(12).await?` calls the host in the request's session, with the
/// request's correlation id. Tools written as plain `fn` use
/// [`elixir_blocking`](Self::elixir_blocking) for the `{Trait}Blocking` twin.
#[derive(Clone, Debug)]
pub struct ToolContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    session_id: String,
    correlation_id: Option<String>,
    metadata: HashMap<String, String>,
    link: Arc<HostLink>,
}

impl ToolContext {
    pub(crate) fn new(
        session_id: String,
        correlation_id: Option<String>,
        metadata: HashMap<String, String>,
        link: Arc<HostLink>,
    ) -> ToolContext {
        ToolContext {
            inner: Arc::new(Inner {
                session_id,
                correlation_id,
                metadata,
                link,
            }),
        }
    }

    /// The request's session id: the worker's own session on the host (snakepit gives each
    /// worker one; it is not the Elixir caller's session).
    pub fn session_id(&self) -> &str {
        &self.inner.session_id
    }

    /// The request's correlation id (`metadata["correlation_id"]`, else the
    /// `x-snakepit-correlation-id` header).
    pub fn correlation_id(&self) -> Option<&str> {
        self.inner.correlation_id.as_deref()
    }

    /// The request's metadata map.
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.inner.metadata
    }

    /// A session context on the host for this request's session, carrying its correlation id.
    pub fn elixir(&self) -> Result<SessionContext, Error> {
        let ctx = self.inner.link.session(&self.inner.session_id)?;
        match &self.inner.correlation_id {
            Some(id) => ctx.with_correlation_id(id),
            None => Ok(ctx),
        }
    }

    /// The same, for plain `fn` tools (which run on a blocking thread): it implements
    /// [`BlockingToolCaller`], so the `{Trait}Blocking` twin of an `#[elixir_tools]` trait
    /// works on it. Do not use it from an `async fn` tool.
    pub fn elixir_blocking(&self) -> Result<BlockingElixir, Error> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::Connect {
            address: "(none)".to_owned(),
            reason: "elixir_blocking() needs the worker's runtime; call it from a tool".to_owned(),
        })?;
        Ok(BlockingElixir {
            ctx: self.elixir()?,
            handle,
        })
    }
}

impl ToolCaller for ToolContext {
    fn call_tool(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> impl Future<Output = Result<ToolResponse, Error>> + Send {
        let ctx = self.elixir();
        let tool = tool.to_owned();
        async move { ctx?.call_with_parameters(&tool, parameters).await }
    }
}

/// Calls into Elixir from a plain `fn` tool; see [`ToolContext::elixir_blocking`].
#[derive(Debug, Clone)]
pub struct BlockingElixir {
    ctx: SessionContext,
    handle: tokio::runtime::Handle,
}

impl BlockingElixir {
    /// The async context underneath.
    pub fn as_async(&self) -> &SessionContext {
        &self.ctx
    }
}

impl BlockingToolCaller for BlockingElixir {
    fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        // The call runs on the worker's runtime; this thread only waits for its answer, which
        // works from any thread (and never panics, unlike `block_on` inside a runtime).
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        let ctx = self.ctx.clone();
        let tool = tool.to_owned();
        self.handle.spawn(async move {
            let _ = answer.send(ctx.call_with_parameters(&tool, parameters).await);
        });
        answered.recv().unwrap_or_else(|_| {
            Err(Error::Connect {
                address: self.ctx.address().to_owned(),
                reason: "the worker's runtime stopped during the call".to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_tool_context_method_is_in_the_list_the_macro_checks() {
        for name in snakepit_bridge_spec::public_fn_names(include_str!("context.rs")) {
            assert!(
                snakepit_bridge_spec::CONTEXT_METHOD_NAMES.contains(&name.as_str()),
                "`{name}` is missing from CONTEXT_METHOD_NAMES"
            );
        }
    }
}
