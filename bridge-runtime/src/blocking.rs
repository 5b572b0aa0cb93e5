//! The session context without async, for workers that are plain programs.
//!
//! Every call runs on a small background tokio runtime owned by the context (one worker thread,
//! shared by all clones), so the calling thread simply waits for the answer.
//!
//! ```no_run
//! # fn run() -> Result<(), snakepit_bridge_runtime::Error> {
//! use serde_json::json;
//! use snakepit_bridge_runtime::blocking::SessionContext;
//!
//! let ctx = SessionContext::connect("localhost:50051", "session-1")?;
//! let result = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 10}))?;
//! println!("{result}");
//! # Ok(()) }
//! ```
//!
//! Do not use it from inside an async runtime: calls there return
//! [`Error::BlockingInAsyncContext`] instead of blocking the runtime's thread.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::codec::{Parameters, ToolResponse};
use crate::context::SessionInfo;
use crate::options::SessionContextBuilder;
use crate::tool_list::ElixirTools;
use crate::Error;

/// The blocking twin of [`crate::SessionContext`]: the same calls, each waiting for its answer.
#[derive(Clone, Debug)]
pub struct SessionContext {
    inner: crate::SessionContext,
    runtime: Arc<BackgroundRuntime>,
}

/// The runtime behind the blocking calls. Dropping a tokio runtime inside async code panics, so
/// it is shut down in the background instead, which is safe anywhere.
#[derive(Debug)]
struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    fn block_on<F: Future>(&self, work: F) -> F::Output {
        self.0
            .as_ref()
            .expect("present until dropped")
            .block_on(work)
    }
}

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
        refuse_inside_async()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("snakepit-bridge-blocking")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let runtime = BackgroundRuntime(Some(runtime));
        let inner = runtime.block_on(crate::SessionContext::from_builder(options))?;
        Ok(SessionContext {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    fn wait<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        refuse_inside_async()?;
        self.runtime.block_on(work)
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

    /// See [`crate::SessionContext::elixir_tools`].
    pub fn elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.wait(self.inner.elixir_tools())
    }

    /// See [`crate::SessionContext::refresh_elixir_tools`].
    pub fn refresh_elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.wait(self.inner.refresh_elixir_tools())
    }

    /// See [`crate::SessionContext::call_elixir_tool`].
    pub fn call_elixir_tool<P: Serialize>(&self, tool: &str, params: P) -> Result<Value, Error> {
        self.wait(self.inner.call_elixir_tool(tool, params))
    }

    /// See [`crate::SessionContext::call_elixir_tool_as`].
    pub fn call_elixir_tool_as<R, P>(&self, tool: &str, params: &P) -> Result<R, Error>
    where
        R: DeserializeOwned,
        P: Serialize + ?Sized,
    {
        self.wait(self.inner.call_elixir_tool_as(tool, params))
    }

    /// See [`crate::SessionContext::call_elixir_tool_raw`].
    pub fn call_elixir_tool_raw<P: Serialize>(
        &self,
        tool: &str,
        params: P,
    ) -> Result<ToolResponse, Error> {
        self.wait(self.inner.call_elixir_tool_raw(tool, params))
    }

    /// See [`crate::SessionContext::call_with_parameters`].
    pub fn call_with_parameters(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> Result<ToolResponse, Error> {
        self.wait(self.inner.call_with_parameters(tool, parameters))
    }

    /// See [`crate::SessionContext::verify`].
    pub fn verify<D: crate::DeclaredTools>(&self) -> Result<(), Error> {
        self.wait(self.inner.verify::<D>())
    }

    /// See [`crate::SessionContext::initialize_session`].
    pub fn initialize_session<I, K, V>(&self, metadata: I) -> Result<ElixirTools, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.wait(self.inner.initialize_session(metadata))
    }

    /// See [`crate::SessionContext::get_session`].
    pub fn get_session(&self) -> Result<SessionInfo, Error> {
        self.wait(self.inner.get_session())
    }

    /// See [`crate::SessionContext::ping`].
    pub fn ping(&self, message: &str) -> Result<String, Error> {
        self.wait(self.inner.ping(message))
    }

    /// See [`crate::SessionContext::heartbeat`].
    pub fn heartbeat(&self) -> Result<bool, Error> {
        self.wait(self.inner.heartbeat())
    }

    /// See [`crate::SessionContext::cleanup`].
    pub fn cleanup(&self) -> Result<(), Error> {
        self.wait(self.inner.cleanup())
    }
}

fn refuse_inside_async() -> Result<(), Error> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Err(Error::BlockingInAsyncContext),
        Err(_) => Ok(()),
    }
}
