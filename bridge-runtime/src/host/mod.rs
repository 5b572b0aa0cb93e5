//! An embedded snakepit host, for tests, examples and local development.
//!
//! A real gRPC server over TCP that serves the host side of `BridgeService` as a snakepit v0.13
//! host does: sessions (idempotent `InitializeSession`, expiry, quota), per-session exposed
//! tools with parameter specs, Rust closures standing in for Elixir functions, and snakepit's
//! exact error texts. It is not a mock of the client: the client cannot tell it from a real host.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge_runtime::host::{demo_tools, EmbeddedHost};
//! use snakepit_bridge_runtime::SessionContext;
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).session("demo").start().await?;
//! let ctx = SessionContext::connect(host.grpc_address(), "demo").await?;
//! let fib = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 5})).await?;
//! assert_eq!(fib["sequence"], json!([0, 1, 1, 2, 3]));
//! host.shutdown().await;
//! # Ok(()) }
//! ```

mod demo;
mod service;
mod sessions;
mod tool;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;

pub use demo::demo_tools;
pub use tool::{ElixirTool, ToolOutput, ToolParams};

use crate::proto::bridge_service_server::BridgeServiceServer;
use service::{HostService, HostState};
use sessions::SessionStore;

/// Why the embedded host could not start or take a tool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The listening socket could not be bound.
    #[error("the embedded host could not listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A tool's name breaks snakepit's rule.
    #[error("the embedded host cannot expose tool `{name}`: {reason}")]
    InvalidToolName {
        /// The tool's name.
        name: String,
        /// Which part of the rule it breaks.
        #[source]
        reason: snakepit_bridge_spec::ToolNameError,
    },
    /// The session could not be created.
    #[error("the embedded host could not create session `{session}`: {reason}")]
    Session {
        /// The session id.
        session: String,
        /// snakepit's reason (`invalid_id`, `session_quota_exceeded`).
        reason: &'static str,
    },
}

/// One `ExecuteElixirTool` request as the host received it: for tests that check what went on
/// the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// The request's session id.
    pub session_id: String,
    /// The requested tool.
    pub tool: String,
    /// The parameters exactly as received (`type_url` and bytes).
    pub parameters: BTreeMap<String, prost_types::Any>,
    /// The request's `metadata` map.
    pub metadata: BTreeMap<String, String>,
    /// The request's ASCII gRPC headers.
    pub headers: BTreeMap<String, String>,
    /// The correlation id: `metadata["correlation_id"]` if set, else the
    /// `x-snakepit-correlation-id` header.
    pub correlation_id: Option<String>,
}

/// Options of an [`EmbeddedHost`]; start one with [`EmbeddedHost::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct EmbeddedHostBuilder {
    bind: SocketAddr,
    tools: Vec<ElixirTool>,
    sessions: Vec<String>,
    expose_in_new_sessions: bool,
    max_sessions: usize,
    session_ttl: Duration,
    max_message_size: usize,
}

impl EmbeddedHostBuilder {
    /// The address to listen on; by default an ephemeral loopback port (`127.0.0.1:0`).
    pub fn bind(mut self, address: SocketAddr) -> Self {
        self.bind = address;
        self
    }

    /// A tool exposed in the sessions named with [`session`](Self::session), and in sessions
    /// created through `InitializeSession` unless
    /// [`expose_in_new_sessions(false)`](Self::expose_in_new_sessions).
    pub fn tool(mut self, tool: ElixirTool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Several tools; see [`tool`](Self::tool).
    pub fn tools(mut self, tools: impl IntoIterator<Item = ElixirTool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// A session that exists from the start, with the tools.
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.sessions.push(id.into());
        self
    }

    /// Whether sessions created through `InitializeSession` get the tools (default: yes).
    pub fn expose_in_new_sessions(mut self, expose: bool) -> Self {
        self.expose_in_new_sessions = expose;
        self
    }

    /// The most sessions at once; beyond it `InitializeSession` fails with
    /// `session_quota_exceeded` (default 10,000).
    pub fn max_sessions(mut self, count: usize) -> Self {
        self.max_sessions = count;
        self
    }

    /// How long an untouched session lives (default one hour, as in snakepit).
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// The largest message the host decodes or encodes (default: no limit, as a snakepit host).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Binds the socket and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<EmbeddedHost, HostError> {
        for tool in &self.tools {
            snakepit_bridge_spec::validate_tool_name(tool.name()).map_err(|reason| {
                HostError::InvalidToolName {
                    name: tool.name().to_owned(),
                    reason,
                }
            })?;
        }
        let mut store = SessionStore::new(
            self.tools,
            self.expose_in_new_sessions,
            self.max_sessions,
            self.session_ttl,
        );
        for id in &self.sessions {
            store
                .initialize_with_defaults(id)
                .map_err(|refusal| HostError::Session {
                    session: id.clone(),
                    reason: refusal.text(),
                })?;
        }
        let state = Arc::new(HostState {
            sessions: Mutex::new(store),
            calls: Mutex::new(VecDeque::new()),
        });

        let listener = tokio::net::TcpListener::bind(self.bind)
            .await
            .map_err(|source| HostError::Bind {
                address: self.bind,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| HostError::Bind {
            address: self.bind,
            source,
        })?;
        let service = BridgeServiceServer::new(HostService {
            state: state.clone(),
        })
        .max_decoding_message_size(self.max_message_size)
        .max_encoding_message_size(self.max_message_size);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(
            tonic::transport::Server::builder()
                .tcp_nodelay(true)
                .add_service(service)
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = stopped.await;
                }),
        );
        tracing::debug!(%address, "embedded snakepit host listening");
        Ok(EmbeddedHost {
            address,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running embedded host. Dropping it stops the server.
#[derive(Debug)]
pub struct EmbeddedHost {
    address: SocketAddr,
    state: Arc<HostState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState").finish_non_exhaustive()
    }
}

impl EmbeddedHost {
    /// Starts building a host.
    pub fn builder() -> EmbeddedHostBuilder {
        EmbeddedHostBuilder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tools: Vec::new(),
            sessions: Vec::new(),
            expose_in_new_sessions: true,
            max_sessions: 10_000,
            session_ttl: Duration::from_secs(3600),
            max_message_size: usize::MAX,
        }
    }

    /// The address the host listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address as `host:port`, the form snakepit hands to workers.
    pub fn grpc_address(&self) -> String {
        self.address.to_string()
    }

    /// Creates the session `id` with the host's tools (no-op if it exists).
    pub fn create_session(&self, id: &str) -> Result<(), HostError> {
        self.state
            .sessions()
            .initialize_with_defaults(id)
            .map(|_| ())
            .map_err(|refusal| HostError::Session {
                session: id.to_owned(),
                reason: refusal.text(),
            })
    }

    /// Exposes `tool` in the session `id` (created if needed), replacing a tool of that name.
    pub fn expose(&self, id: &str, tool: ElixirTool) -> Result<(), HostError> {
        snakepit_bridge_spec::validate_tool_name(tool.name()).map_err(|reason| {
            HostError::InvalidToolName {
                name: tool.name().to_owned(),
                reason,
            }
        })?;
        let mut sessions = self.state.sessions();
        let session = sessions
            .initialize(id, HashMap::new(), Some(&[]))
            .map_err(|refusal| HostError::Session {
                session: id.to_owned(),
                reason: refusal.text(),
            })?;
        session.elixir_tools.insert(tool.name().to_owned(), tool);
        Ok(())
    }

    /// Stops exposing the tool `name` in session `id`; whether it was exposed.
    pub fn remove_tool(&self, id: &str, name: &str) -> bool {
        self.state
            .sessions()
            .touch(id)
            .is_some_and(|session| session.elixir_tools.remove(name).is_some())
    }

    /// Whether the session `id` exists (and has not expired).
    pub fn has_session(&self, id: &str) -> bool {
        self.state.sessions().touch(id).is_some()
    }

    /// The most recent `ExecuteElixirTool` requests (up to 1,024), oldest first.
    pub fn recorded_calls(&self) -> Vec<RecordedCall> {
        self.state
            .calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Stops accepting calls, lets calls in flight finish, and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops the server at once, dropping connections and calls in flight, as if the host
    /// process were killed.
    pub fn abort(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for EmbeddedHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
