//! An embedded snakepit host, for tests, examples and local development.
//!
//! A real gRPC server over TCP that serves the host side of `BridgeService` as a snakepit v0.13
//! host does: sessions (idempotent `InitializeSession`, expiry, quota), per-session exposed
//! tools with parameter specs, Rust closures standing in for Elixir functions, and snakepit's
//! exact error texts. It is not a mock of the client: the client cannot tell it from a real host.
//! The workspace's `tests/host_conformance.rs` holds it to a real snakepit v0.13.0 host, request
//! by request and byte for byte, and lists where it deliberately differs (integers wider than
//! 64 bits in parameters; the key order of maps of more than 32 keys). Beyond snakepit, it can
//! expose its tools in sessions that `InitializeSession` creates (the default; see
//! [`EmbeddedHostBuilder::expose_in_new_sessions`]).
//!
//! ```
//! # mod snakepit_bridge { pub use snakepit_bridge_runtime::*; pub mod testkit { pub use snakepit_bridge_testkit::{host, launcher}; } }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use serde_json::json;
//! use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
//! use snakepit_bridge::SessionContext;
//!
//! let host = EmbeddedHost::builder().tools(demo_tools()).session("demo").start().await?;
//! let ctx = SessionContext::connect(host.grpc_address(), "demo").await?;
//! let fib = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 5})).await?;
//! assert_eq!(fib["sequence"], json!([0, 1, 1, 2, 3]));
//! host.shutdown().await;
//! # Ok(()) }
//! ```

mod demo;
mod elixir_terms;
mod service;
mod sessions;
mod tool;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

pub use demo::demo_tools;
pub use tool::{ElixirTool, ElixirToolOutput, IntoElixirToolOutput, ToolParams};

use service::{HostService, HostState};
use sessions::SessionStore;
use snakepit_bridge_runtime::proto::bridge_service_server::BridgeServiceServer;

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
    /// The TLS certificate, key or client CA could not be used.
    #[error("the embedded host cannot serve TLS: {0}")]
    Tls(String),
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
#[non_exhaustive]
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

/// A tool a worker registered with the host.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RegisteredTool {
    /// The `worker_id` of the `RegisterTools` request.
    pub worker_id: String,
    /// The tool as the host stores it (with `supports_streaming` in its metadata).
    pub tool: snakepit_bridge_spec::HostTool,
}

/// Options of an [`EmbeddedHost`]; start one with [`EmbeddedHost::builder`].
#[must_use = "a builder does nothing until `start` is called"]
pub struct EmbeddedHostBuilder {
    bind: SocketAddr,
    tls: Option<HostTls>,
    client_ca_pem: Option<Vec<u8>>,
    bearer_token: Option<String>,
    required_metadata: Vec<(String, String)>,
    tools: Vec<ElixirTool>,
    sessions: Vec<(String, HashMap<String, String>)>,
    expose_in_new_sessions: bool,
    keep_tools_of_ended_sessions: bool,
    max_sessions: usize,
    session_ttl: Duration,
    max_message_size: usize,
    max_concurrent_streams: u32,
}

/// The host's TLS identity and, for mutual TLS, the CA its clients' certificates must chain to.
struct HostTls {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

/// Prints no token and no key material.
impl std::fmt::Debug for EmbeddedHostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedHostBuilder")
            .field("bind", &self.bind)
            .field("tls", &self.tls.is_some())
            .field("requires_token", &self.bearer_token.is_some())
            .field(
                "required_metadata_keys",
                &self
                    .required_metadata
                    .iter()
                    .map(|(key, _)| key.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("tools", &self.tools)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl EmbeddedHostBuilder {
    /// Serves TLS with this certificate chain and private key (PEM).
    pub fn tls(mut self, cert_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        self.tls = Some(HostTls {
            cert_pem: cert_pem.as_ref().to_vec(),
            key_pem: key_pem.as_ref().to_vec(),
        });
        self
    }

    /// Requires clients to present a certificate signed by this CA (mutual TLS); needs
    /// [`tls`](Self::tls), before or after this call: without it, `start` fails.
    pub fn client_ca_pem(mut self, ca_pem: impl AsRef<[u8]>) -> Self {
        // Kept apart from the identity, so that the order of the two calls does not matter.
        self.client_ca_pem = Some(ca_pem.as_ref().to_vec());
        self
    }

    /// Refuses every call without `authorization: Bearer <token>` (status `Unauthenticated`).
    pub fn require_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Refuses every call without the gRPC metadata entry `key: value` (status
    /// `Unauthenticated`), as a host behind a gateway that checks a header does; each call adds
    /// one entry that every call must carry. For tests that a client sends its metadata with
    /// every RPC.
    pub fn require_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.required_metadata.push((key.into(), value.into()));
        self
    }

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
        self.sessions.push((id.into(), HashMap::new()));
        self
    }

    /// A session that exists from the start, with the tools and `metadata` (what `GetSession`
    /// answers), as an Elixir application creates one with `SessionStore.create_session(id,
    /// metadata: ...)`.
    pub fn session_with_metadata<K: Into<String>, V: Into<String>>(
        mut self,
        id: impl Into<String>,
        metadata: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let metadata = metadata
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        self.sessions.push((id.into(), metadata));
        self
    }

    /// Whether sessions created through `InitializeSession` get the tools (default: yes).
    pub fn expose_in_new_sessions(mut self, expose: bool) -> Self {
        self.expose_in_new_sessions = expose;
        self
    }

    /// Whether a removed or expired session's tools stay listed for its id and come back when
    /// a session is created again under it (default: yes, as in snakepit v0.13.0, whose
    /// ToolRegistry outlives the session: `lib/snakepit/bridge/session_store.ex`). With
    /// `false` they are dropped with the session, so a host that sees many sessions holds
    /// only the live ones (e.g. to measure a worker's memory with the host in its process).
    pub fn keep_tools_of_ended_sessions(mut self, keep: bool) -> Self {
        self.keep_tools_of_ended_sessions = keep;
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

    /// The most calls in flight on one connection (default 1,000), advertised to clients in
    /// HTTP/2 SETTINGS so that they queue the rest. Without a limit, a burst of thousands of
    /// calls trips h2's flood protection, which closes the connection.
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_concurrent_streams = streams;
        self
    }

    /// Binds the socket and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<EmbeddedHost, HostError> {
        self.check()?;
        let sessions = initial_sessions(
            self.tools,
            self.sessions,
            SessionRules {
                expose_in_new_sessions: self.expose_in_new_sessions,
                max_sessions: self.max_sessions,
                session_ttl: self.session_ttl,
                keep_tools_of_ended_sessions: self.keep_tools_of_ended_sessions,
            },
        )?;
        let state = Arc::new(HostState {
            sessions: Mutex::new(sessions),
            calls: Mutex::new(VecDeque::new()),
            requests: Mutex::new(BTreeMap::new()),
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
        let expected = self.bearer_token.map(|token| format!("Bearer {token}"));
        let required = self.required_metadata;
        let service = InterceptedService::new(service, move |request: tonic::Request<()>| {
            check_bearer_token(expected.as_deref(), &request)?;
            check_required_metadata(&required, &request)?;
            Ok(request)
        });
        let server =
            tonic::transport::Server::builder().max_concurrent_streams(self.max_concurrent_streams);
        let mut server = with_tls(server, self.tls, self.client_ca_pem)?;
        let (stop, stopped) = oneshot::channel::<()>();
        // Nagle off on every accepted socket: with it, each small answer waits ~40 ms for the
        // client's delayed ACK. (The builder's `tcp_nodelay` only reaches sockets that tonic
        // accepts itself.)
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let task = tokio::spawn(server.add_service(service).serve_with_incoming_shutdown(
            incoming,
            async {
                let _ = stopped.await;
            },
        ));
        tracing::debug!(%address, "embedded snakepit host listening");
        Ok(EmbeddedHost {
            address,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Options that cannot work together, and tool names a host would refuse.
    fn check(&self) -> Result<(), HostError> {
        if self.client_ca_pem.is_some() && self.tls.is_none() {
            // Mutual TLS without TLS would silently serve plaintext to anyone.
            return Err(HostError::Tls(
                "client_ca_pem (mutual TLS) needs tls(cert, key) too; add it, or drop client_ca_pem"
                    .to_owned(),
            ));
        }
        for tool in &self.tools {
            snakepit_bridge_spec::validate_tool_name(tool.name()).map_err(|reason| {
                HostError::InvalidToolName {
                    name: tool.name().to_owned(),
                    reason,
                }
            })?;
        }
        Ok(())
    }
}

/// How the host's session store treats sessions.
struct SessionRules {
    expose_in_new_sessions: bool,
    max_sessions: usize,
    session_ttl: Duration,
    keep_tools_of_ended_sessions: bool,
}

/// The session store the host starts with: the tools, and the sessions opened in advance.
fn initial_sessions(
    tools: Vec<ElixirTool>,
    sessions: Vec<(String, HashMap<String, String>)>,
    rules: SessionRules,
) -> Result<SessionStore, HostError> {
    let mut store = SessionStore::new(
        tools,
        rules.expose_in_new_sessions,
        rules.max_sessions,
        rules.session_ttl,
    );
    store.keep_tools_of_ended_sessions = rules.keep_tools_of_ended_sessions;
    for (id, metadata) in sessions {
        store
            .initialize_with_defaults(&id, metadata)
            .map_err(|refusal| HostError::Session {
                session: id.clone(),
                reason: refusal.text(),
            })?;
    }
    Ok(store)
}

/// The server with TLS when the options ask for it (and client certificates checked against
/// `client_ca_pem` when given).
fn with_tls(
    server: tonic::transport::Server,
    tls: Option<HostTls>,
    client_ca_pem: Option<Vec<u8>>,
) -> Result<tonic::transport::Server, HostError> {
    let Some(tls) = tls else {
        return Ok(server);
    };
    let mut config = ServerTlsConfig::new().identity(Identity::from_pem(tls.cert_pem, tls.key_pem));
    if let Some(ca) = client_ca_pem {
        config = config.client_ca_root(Certificate::from_pem(ca));
    }
    server
        .tls_config(config)
        .map_err(|error| HostError::Tls(error.to_string()))
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
            tls: None,
            client_ca_pem: None,
            bearer_token: None,
            required_metadata: Vec::new(),
            tools: Vec::new(),
            sessions: Vec::new(),
            expose_in_new_sessions: true,
            keep_tools_of_ended_sessions: true,
            max_sessions: 10_000,
            session_ttl: Duration::from_secs(3600),
            max_message_size: usize::MAX,
            max_concurrent_streams: 1000,
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
            .initialize_with_defaults(id, HashMap::new())
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

    /// The tools workers registered in session `id` (`RegisterTools`), sorted by name, each with
    /// the `worker_id` it was registered under.
    pub fn worker_tools(&self, id: &str) -> Vec<RegisteredTool> {
        self.state
            .sessions()
            .touch(id)
            .map(|session| {
                session
                    .worker_tools
                    .values()
                    .map(|tool| RegisteredTool {
                        worker_id: session
                            .worker_ids
                            .get(&tool.name)
                            .cloned()
                            .unwrap_or_default(),
                        tool: tool.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
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

    /// How many requests of the RPC `rpc` (its name in the proto: `GetExposedElixirTools`,
    /// `ExecuteElixirTool`, `Ping`, ...) the host has received, whatever their outcome.
    pub fn requests(&self, rpc: &str) -> u64 {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(rpc)
            .copied()
            .unwrap_or(0)
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

/// `Ok` when no token is required or the request carries it.
fn check_bearer_token(
    expected: Option<&str>,
    request: &tonic::Request<()>,
) -> Result<(), tonic::Status> {
    let Some(expected) = expected else {
        return Ok(());
    };
    if carries(request, "authorization", expected) {
        Ok(())
    } else {
        Err(tonic::Status::unauthenticated(
            "missing or invalid bearer token",
        ))
    }
}

/// `Ok` when the request carries every entry of `required`.
fn check_required_metadata(
    required: &[(String, String)],
    request: &tonic::Request<()>,
) -> Result<(), tonic::Status> {
    match required
        .iter()
        .find(|(key, value)| !carries(request, key, value))
    {
        None => Ok(()),
        Some((key, _)) => Err(tonic::Status::unauthenticated(format!(
            "missing or invalid metadata `{key}`"
        ))),
    }
}

/// Whether the request's metadata `key` is `expected`.
fn carries(request: &tonic::Request<()>, key: &str, expected: &str) -> bool {
    let given = request
        .metadata()
        .get(key)
        .and_then(|value| value.to_str().ok());
    // Compared in full whatever the first difference, so timing does not reveal the value.
    given.is_some_and(|given| {
        given.len() == expected.len()
            && given
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

impl Drop for EmbeddedHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
