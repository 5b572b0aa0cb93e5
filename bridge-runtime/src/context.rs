//! The async session context: one connection to the host, shared by every clone.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use snakepit_bridge_spec::{closest_name, validate_tool_name};
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::address::endpoint_uri;
use crate::codec::{Parameters, ToolResponse};
use crate::declaration::{check_declared, DeclaredTools};
use crate::error::{append_sources, explain_transport};
use crate::options::{correlation_value, SessionContextBuilder, CORRELATION_HEADER};
use crate::proto;
use crate::proto::bridge_service_client::BridgeServiceClient;
use crate::rpc::HostRpc;
use crate::tool_list::{tools_by_name, ElixirTools, ToolCache};
use crate::Error;

/// A worker's session with a snakepit host: lists the Elixir tools exposed to the session and
/// calls them.
///
/// Cloning is cheap: clones share one HTTP/2 connection and one tool-list cache, so many tasks
/// can call concurrently.
///
/// ```no_run
/// # extern crate snakepit_bridge_runtime as snakepit_bridge;
/// # async fn run() -> Result<(), snakepit_bridge::Error> {
/// use serde_json::json;
/// use snakepit_bridge::SessionContext;
///
/// let ctx = SessionContext::connect("localhost:50051", "session-1").await?;
/// let tools = ctx.elixir_tools().await?;
/// println!("available: {:?}", tools.keys().collect::<Vec<_>>());
/// let result = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 10})).await?;
/// println!("{result}");
/// ctx.cleanup().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SessionContext {
    shared: Arc<Shared>,
    /// Per-clone override of the builder's correlation id.
    correlation_id: Option<AsciiMetadataValue>,
}

struct Shared {
    client: BridgeServiceClient<Channel>,
    address: String,
    session_id: String,
    call_timeout: Duration,
    max_message_size: usize,
    propagate_deadline: bool,
    check_parameters: bool,
    metadata: MetadataMap,
    tools: ToolCache,
    /// Shared by the contexts of one connection (it and its `for_session`s): its one timer
    /// task runs while any of them lives (see [`keep_timer_driver_scheduled`]).
    timer: Arc<TimerKeeper>,
}

/// What a connection's timer task watches: it ends once no context holds it.
struct TimerKeeper;

/// What the host knows of a session (`GetSession`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub session_id: String,
    /// The metadata the session was initialized with.
    pub metadata: HashMap<String, String>,
    /// When the host created the session, if it said.
    pub created_at: Option<SystemTime>,
    /// How many tools the session has.
    pub tool_count: i32,
}

impl std::fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionContext")
            .field("address", &self.shared.address)
            .field("session_id", &self.shared.session_id)
            .finish_non_exhaustive()
    }
}

impl SessionContext {
    /// Connects to the host at `address` (`host:port`, as snakepit passes it, or an `http://`
    /// URI) for the session `session_id`, with default options.
    pub async fn connect(
        address: impl Into<String>,
        session_id: impl Into<String>,
    ) -> Result<Self, Error> {
        Self::builder(address, session_id).connect().await
    }

    /// Starts a [`SessionContextBuilder`] to set timeouts, limits and metadata.
    pub fn builder(
        address: impl Into<String>,
        session_id: impl Into<String>,
    ) -> SessionContextBuilder {
        SessionContextBuilder::new(address, session_id)
    }

    pub(crate) async fn from_builder(options: SessionContextBuilder) -> Result<Self, Error> {
        let metadata = options.metadata_map()?;
        let uri = endpoint_uri(&options.address, options.tls.is_some())?;
        let connect_error = |reason: String| Error::Connect {
            address: options.address.clone(),
            reason,
        };
        let mut endpoint = Endpoint::from(uri.clone())
            .connect_timeout(options.connect_timeout)
            .tcp_nodelay(true);
        // An `https://` address uses TLS with default options too.
        if options.tls.is_some() || uri.scheme_str() == Some("https") {
            let tls = options.tls.clone().unwrap_or_default();
            endpoint = tls.apply(endpoint, &options.address)?;
        }
        // The connect timeout bounds the whole connection: TCP, then an answer over HTTP/2.
        let started = Instant::now();
        let channel = tokio::time::timeout(options.connect_timeout, endpoint.connect())
            .await
            .map_err(|_| {
                connect_error(format!(
                    "no answer within the connect timeout of {:?}",
                    options.connect_timeout
                ))
            })?
            .map_err(|error| {
                connect_error(explain_transport(crate::support::error_chain(&error)))
            })?;
        let client = BridgeServiceClient::new(channel)
            .max_decoding_message_size(options.max_message_size)
            .max_encoding_message_size(options.max_message_size);
        let remaining = options.connect_timeout.saturating_sub(started.elapsed());
        probe_grpc(
            client.clone(),
            &metadata,
            remaining,
            options.connect_timeout,
        )
        .await
        .map_err(connect_error)?;
        tracing::debug!(address = %options.address, session = %options.session_id, "connected to the snakepit host");
        let shared = Arc::new(Shared {
            client,
            address: options.address,
            session_id: options.session_id,
            call_timeout: options.call_timeout,
            max_message_size: options.max_message_size,
            propagate_deadline: options.propagate_deadline,
            check_parameters: options.check_parameters,
            metadata,
            tools: ToolCache::default(),
            timer: keep_timer_driver_scheduled(options.call_timeout),
        });
        Ok(SessionContext {
            shared,
            correlation_id: None,
        })
    }

    /// The session this context works in.
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }

    /// The host address as given.
    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// A clone that sends `id` as its correlation id (`x-snakepit-correlation-id`), sharing the
    /// connection and tool cache.
    pub fn with_correlation_id(&self, id: &str) -> Result<Self, Error> {
        Ok(SessionContext {
            shared: self.shared.clone(),
            correlation_id: Some(correlation_value(id)?),
        })
    }

    /// A context for another session on the same host, sharing this one's connection and
    /// options (not its tool cache: each session has its own tools).
    ///
    /// A worker uses it to call back into the session of the request it is serving.
    pub fn for_session(&self, session_id: impl Into<String>) -> Self {
        let shared = Arc::new(Shared {
            client: self.shared.client.clone(),
            address: self.shared.address.clone(),
            session_id: session_id.into(),
            call_timeout: self.shared.call_timeout,
            max_message_size: self.shared.max_message_size,
            propagate_deadline: self.shared.propagate_deadline,
            check_parameters: self.shared.check_parameters,
            metadata: self.shared.metadata.clone(),
            tools: ToolCache::default(),
            // The connection's timer task serves this session's calls too: a worker holding
            // 10,000 sessions runs one, not one per session.
            timer: self.shared.timer.clone(),
        });
        SessionContext {
            shared,
            correlation_id: self.correlation_id.clone(),
        }
    }

    /// The protocol's own RPCs (`RegisterTools`, `InitializeSession`, `CleanupSession`,
    /// `Heartbeat`) with their messages as they are, sent with this context's options like
    /// every other call: see [`HostRpc`].
    pub fn rpc(&self) -> HostRpc<'_> {
        HostRpc::new(self, self.shared.call_timeout)
    }

    /// The generated gRPC client on this context's connection: the escape hatch, without the
    /// options.
    ///
    /// Its calls carry only the message size limit: none of the builder's metadata (no bearer
    /// token, no correlation id), and no deadline, so a host that checks a token refuses them.
    /// Prefer the methods of the context and of [`rpc`](Self::rpc), which send every RPC the
    /// host serves with the options; set the headers on each `tonic::Request` yourself if you
    /// use this.
    pub fn raw_client(&self) -> BridgeServiceClient<Channel> {
        self.shared.client.clone()
    }

    /// The tools the host exposes to this session, keyed by name.
    ///
    /// Fetched on first use and cached; concurrent first uses share one fetch. A call of a tool
    /// that is not in the cached list fetches it once more before it fails with
    /// [`Error::ToolNotFound`], so a tool registered later is found; use
    /// [`refresh_elixir_tools`](Self::refresh_elixir_tools) to pick up other changes.
    pub async fn elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.shared.tools.get_or_fetch(|| self.fetch_tools()).await
    }

    /// Fetches the tool list again and replaces the cached one.
    pub async fn refresh_elixir_tools(&self) -> Result<Arc<ElixirTools>, Error> {
        self.shared.tools.refresh(|| self.fetch_tools()).await
    }

    async fn fetch_tools(&self) -> Result<ElixirTools, Error> {
        let request = proto::GetExposedElixirToolsRequest {
            session_id: self.shared.session_id.clone(),
        };
        let response = self
            .unary(
                "the `GetExposedElixirTools` call",
                request,
                |mut client, request| async move { client.get_exposed_elixir_tools(request).await },
            )
            .await?;
        Ok(tools_by_name(response.tools))
    }

    /// Calls the tool `tool` with `params` (any `Serialize` value that serializes to a JSON
    /// object, such as `serde_json::json!({"n": 10})` or a struct) and returns its JSON result.
    pub async fn call_elixir_tool<P>(&self, tool: &str, params: P) -> Result<Value, Error>
    where
        P: Serialize,
    {
        self.call_elixir_tool_raw(tool, params).await?.value()
    }

    /// Calls the tool `tool` and decodes its result as `R`.
    pub async fn call_elixir_tool_as<R, P>(&self, tool: &str, params: &P) -> Result<R, Error>
    where
        R: DeserializeOwned,
        P: Serialize + ?Sized,
    {
        self.call_elixir_tool_raw(tool, params).await?.decode()
    }

    /// Calls the tool `tool` and returns the host's whole answer: the JSON result, binary data,
    /// metadata and execution time.
    pub async fn call_elixir_tool_raw<P>(
        &self,
        tool: &str,
        params: P,
    ) -> Result<ToolResponse, Error>
    where
        P: Serialize,
    {
        let parameters = Parameters::from_serialize(&params).map_err(|e| e.for_tool(tool))?;
        self.call_with_parameters(tool, parameters).await
    }

    /// Calls the tool `tool` with parameters already encoded.
    ///
    /// The tool name is checked against snakepit's rule and against the session's tool list
    /// before anything is sent.
    pub async fn call_with_parameters(
        &self,
        tool: &str,
        parameters: Parameters,
    ) -> Result<ToolResponse, Error> {
        validate_tool_name(tool).map_err(|reason| Error::InvalidToolName {
            name: tool.to_owned(),
            reason,
        })?;
        let mut tools = self.elixir_tools().await?;
        if !tools.contains_key(tool) {
            // The host may have registered the tool since the list was fetched (snakepit's
            // ToolRegistry takes registrations at any time): look once more in a fresh list.
            tools = self
                .shared
                .tools
                .refresh_after(&tools, || self.fetch_tools())
                .await?;
        }
        let Some(host_tool) = tools.get(tool) else {
            return Err(Error::ToolNotFound {
                tool: tool.to_owned(),
                session: self.shared.session_id.clone(),
                available: tools.keys().cloned().collect(),
                suggestion: closest_name(tool, tools.keys().map(String::as_str)).map(str::to_owned),
            });
        };
        if self.shared.check_parameters {
            check_parameter_names(host_tool, &parameters)?;
        }
        let span = tracing::info_span!(
            "call_elixir_tool",
            tool = %tool,
            session = %self.shared.session_id,
            duration_ms = tracing::field::Empty,
            success = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = self
            .execute(tool, parameters)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
        span.record("success", outcome.is_ok());
        outcome
    }

    async fn execute(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        let request = proto::ExecuteElixirToolRequest {
            session_id: self.shared.session_id.clone(),
            tool_name: tool.to_owned(),
            parameters: parameters.into_wire(),
            metadata: HashMap::new(),
        };
        let operation = format!("the call of tool `{tool}`");
        let response = self
            .unary(operation, request, |mut client, request| async move {
                client.execute_elixir_tool(request).await
            })
            .await?;
        ToolResponse::from_proto(tool, response)
    }

    /// Checks the tools `D` declares (the `{Trait}Declaration` of an `#[elixir_tools]` trait)
    /// against the host's tool list: `Err(Error::Mismatch)` lists every missing tool, missing
    /// required parameter, unknown parameter and incompatible type, so a worker can fail fast at
    /// start-up.
    pub async fn verify<D: DeclaredTools>(&self) -> Result<(), Error> {
        let host = self.elixir_tools().await?;
        check_declared(D::TRAIT_NAME, &D::tools(), &host)
    }

    /// Creates the session on the host, or returns it as it is if it exists (`InitializeSession`
    /// is idempotent). Returns the tools the host lists in its answer.
    pub async fn initialize_session<I, K, V>(&self, metadata: I) -> Result<ElixirTools, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let request = proto::InitializeSessionRequest {
            session_id: self.shared.session_id.clone(),
            metadata: metadata
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
            config: None,
        };
        let response = self.rpc().initialize_session(request).await?;
        if !response.success {
            return Err(Error::Session {
                session: self.shared.session_id.clone(),
                message: response.error_message,
            });
        }
        Ok(tools_by_name(response.available_tools.into_values()))
    }

    /// What the host knows of this session (`GetSession`); an unknown session is a `NotFound`
    /// status.
    pub async fn get_session(&self) -> Result<SessionInfo, Error> {
        let request = proto::GetSessionRequest {
            session_id: self.shared.session_id.clone(),
        };
        let response = self
            .unary(
                "the `GetSession` call",
                request,
                |mut client, request| async move { client.get_session(request).await },
            )
            .await?;
        Ok(SessionInfo {
            session_id: response.session_id,
            metadata: response.metadata,
            created_at: response
                .created_at
                .and_then(|t| SystemTime::try_from(t).ok()),
            tool_count: response.tool_count,
        })
    }

    /// Sends `Ping` with `message` and returns the host's reply (`pong: <message>`).
    pub async fn ping(&self, message: &str) -> Result<String, Error> {
        let request = proto::PingRequest {
            message: message.to_owned(),
        };
        let response = self
            .unary(
                "the `Ping` call",
                request,
                |mut client, request| async move { client.ping(request).await },
            )
            .await?;
        Ok(response.message)
    }

    /// Sends `Heartbeat`, which keeps the session alive; returns whether the host still knows
    /// the session.
    pub async fn heartbeat(&self) -> Result<bool, Error> {
        let request = proto::HeartbeatRequest {
            session_id: self.shared.session_id.clone(),
            client_time: crate::support::timestamp_now(),
        };
        let response = self.rpc().heartbeat(request).await?;
        Ok(response.session_valid)
    }

    /// Asks the host to clean up the session (`CleanupSession`). Best effort, like snakepit's
    /// own client: the host always answers success; only transport errors come back.
    pub async fn cleanup(&self) -> Result<(), Error> {
        let request = proto::CleanupSessionRequest {
            session_id: self.shared.session_id.clone(),
            force: false,
        };
        self.rpc().cleanup_session(request).await?;
        Ok(())
    }

    /// One unary RPC within the call timeout (see [`unary_within`](Self::unary_within)).
    async fn unary<Req, Resp, F, Fut>(
        &self,
        operation: impl Into<String>,
        message: Req,
        send: F,
    ) -> Result<Resp, Error>
    where
        Req: prost::Message,
        F: FnOnce(BridgeServiceClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        self.unary_within(operation, self.shared.call_timeout, message, send)
            .await
    }

    /// One unary RPC within `limit`: the one place that applies the builder's options to a
    /// request (the size limit, the metadata with the token and the correlation id, the
    /// deadline), and maps errors for `operation`. Every RPC to the host goes through it.
    pub(crate) async fn unary_within<Req, Resp, F, Fut>(
        &self,
        operation: impl Into<String>,
        limit: Duration,
        message: Req,
        send: F,
    ) -> Result<Resp, Error>
    where
        Req: prost::Message,
        F: FnOnce(BridgeServiceClient<Channel>, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        // Checked here, because tonic reports an oversized request only as a broken stream.
        let size = message.encoded_len();
        if size > self.shared.max_message_size {
            return Err(Error::MessageTooLarge {
                operation: operation.into(),
                detail: format!(
                    "the request is {size} bytes, over the limit of {} bytes",
                    self.shared.max_message_size
                ),
            });
        }
        let mut request = Request::new(message);
        *request.metadata_mut() = self.shared.metadata.clone();
        if let Some(id) = &self.correlation_id {
            request
                .metadata_mut()
                .insert(CORRELATION_HEADER, id.clone());
        }
        // The deadline is always enforced here; the host hears of it only if asked, since it
        // then arms a timer of its own for every call.
        if self.shared.propagate_deadline {
            request.set_timeout(limit);
        }
        match tokio::time::timeout(limit, send(self.shared.client.clone(), request)).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) if is_deadline(&status) => Err(Error::Timeout {
                operation: operation.into(),
                limit,
            }),
            Ok(Err(status)) => Err(Error::from_status(operation, status)),
            Err(_) => Err(Error::Timeout {
                operation: operation.into(),
                limit,
            }),
        }
    }
}

/// The first problem of a call's parameter names against the tool's declared parameters, by
/// the crate's one comparison (`snakepit_bridge_spec::check_call`).
fn check_parameter_names(
    tool: &snakepit_bridge_spec::HostTool,
    parameters: &Parameters,
) -> Result<(), Error> {
    use snakepit_bridge_spec::{check_call, did_you_mean, CallProblem};
    let passed: Vec<&str> = parameters.names().collect();
    let Some(problem) = check_call(tool, &passed).into_iter().next() else {
        return Ok(());
    };
    let declared = || {
        let names: Vec<String> = tool
            .parameters
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        if names.is_empty() {
            "it declares none".to_owned()
        } else {
            format!("it declares {}", names.join(", "))
        }
    };
    let (parameter, reason) = match problem {
        CallProblem::Unknown {
            parameter,
            suggestion,
        } => (
            parameter,
            format!(
                "is not a parameter of the tool ({}){}; \
                 or turn the check off with `check_parameters(false)` on the builder",
                declared(),
                did_you_mean(suggestion.as_deref())
            ),
        ),
        CallProblem::Missing { parameter } => (
            parameter,
            "is required by the tool and was not passed; pass it, or turn the check off with \
             `check_parameters(false)` on the builder"
                .to_owned(),
        ),
    };
    Err(Error::InvalidParameters {
        tool: tool.name.clone(),
        parameter: Some(parameter),
        reason,
    })
}

/// Checks that the peer answers as a gRPC server within `limit`: a TCP connection alone says
/// nothing (HTTP/2 sends requests before the server's first word), and a peer that accepts but
/// never answers would otherwise hold every first call for its whole call timeout.
///
/// Any gRPC answer counts, a refusal included (a missing token is the call's error to report).
async fn probe_grpc(
    mut client: BridgeServiceClient<Channel>,
    metadata: &MetadataMap,
    limit: Duration,
    connect_timeout: Duration,
) -> Result<(), String> {
    let mut request = Request::new(proto::PingRequest {
        message: "connect".to_owned(),
    });
    *request.metadata_mut() = metadata.clone();
    match tokio::time::timeout(limit, client.ping(request)).await {
        Err(_) => Err(format!(
            "the peer accepted the connection but did not answer as a gRPC server within the \
             connect timeout ({connect_timeout:?}); is this the port of a snakepit host?"
        )),
        Ok(Ok(_)) => Ok(()),
        // No gRPC answer at all: the connection broke or the peer is not an HTTP/2 server.
        Ok(Err(status))
            if status.code() == tonic::Code::Unavailable
                || status.code() == tonic::Code::Unknown
                    && std::error::Error::source(&status).is_some() =>
        {
            let mut text = status.message().to_owned();
            append_sources(&mut text, std::error::Error::source(&status));
            Err(explain_transport(format!(
                "the peer did not answer as a gRPC server ({text}); is this the port of a snakepit host?"
            )))
        }
        Ok(Err(_)) => Ok(()),
    }
}

/// Keeps a timer pending that is due before any call's deadline, for as long as a context of
/// the connection lives (the keeper returned, which the connection's contexts share).
///
/// Each call arms a deadline timer. tokio wakes its timer driver (a cross-thread wake-up)
/// whenever a new timer is due before every pending one; with no other timer pending, that is
/// every call, about 15 µs each on a two-core machine (measured in benches/bridge.rs). A tick
/// due sooner than any deadline spares the calls that wake-up; it costs one wake-up per period.
/// The contexts of a connection share its call timeout, so one task serves them all.
fn keep_timer_driver_scheduled(call_timeout: Duration) -> Arc<TimerKeeper> {
    let keeper = Arc::new(TimerKeeper);
    let period = (call_timeout / 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
    // Outside a runtime there is no driver to spare.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return keeper;
    };
    let watched = Arc::downgrade(&keeper);
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while watched.strong_count() > 0 {
            tick.tick().await;
        }
    });
    keeper
}

/// Whether the status reports the deadline we sent: `DeadlineExceeded`, or `Cancelled` with
/// "Timeout expired" from a tonic server that enforces `grpc-timeout` itself.
fn is_deadline(status: &Status) -> bool {
    match status.code() {
        tonic::Code::DeadlineExceeded => true,
        tonic::Code::Cancelled => status.message() == "Timeout expired",
        _ => false,
    }
}
