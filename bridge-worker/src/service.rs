//! The worker's side of `BridgeService`: what the host calls on a worker (snakepit v0.13.0's
//! `lib/snakepit/grpc_worker.ex`), answered as snakepit's Python worker answers it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
use snakepit_bridge_runtime::support::{correlation_id_of, panic_message, timestamp_now};
use snakepit_bridge_runtime::{json_any, proto, Error};
use tokio::sync::mpsc;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use crate::call::ToolCall;
use crate::heartbeat::{Heartbeats, StopSwitch};
use crate::host_link::{host_reason, HostLink};
use crate::output::{Answer, Invocation, Outcome};
use crate::stream::ChunkStream;
use crate::telemetry::{CallTelemetry, TelemetryBatches, TelemetryHub};
use crate::toolset::{registration_request, ToolSet};
use crate::ToolError;

/// How long forwarding `InitializeSession` and registering tools may take: the host blocks the
/// worker's GenServer on `InitializeSession`, so it must be answered promptly.
const HOST_CALL_LIMIT: Duration = Duration::from_secs(5);

/// Chunks waiting to be sent before a streaming tool is made to wait (Python's queue bound).
pub(crate) const CHUNK_BACKLOG: usize = 100;

pub(crate) struct WorkerService<T> {
    pub(crate) tools: Arc<T>,
    pub(crate) link: Arc<HostLink>,
    pub(crate) heartbeats: Arc<Heartbeats>,
    pub(crate) worker_id: Arc<str>,
    pub(crate) stop: StopSwitch,
    pub(crate) telemetry: Arc<TelemetryHub>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl<T: ToolSet> WorkerService<T> {
    /// Registers the tools in `session` (the host needs the session to exist: after
    /// `InitializeSession`). A `duplicate_tool` answer means they already are. Called through
    /// the session's mark ([`HostLink::begin_call`], [`HostLink::pin`]), so once per session.
    async fn register(&self, session: &str) -> Result<(), String> {
        if !self.link.is_connected() || session.is_empty() {
            return Ok(());
        }
        let registered = async {
            let Some(ctx) = self.link.held_session(session) else {
                // Released meanwhile (CleanupSession): nothing to register for.
                return Ok(());
            };
            let request = registration_request::<T>(session, &self.worker_id);
            let answer = ctx
                .rpc()
                .timeout(HOST_CALL_LIMIT)
                .register_tools(request)
                .await
                .map_err(|error| match error {
                    Error::Timeout { .. } => format!("no answer within {HOST_CALL_LIMIT:?}"),
                    error => host_reason(error),
                })?;
            if answer.success
                || answer
                    .error_message
                    .contains(snakepit_bridge_spec::DUPLICATE_TOOL_ERROR)
            {
                Ok(())
            } else {
                Err(answer.error_message)
            }
        }
        .await;
        match &registered {
            Ok(()) => tracing::debug!(session, "tools registered with the host"),
            Err(reason) => {
                tracing::warn!(session, %reason, "the host refused the tool registration; it is tried again on the next call")
            }
        }
        registered
    }

    /// Opens `session` on the host, then registers the tools there.
    async fn open_session(&self, session: &str) -> Result<(), String> {
        if let Err(reason) = self.link.open_on_host(session, HOST_CALL_LIMIT).await {
            tracing::warn!(session, %reason, "could not open the session on the host; it is tried again on the next call");
            return Err(reason);
        }
        self.register(session).await
    }

    /// Runs one call: decodes it and runs the tool (see [`run_invocation`]) inside the call's
    /// span, with its deadline; in a session not open on the host yet, it opens it there and
    /// registers the tools first. The [`CallRecord`] reports the end of the call (span,
    /// telemetry, the session's use) when the answer is known.
    async fn run(&self, request: Request<proto::ExecuteToolRequest>) -> (CallRecord, Outcome) {
        let correlation_id = correlation_id_of(&request.get_ref().metadata, request.metadata());
        // tonic enforces `grpc-timeout` on a unary answer; the tool sees it, and its calls
        // back into Elixir are bounded by it.
        let deadline = request
            .metadata()
            .get(snakepit_bridge_spec::GRPC_TIMEOUT_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(snakepit_bridge_spec::parse_grpc_timeout)
            .map(|limit| tokio::time::Instant::now() + limit);
        let request = request.into_inner();
        let session = request.session_id.clone();
        if let Some(opened) = self.link.begin_call(&session) {
            // A session not open on the host yet (no InitializeSession): opened there and the
            // tools registered before the tool runs, as snakepit's Python worker does, so that
            // the tool can call back into Elixir. A failure is logged; the call goes on.
            let _ = opened.get_or_try_init(|| self.open_session(&session)).await;
            self.heartbeats.ensure(&session);
        }
        let mut call = ToolCall::new(request, correlation_id, self.link.clone());
        let context = call.context_mut();
        context.set_deadline(deadline);
        context.set_telemetry(self.telemetry.clone());
        let mut record = CallRecord::start(
            call.tool_name(),
            session,
            call.context().correlation_id(),
            self.link.clone(),
            &self.telemetry,
        );
        record.deadline = deadline;
        let tool = record.tool.clone();
        let outcome = match self.tools.invoke(call) {
            Ok(invocation) => {
                run_invocation(&tool, invocation)
                    .instrument(record.span.clone())
                    .await
            }
            Err(error) => Err(error),
        };
        (record, outcome)
    }
}

/// One call under way, as the worker reports it: a `tool_call` span (tool, session,
/// correlation id, then duration and outcome; never a parameter value, so that
/// `SNAKEPIT_LOG_LEVEL=debug` shows what Python's `[corr=...]` lines show), the
/// `tool.execution.*` telemetry events, and the session's use.
pub(crate) struct CallRecord {
    tool: String,
    session: String,
    span: tracing::Span,
    started: Instant,
    deadline: Option<tokio::time::Instant>,
    telemetry: Option<CallTelemetry>,
    link: Arc<HostLink>,
}

impl CallRecord {
    fn start(
        tool: &str,
        session: String,
        correlation_id: Option<&str>,
        link: Arc<HostLink>,
        telemetry: &Arc<TelemetryHub>,
    ) -> CallRecord {
        let span = tracing::debug_span!(
            "tool_call",
            tool = %tool,
            session = %session,
            correlation_id = correlation_id.unwrap_or(""),
            duration_ms = tracing::field::Empty,
            outcome = tracing::field::Empty,
            error_type = tracing::field::Empty,
        );
        CallRecord {
            tool: tool.to_owned(),
            session,
            span,
            started: Instant::now(),
            deadline: None,
            telemetry: telemetry.start_call(tool, correlation_id),
            link,
        }
    }

    fn record(&self, outcome: &str) {
        let duration_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        self.span.record("duration_ms", duration_ms);
        self.span.record("outcome", outcome);
        tracing::debug!(parent: &self.span, "call finished");
    }

    /// The call answered; `size` is the result's size (`None` for a stream).
    fn succeeded(mut self, size: Option<usize>) {
        self.record("ok");
        if let Some(telemetry) = self.telemetry.take() {
            telemetry.succeeded(size);
        }
    }

    /// The call failed with `error`.
    fn failed(mut self, error: &ToolError) {
        self.span.record("error_type", error.type_name());
        self.record("error");
        if let Some(telemetry) = self.telemetry.take() {
            telemetry.failed(error.type_name(), error.message());
        }
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.link.end_call(&self.session);
    }
}

/// Cloned for background work (a registration); no `T: Clone` needed, as a derive would ask.
impl<T> Clone for WorkerService<T> {
    fn clone(&self) -> Self {
        WorkerService {
            tools: self.tools.clone(),
            link: self.link.clone(),
            heartbeats: self.heartbeats.clone(),
            worker_id: self.worker_id.clone(),
            stop: self.stop.clone(),
            telemetry: self.telemetry.clone(),
        }
    }
}

/// Runs one call of `tools` as the worker runs it (a task of its own, a panic caught), without a
/// network: for unit tests of a worker's tools.
///
/// Its answer reads as JSON with [`Answer::json`] (a stream's chunks with
/// [`Answer::chunks_json`]):
///
/// ```
/// use serde_json::json;
/// use snakepit_bridge::worker::{run_tool, ToolCall, ToolError};
/// use snakepit_bridge::worker_tools;
///
/// struct Adder;
///
/// #[worker_tools]
/// impl Adder {
///     /// Adds two numbers.
///     pub fn add(&self, a: f64, b: f64) -> Result<f64, ToolError> {
///         Ok(a + b)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let tools = std::sync::Arc::new(Adder);
/// let call = ToolCall::for_test("add", json!({"a": 1, "b": 2}), []);
/// let answer = run_tool(&tools, call).await.unwrap();
/// assert_eq!(answer.json().unwrap(), json!(3.0));
/// # }
/// ```
pub async fn run_tool<T: ToolSet>(
    tools: &Arc<T>,
    call: ToolCall,
) -> Result<crate::Answer, ToolError> {
    let tool = call.tool_name().to_owned();
    run_invocation(&tool, tools.invoke(call)?).await
}

/// Runs the tool and waits for its outcome.
///
/// An `async` tool is polled right here, inside the call's own task (the server runs each call
/// as a task of its own), so it costs no extra task or cross-thread wake-up; a panic while it is
/// polled is caught and becomes the call's failure, and dropping the call (a deadline, a gone
/// caller) drops the tool. A plain `fn` tool runs on a blocking thread, so that it never holds
/// up a runtime thread, and with it heartbeats and other calls.
async fn run_invocation(tool: &str, invocation: Invocation) -> Outcome {
    match invocation {
        Invocation::Async(mut future) => {
            std::future::poll_fn(move |cx| {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    future.as_mut().poll(cx)
                })) {
                    Ok(poll) => poll,
                    Err(payload) => {
                        std::task::Poll::Ready(Err(panic_failure(tool, payload.as_ref())))
                    }
                }
            })
            .await
        }
        Invocation::Blocking(work) => {
            // The call's span follows the tool onto its thread, for the tool's own logs.
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || span.in_scope(work))
                .await
                .unwrap_or_else(|error| Err(join_failure(tool, error)))
        }
    }
}

fn panic_failure(tool: &str, payload: &(dyn std::any::Any + Send)) -> ToolError {
    ToolError::runtime_error(format!(
        "tool `{tool}` panicked: {}",
        panic_message(payload)
    ))
    .with_stack_line(format!("panic in tool `{tool}`"))
}

fn join_failure(tool: &str, error: tokio::task::JoinError) -> ToolError {
    match error.try_into_panic() {
        Ok(payload) => panic_failure(tool, payload.as_ref()),
        Err(_) => ToolError::runtime_error(format!("tool `{tool}` was cancelled")),
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

#[tonic::async_trait]
impl<T: ToolSet> BridgeService for WorkerService<T> {
    async fn ping(
        &self,
        request: Request<proto::PingRequest>,
    ) -> Result<Response<proto::PingResponse>, Status> {
        Ok(Response::new(proto::PingResponse {
            message: format!("Pong from Rust: {}", request.into_inner().message),
            server_time: timestamp_now(),
        }))
    }

    async fn initialize_session(
        &self,
        request: Request<proto::InitializeSessionRequest>,
    ) -> Result<Response<proto::InitializeSessionResponse>, Status> {
        let request = request.into_inner();
        let session = request.session_id.clone();
        if !self.link.is_connected() {
            return Ok(Response::new(proto::InitializeSessionResponse {
                success: true,
                ..Default::default()
            }));
        }
        // Forwarded to the host, which creates the session (RegisterTools needs it).
        let forwarded = match self.link.session(&session) {
            Ok(ctx) => {
                match ctx
                    .rpc()
                    .timeout(HOST_CALL_LIMIT)
                    .initialize_session(request)
                    .await
                {
                    Ok(answer) => answer,
                    Err(Error::Timeout { .. }) => proto::InitializeSessionResponse {
                        success: false,
                        error_message: format!(
                            "the host did not answer within {HOST_CALL_LIMIT:?}"
                        ),
                        ..Default::default()
                    },
                    Err(error) => proto::InitializeSessionResponse {
                        success: false,
                        error_message: host_reason(error),
                        ..Default::default()
                    },
                }
            }
            Err(error) => proto::InitializeSessionResponse {
                success: false,
                error_message: error.to_string(),
                ..Default::default()
            },
        };
        if forwarded.success {
            let _ = self
                .link
                .pin(&session)
                .get_or_try_init(|| self.register(&session))
                .await;
        } else {
            tracing::warn!(session = %session, reason = %forwarded.error_message, "the host refused InitializeSession");
        }
        self.heartbeats.ensure(&session);
        Ok(Response::new(forwarded))
    }

    async fn heartbeat(
        &self,
        _request: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatResponse>, Status> {
        // At once, whatever runs: one slow heartbeat and the host kills the worker.
        Ok(Response::new(proto::HeartbeatResponse {
            server_time: timestamp_now(),
            session_valid: true,
        }))
    }

    async fn execute_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<proto::ExecuteToolResponse>, Status> {
        let started = Instant::now();
        let (record, outcome) = self.run(request).await;
        let failure = |record: CallRecord, error: ToolError| {
            tracing::info!(parent: &record.span, error = %error, "tool call failed");
            let response = proto::ExecuteToolResponse {
                success: false,
                error_message: error.to_error_message(&record.tool, &record.session),
                execution_time_ms: elapsed_ms(started),
                ..Default::default()
            };
            record.failed(&error);
            response
        };
        let response = match outcome {
            Ok(Answer::Unary(output)) => {
                record.succeeded(Some(output.json.len() + output.binary.len()));
                proto::ExecuteToolResponse {
                    success: true,
                    result: Some(json_any(output.json)),
                    error_message: String::new(),
                    metadata: Default::default(),
                    execution_time_ms: elapsed_ms(started),
                    binary_result: output.binary,
                }
            }
            Ok(Answer::Stream(_)) => {
                let error = ToolError::type_error(format!(
                    "tool `{}` streams its answer; call it with ExecuteStreamingTool (Snakepit.execute_stream/4)",
                    record.tool
                ));
                failure(record, error)
            }
            Err(error) => failure(record, error),
        };
        Ok(Response::new(response))
    }

    type ExecuteStreamingToolStream = BoxStream<proto::ToolChunk>;

    async fn execute_streaming_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<Self::ExecuteStreamingToolStream>, Status> {
        // tonic enforces `grpc-timeout` until the response starts; a stream's deadline also
        // covers its chunks, so it is enforced here.
        let (record, outcome) = self.run(request).await;
        let deadline = record.deadline;
        let (tool, session) = (record.tool.clone(), record.session.clone());
        let chunks: ChunkStream = match outcome {
            Ok(Answer::Stream(stream)) => stream,
            // A unary tool called as a stream answers one final chunk, which carries JSON only
            // (`ToolChunk` has no binary field): a binary result is refused, not dropped.
            Ok(Answer::Unary(output)) if !output.binary.is_empty() => {
                let error = ToolError::type_error(format!(
                    "tool `{tool}` answered {} bytes of binary data, which a stream chunk cannot \
                     carry; call it with ExecuteTool (Snakepit.execute/3)",
                    output.binary.len()
                ));
                let status = Status::internal(error.to_error_message(&tool, &session));
                record.failed(&error);
                return Err(status);
            }
            Ok(Answer::Unary(output)) => Box::pin(tokio_stream::once(Ok(crate::StreamChunk {
                data: output.json,
                is_final: true,
                metadata: Default::default(),
            }))),
            Err(error) => {
                let status = Status::internal(error.to_error_message(&tool, &session));
                record.failed(&error);
                return Err(status);
            }
        };
        let (sender, receiver) = mpsc::channel(CHUNK_BACKLOG);
        let producer = tokio::spawn(send_chunks(record, chunks, sender.clone(), deadline));
        // A panic while producing chunks fails the stream instead of ending it quietly.
        tokio::spawn(async move {
            if let Err(error) = producer.await {
                let error = join_failure(&tool, error);
                let _ = sender
                    .send(Err(Status::internal(
                        error.to_error_message(&tool, &session),
                    )))
                    .await;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }

    async fn register_tools(
        &self,
        _request: Request<proto::RegisterToolsRequest>,
    ) -> Result<Response<proto::RegisterToolsResponse>, Status> {
        Err(not_served("RegisterTools"))
    }

    async fn get_exposed_elixir_tools(
        &self,
        _request: Request<proto::GetExposedElixirToolsRequest>,
    ) -> Result<Response<proto::GetExposedElixirToolsResponse>, Status> {
        Err(not_served("GetExposedElixirTools"))
    }

    async fn execute_elixir_tool(
        &self,
        _request: Request<proto::ExecuteElixirToolRequest>,
    ) -> Result<Response<proto::ExecuteElixirToolResponse>, Status> {
        Err(not_served("ExecuteElixirTool"))
    }

    async fn cleanup_session(
        &self,
        request: Request<proto::CleanupSessionRequest>,
    ) -> Result<Response<proto::CleanupSessionResponse>, Status> {
        // What the worker holds for the session goes (its context, its heartbeats, its
        // registration mark); then the request goes on to the host, as snakepit's Python worker
        // proxies it (grpc_server.py CleanupSession), whose answer is returned.
        let request = request.into_inner();
        let released = self.link.release(&request.session_id);
        let local = proto::CleanupSessionResponse {
            success: true,
            resources_cleaned: i32::try_from(released).unwrap_or(i32::MAX),
        };
        let Some(base) = self.link.base() else {
            return Ok(Response::new(local));
        };
        let session = request.session_id.clone();
        match base
            .rpc()
            .timeout(HOST_CALL_LIMIT)
            .cleanup_session(request)
            .await
        {
            Ok(mut answer) => {
                answer.resources_cleaned = answer
                    .resources_cleaned
                    .saturating_add(local.resources_cleaned);
                Ok(Response::new(answer))
            }
            Err(Error::Timeout { .. }) => {
                tracing::warn!(session = %session, "the host did not answer CleanupSession within {HOST_CALL_LIMIT:?}; the worker released its own resources");
                Ok(Response::new(local))
            }
            Err(error) => {
                let reason = host_reason(error);
                tracing::warn!(session = %session, %reason, "the host refused CleanupSession; the worker released its own resources");
                Ok(Response::new(local))
            }
        }
    }

    async fn get_session(
        &self,
        _request: Request<proto::GetSessionRequest>,
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        Err(not_served("GetSession"))
    }

    type StreamTelemetryStream = BoxStream<proto::TelemetryEvent>;

    async fn stream_telemetry(
        &self,
        request: Request<Streaming<proto::TelemetryControl>>,
    ) -> Result<Response<Self::StreamTelemetryStream>, Status> {
        // Events flow while the host keeps the stream, and it ends when the worker stops (or it
        // would hold up the graceful shutdown). The host's first control (`toggle`, as
        // lib/snakepit/telemetry/grpc_stream.ex initiate_stream/2 sends it at once) is applied
        // before the stream is answered, so that a stream that is open has its first control
        // in force; the wait is bounded, since the host may send nothing.
        let mut controls = request.into_inner();
        let events = self.telemetry.subscribe();
        if let Ok(Some(Ok(control))) =
            tokio::time::timeout(FIRST_CONTROL_WAIT, controls.next()).await
        {
            self.telemetry.apply(&control);
        }
        let hub = self.telemetry.clone();
        let stop = self.stop.clone();
        let (ended, end) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let controls = async {
                while let Some(Ok(control)) = controls.next().await {
                    hub.apply(&control);
                }
            };
            tokio::select! {
                () = controls => {}
                _ = stop.stopped() => {}
            }
            drop(ended);
        });
        Ok(Response::new(Box::pin(
            TelemetryBatches::new(events, end, self.telemetry.clone()).map(Ok),
        )))
    }
}

/// How long a new telemetry stream waits for the host's first control before it is answered.
const FIRST_CONTROL_WAIT: Duration = Duration::from_secs(1);

fn not_served(rpc: &str) -> Status {
    Status::unimplemented(format!(
        "{rpc} is served by the snakepit host, not by a worker; call it on the host's address (--elixir-address)"
    ))
}

/// Sends the tool's chunks as `ToolChunk`s (`<tool>-<n>` ids from 1), ending with a final chunk
/// if the tool marked none, as snakepit's Python worker does; stops if the caller is gone.
async fn send_chunks(
    record: CallRecord,
    mut chunks: ChunkStream,
    sender: mpsc::Sender<Result<proto::ToolChunk, Status>>,
    deadline: Option<tokio::time::Instant>,
) {
    let tool = record.tool.clone();
    let mut number = 0u64;
    let mut sent_final = false;
    let expired = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    loop {
        let next = tokio::select! {
            next = chunks.next() => next,
            // The caller went away: neither success nor failure to report.
            () = sender.closed() => return,
            () = &mut expired => {
                let error = ToolError::new(
                    "TimeoutError",
                    format!("tool `{tool}` did not finish its stream within the caller's deadline"),
                );
                let _ = sender
                    .send(Err(Status::deadline_exceeded(error.message())))
                    .await;
                record.failed(&error);
                return;
            }
        };
        let Some(item) = next else { break };
        match item {
            Ok(chunk) => {
                number += 1;
                sent_final |= chunk.is_final;
                let message = proto::ToolChunk {
                    chunk_id: format!("{tool}-{number}"),
                    data: chunk.data,
                    is_final: chunk.is_final,
                    metadata: chunk.metadata,
                };
                if sender.send(Ok(message)).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                let status = Status::internal(error.to_error_message(&tool, &record.session));
                let _ = sender.send(Err(status)).await;
                record.failed(&error);
                return;
            }
        }
    }
    if !sent_final {
        number += 1;
        let _ = sender
            .send(Ok(proto::ToolChunk {
                chunk_id: format!("{tool}-{number}"),
                data: Vec::new(),
                is_final: true,
                metadata: Default::default(),
            }))
            .await;
    }
    record.succeeded(None);
}
