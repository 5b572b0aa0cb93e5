//! What a tool sees of its call besides its parameters.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use snakepit_bridge_runtime::{
    BlockingToolCaller, Error, Parameters, SessionContext, ToolCaller, ToolResponse,
};

use tokio::time::Instant;

use crate::host_link::HostLink;
use crate::telemetry::{Telemetry, TelemetryHub};

/// A tool's view of its call: the session, the correlation id and metadata the host sent, the
/// call's deadline, telemetry into Elixir, and the host itself, for calls back into Elixir.
///
/// Take it as an argument of a tool (`ctx: &ToolContext` or `ctx: ToolContext`). It implements
/// [`ToolCaller`], so an `#[elixir_tools]` trait's typed methods work on it directly:
/// `ctx.calculate_fibonacci(12).await?` calls the host in the request's session, with the
/// request's correlation id, bounded by the request's deadline. Tools written as plain `fn` use
/// [`elixir_blocking`](Self::elixir_blocking) for the `{Trait}Blocking` twin.
///
/// In a unit test, [`ToolCall::for_test`](crate::ToolCall::for_test) builds one, and
/// [`with_caller`](crate::ToolCall::with_caller) gives it a fake Elixir:
///
/// ```
/// use snakepit_bridge::worker::ToolCall;
/// use snakepit_bridge::{Error, Parameters, ToolCaller, ToolResponse};
///
/// struct FakeElixir;
///
/// impl ToolCaller for FakeElixir {
///     async fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
///         let n: u64 = parameters.decode("n").map_err(|e| e.for_tool(tool))?;
///         ToolResponse::from_json(tool, &(n + 1))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ctx = ToolCall::for_test("uses_elixir", serde_json::json!({}), [])
///     .with_caller(FakeElixir)
///     .context();
/// let answer = ctx
///     .call_tool("increment", Parameters::from_serialize(&serde_json::json!({"n": 41})).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(answer.value().unwrap(), 42);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ToolContext {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    session_id: String,
    correlation_id: Option<String>,
    metadata: HashMap<String, String>,
    elixir: Elixir,
    deadline: Option<Instant>,
    telemetry: Option<Arc<TelemetryHub>>,
}

/// Where calls back into Elixir go.
#[derive(Clone)]
enum Elixir {
    /// The worker's host (or none, when it runs standalone).
    Host(Arc<HostLink>),
    /// A caller a test attached.
    Caller(Arc<dyn DynCaller>),
}

impl std::fmt::Debug for Elixir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Elixir::Host(link) => link.fmt(f),
            Elixir::Caller(_) => f.write_str("Caller(..)"),
        }
    }
}

/// [`ToolCaller`] as a trait object (its `impl Future` return is not object-safe).
trait DynCaller: Send + Sync {
    fn call<'a>(
        &'a self,
        tool: &'a str,
        parameters: Parameters,
    ) -> Pin<Box<dyn Future<Output = Result<ToolResponse, Error>> + Send + 'a>>;
}

impl<C: ToolCaller> DynCaller for C {
    fn call<'a>(
        &'a self,
        tool: &'a str,
        parameters: Parameters,
    ) -> Pin<Box<dyn Future<Output = Result<ToolResponse, Error>> + Send + 'a>> {
        Box::pin(self.call_tool(tool, parameters))
    }
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
                elixir: Elixir::Host(link),
                deadline: None,
                telemetry: None,
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// Calls back go to `caller` (a test's fake Elixir).
    pub(crate) fn set_caller(&mut self, caller: impl ToolCaller + 'static) {
        self.inner_mut().elixir = Elixir::Caller(Arc::new(caller));
    }

    /// Calls back go to `link`.
    pub(crate) fn set_link(&mut self, link: Arc<HostLink>) {
        self.inner_mut().elixir = Elixir::Host(link);
    }

    /// The call must finish by `deadline`.
    pub(crate) fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.inner_mut().deadline = deadline;
    }

    /// Sets the correlation id.
    pub(crate) fn set_correlation_id(&mut self, id: Option<String>) {
        self.inner_mut().correlation_id = id;
    }

    /// Sets the session.
    pub(crate) fn set_session_id(&mut self, id: String) {
        self.inner_mut().session_id = id;
    }

    /// Events go to `hub`.
    pub(crate) fn set_telemetry(&mut self, hub: Arc<TelemetryHub>) {
        self.inner_mut().telemetry = Some(hub);
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

    /// When the caller stops waiting for this call (from its `grpc-timeout`), if it said. Calls
    /// back into Elixir through this context are bounded by it.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.inner.deadline.map(Instant::into_std)
    }

    /// The time left until [`deadline`](Self::deadline) (zero once it passed), if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.inner
            .deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }

    /// Telemetry into Elixir, with this call's correlation id: see [`Telemetry`].
    pub fn telemetry(&self) -> Telemetry {
        Telemetry::new(
            self.inner.telemetry.clone(),
            self.inner.correlation_id.clone(),
        )
    }

    /// A session context on the host for this request's session, carrying its correlation id.
    ///
    /// Calls made on it directly are bounded by the context's own call timeout, not by this
    /// call's deadline: call through the `ToolContext` (a typed trait's methods, or
    /// [`ToolCaller::call_tool`]) for that.
    pub fn elixir(&self) -> Result<SessionContext, Error> {
        let link = match &self.inner.elixir {
            Elixir::Host(link) => link,
            Elixir::Caller(_) => {
                return Err(Error::NoHost {
                    reason: "this call has a fake caller attached (`ToolCall::with_caller`), not a host; call Elixir through the ToolContext itself (its `#[elixir_tools]` methods or `call_tool`), or attach a host with `ToolCall::with_host`".to_owned(),
                })
            }
        };
        let ctx = link.session(&self.inner.session_id)?;
        match &self.inner.correlation_id {
            Some(id) => ctx.with_correlation_id(id),
            None => Ok(ctx),
        }
    }

    /// The same, for plain `fn` tools (which run on a blocking thread): it implements
    /// [`BlockingToolCaller`], so the `{Trait}Blocking` twin of an `#[elixir_tools]` trait
    /// works on it, bounded by the call's deadline. Do not use it from an `async fn` tool.
    pub fn elixir_blocking(&self) -> Result<BlockingElixir, Error> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| Error::NoHost {
            reason: "elixir_blocking() needs the worker's runtime; call it from a tool".to_owned(),
        })?;
        let ctx = match &self.inner.elixir {
            Elixir::Host(_) => Some(self.elixir()?),
            Elixir::Caller(_) => None,
        };
        Ok(BlockingElixir {
            tool: self.clone(),
            ctx,
            handle,
        })
    }

    /// One call back into Elixir, bounded by the call's deadline.
    async fn call_back(&self, tool: String, parameters: Parameters) -> Result<ToolResponse, Error> {
        let call = async {
            match &self.inner.elixir {
                Elixir::Host(_) => self.elixir()?.call_with_parameters(&tool, parameters).await,
                Elixir::Caller(caller) => caller.call(&tool, parameters).await,
            }
        };
        let Some(deadline) = self.inner.deadline else {
            return call.await;
        };
        let limit = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout_at(deadline, call)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    operation: format!(
                        "the call of tool `{tool}` (bounded by the deadline of the call being served, from its caller's grpc-timeout)"
                    ),
                    limit,
                })
            })
    }
}

impl ToolCaller for ToolContext {
    fn call_tool(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> impl Future<Output = Result<ToolResponse, Error>> + Send {
        self.call_back(tool.to_owned(), parameters)
    }
}

/// Calls into Elixir from a plain `fn` tool; see [`ToolContext::elixir_blocking`].
#[derive(Debug, Clone)]
pub struct BlockingElixir {
    tool: ToolContext,
    ctx: Option<SessionContext>,
    handle: tokio::runtime::Handle,
}

impl BlockingElixir {
    /// The async context underneath (`None` when a test attached a fake caller).
    pub fn as_async(&self) -> Option<&SessionContext> {
        self.ctx.as_ref()
    }
}

impl BlockingToolCaller for BlockingElixir {
    fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        // The call runs on the worker's runtime; this thread only waits for its answer, which
        // works from any thread (and never panics, unlike `block_on` inside a runtime).
        let ctx = self.tool.clone();
        let tool = tool.to_owned();
        let call = async move { ctx.call_back(tool, parameters).await };
        snakepit_bridge_runtime::support::wait_on(&self.handle, call).unwrap_or_else(|| {
            Err(Error::NoHost {
                reason: "the worker's runtime stopped during the call; the worker is shutting down"
                    .to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_tool_context_method_is_in_the_list_the_macro_checks() {
        for name in snakepit_bridge_spec::__private::public_fn_names(include_str!("context.rs")) {
            assert!(
                snakepit_bridge_spec::CONTEXT_METHOD_NAMES.contains(&name.as_str()),
                "`{name}` is missing from CONTEXT_METHOD_NAMES"
            );
        }
    }
}
