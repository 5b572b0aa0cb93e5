//! The session context without async, for workers that are plain programs.
//!
//! Every call runs on a small background tokio runtime owned by the context (one worker thread,
//! shared by all clones), so the calling thread simply waits for the answer.
//!
//! ```no_run
//! # extern crate snakepit_bridge_runtime as snakepit_bridge;
//! # fn run() -> Result<(), snakepit_bridge::Error> {
//! use serde_json::json;
//! use snakepit_bridge::blocking::SessionContext;
//!
//! let ctx = SessionContext::connect("localhost:50051", "session-1")?;
//! let result = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 10}))?;
//! println!("{result}");
//! # Ok(()) }
//! ```
//!
//! It works from any thread, `tokio::task::spawn_blocking` included. From inside an async task
//! it works too, but blocks that task's worker thread while it waits: use the async
//! [`SessionContext`](crate::SessionContext) there.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::codec::{Parameters, ToolResponse};
use crate::context::SessionInfo;
use crate::declaration::check_declared;
use crate::options::SessionContextBuilder;
use crate::tool_list::ElixirTools;
use crate::Error;

/// The blocking twin of the async [`SessionContext`](crate::SessionContext): the same calls,
/// each waiting for its answer.
#[derive(Clone, Debug)]
pub struct SessionContext {
    inner: crate::SessionContext,
    runtime: Arc<BackgroundRuntime>,
}

/// The runtime behind the blocking calls.
#[derive(Debug)]
struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    fn start() -> Result<Self, Error> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("snakepit-bridge-blocking")
            .enable_all()
            .build()
            .map(|runtime| BackgroundRuntime(Some(runtime)))
            .map_err(Error::Runtime)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("present until dropped")
    }

    /// Runs `work` and waits for it.
    ///
    /// On a plain thread the calling thread drives the call itself. Where a tokio runtime is
    /// current (inside `spawn_blocking`, or, not recommended, inside an async task) starting
    /// a runtime there would panic, so the call runs on this runtime's worker and the calling
    /// thread waits for the answer on a channel.
    fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime().block_on(work);
        }
        crate::support::wait_on(self.runtime().handle(), work).unwrap_or_else(|| {
            Err(Error::Runtime(std::io::Error::other(
                "the runtime of the blocking SessionContext stopped before the call finished",
            )))
        })
    }
}

/// Dropping a tokio runtime inside async code panics, so it is shut down in the background
/// instead, which is safe anywhere.
impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl SessionContext {
    /// Connects to the host at `address` for the session `session_id`, with default options.
    pub fn connect(
        address: impl Into<String>,
        session_id: impl Into<String>,
    ) -> Result<Self, Error> {
        Self::builder(address, session_id).connect_blocking()
    }

    /// Starts a builder; finish it with
    /// [`connect_blocking`](SessionContextBuilder::connect_blocking).
    pub fn builder(
        address: impl Into<String>,
        session_id: impl Into<String>,
    ) -> SessionContextBuilder {
        SessionContextBuilder::new(address, session_id)
    }

    pub(crate) fn from_builder(options: SessionContextBuilder) -> Result<Self, Error> {
        let runtime = BackgroundRuntime::start()?;
        let inner = runtime.run(crate::SessionContext::from_builder(options))?;
        Ok(SessionContext {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// Runs `call` with a clone of the async context, and waits for it.
    fn wait<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(crate::SessionContext) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        self.runtime.run(call(self.inner.clone()))
    }

    /// The async context behind this one, sharing its connection.
    pub fn as_async(&self) -> &crate::SessionContext {
        &self.inner
    }

    /// The session this context works in.
    pub fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// A clone that sends `id` as its correlation id.
    pub fn with_correlation_id(&self, id: &str) -> Result<Self, Error> {
        Ok(SessionContext {
            inner: self.inner.with_correlation_id(id)?,
            runtime: self.runtime.clone(),
        })
    }

    /// See the async
    /// [`SessionContext::elixir_tools`](crate::SessionContext::elixir_tools).
    pub fn elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.wait(|ctx| async move { ctx.elixir_tools().await })
    }

    /// See the async
    /// [`SessionContext::refresh_elixir_tools`](crate::SessionContext::refresh_elixir_tools).
    pub fn refresh_elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.wait(|ctx| async move { ctx.refresh_elixir_tools().await })
    }

    /// See the async
    /// [`SessionContext::call_elixir_tool`](crate::SessionContext::call_elixir_tool).
    pub fn call_elixir_tool<P: Serialize>(&self, tool: &str, params: P) -> Result<Value, Error> {
        self.call_elixir_tool_raw(tool, params)?.value()
    }

    /// See the async
    /// [`SessionContext::call_elixir_tool_as`](crate::SessionContext::call_elixir_tool_as).
    pub fn call_elixir_tool_as<R, P>(&self, tool: &str, params: &P) -> Result<R, Error>
    where
        R: DeserializeOwned,
        P: Serialize + ?Sized,
    {
        self.call_elixir_tool_raw(tool, params)?.decode()
    }

    /// See the async
    /// [`SessionContext::call_elixir_tool_raw`](crate::SessionContext::call_elixir_tool_raw).
    pub fn call_elixir_tool_raw<P: Serialize>(
        &self,
        tool: &str,
        params: P,
    ) -> Result<ToolResponse, Error> {
        let parameters = Parameters::from_serialize(&params).map_err(|e| e.for_tool(tool))?;
        self.call_with_parameters(tool, parameters)
    }

    /// See the async
    /// [`SessionContext::call_with_parameters`](crate::SessionContext::call_with_parameters).
    pub fn call_with_parameters(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> Result<ToolResponse, Error> {
        let tool = tool.to_owned();
        self.wait(|ctx| async move { ctx.call_with_parameters(&tool, parameters).await })
    }

    /// See the async
    /// [`SessionContext::verify`](crate::SessionContext::verify).
    pub fn verify<D: crate::DeclaredTools>(&self) -> Result<(), Error> {
        let host = self.elixir_tools()?;
        check_declared(D::TRAIT_NAME, &D::tools(), &host)
    }

    /// See the async
    /// [`SessionContext::initialize_session`](crate::SessionContext::initialize_session).
    pub fn initialize_session<I, K, V>(&self, metadata: I) -> Result<ElixirTools, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let metadata: Vec<(String, String)> = metadata
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        self.wait(|ctx| async move { ctx.initialize_session(metadata).await })
    }

    /// See the async
    /// [`SessionContext::get_session`](crate::SessionContext::get_session).
    pub fn get_session(&self) -> Result<SessionInfo, Error> {
        self.wait(|ctx| async move { ctx.get_session().await })
    }

    /// See the async
    /// [`SessionContext::ping`](crate::SessionContext::ping).
    pub fn ping(&self, message: &str) -> Result<String, Error> {
        let message = message.to_owned();
        self.wait(|ctx| async move { ctx.ping(&message).await })
    }

    /// See the async
    /// [`SessionContext::heartbeat`](crate::SessionContext::heartbeat).
    pub fn heartbeat(&self) -> Result<bool, Error> {
        self.wait(|ctx| async move { ctx.heartbeat().await })
    }

    /// See the async
    /// [`SessionContext::cleanup`](crate::SessionContext::cleanup).
    pub fn cleanup(&self) -> Result<(), Error> {
        self.wait(|ctx| async move { ctx.cleanup().await })
    }
}
