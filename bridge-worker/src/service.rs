//! The worker's side of `BridgeService`: what the host calls on a worker (worker-protocol.md
//! section 3), answered as snakepit's Python worker answers it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
use snakepit_bridge_runtime::{json_any, proto, CORRELATION_HEADER};
use tokio::sync::mpsc;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::call::ToolCall;
use crate::error::panic_message;
use crate::heartbeat::{Heartbeats, StopSwitch};
use crate::host_link::HostLink;
use crate::output::{Answer, Invocation, Outcome};
use crate::stream::ChunkStream;
use crate::toolset::{registration_request, ToolSet};
use crate::ToolError;

/// How long forwarding `InitializeSession` and registering tools may take: the host blocks the
/// worker's GenServer on `InitializeSession`, so it must be answered promptly.
const HOST_CALL_LIMIT: Duration = Duration::from_secs(5);

/// Chunks waiting to be sent before a streaming tool is made to wait (Python's queue bound).
const CHUNK_BACKLOG: usize = 100;

pub(crate) struct WorkerService<T> {
    pub(crate) tools: Arc<T>,
    pub(crate) link: Arc<HostLink>,
    pub(crate) heartbeats: Arc<Heartbeats>,
    pub(crate) worker_id: Arc<str>,
    pub(crate) stop: StopSwitch,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl<T: ToolSet> WorkerService<T> {
    /// Registers the tools in `session` once (the host needs the session to exist: after
    /// `InitializeSession`). A `duplicate_tool` answer means they already are.
    async fn register(&self, session: &str) {
        if !self.link.is_connected() || session.is_empty() || !self.link.claim_registration(session)
        {
            return;
        }
        let registered = async {
            let mut client = self
                .link
                .session(session)
                .map_err(|e| e.to_string())?
                .raw_client();
            let request = registration_request::<T>(session, &self.worker_id);
            let answer = tokio::time::timeout(HOST_CALL_LIMIT, client.register_tools(request))
                .await
                .map_err(|_| format!("no answer within {HOST_CALL_LIMIT:?}"))?
                .map_err(|status| status.message().to_owned())?
                .into_inner();
            if answer.success || answer.error_message.contains("duplicate_tool") {
                Ok(())
            } else {
                Err(answer.error_message)
            }
        }
        .await;
        match registered {
            Ok(()) => tracing::debug!(session, "tools registered with the host"),
            Err(reason) => {
                tracing::warn!(session, %reason, "the host refused the tool registration; it is tried again on the next call");
                self.link.release_registration(session);
            }
        }
    }

    /// Runs one call: decodes it and runs the tool (see [`run_invocation`]), registering the
    /// tools first in the background for a session seen here for the first time.
    async fn run(&self, request: Request<proto::ExecuteToolRequest>) -> (String, String, Outcome) {
        let header = request
            .metadata()
            .get(CORRELATION_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let request = request.into_inner();
        let session = request.session_id.clone();
        if self.link.is_connected() && !self.link.is_claimed(&session) {
            // A session first seen here (no InitializeSession): register in the background,
            // as snakepit's Python worker does on a first call, without holding up the call.
            let service = self.clone();
            let session = session.clone();
            tokio::spawn(async move {
                service.register(&session).await;
                service.heartbeats.ensure(&session);
            });
        }
        let call = ToolCall::new(request, header, self.link.clone());
        let tool = call.tool_name().to_owned();
        let outcome = match self.tools.invoke(call) {
            Ok(invocation) => run_invocation(&tool, invocation).await,
            Err(error) => Err(error),
        };
        (tool, session, outcome)
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
        }
    }
}

/// Runs one call of `tools` as the worker runs it (a task of its own, a panic caught), without a
/// network: for unit tests of a worker's tools.
///
/// ```ignore
/// let tools = std::sync::Arc::new(MyTools);
/// let call = ToolCall::for_test("add", serde_json::json!({"a": 1, "b": 2}), []);
/// let outcome = snakepit_bridge::worker::run_tool(&tools, call).await;
/// ```
pub async fn run_tool<T: ToolSet>(tools: &Arc<T>, call: ToolCall) -> Outcome {
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
        Invocation::Blocking(work) => tokio::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|error| Err(join_failure(tool, error))),
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

fn now() -> Option<prost_types::Timestamp> {
    Some(SystemTime::now().into())
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
            server_time: now(),
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
                let mut client = ctx.raw_client();
                match tokio::time::timeout(HOST_CALL_LIMIT, client.initialize_session(request))
                    .await
                {
                    Ok(Ok(answer)) => answer.into_inner(),
                    Ok(Err(status)) => proto::InitializeSessionResponse {
                        success: false,
                        error_message: status.message().to_owned(),
                        ..Default::default()
                    },
                    Err(_) => proto::InitializeSessionResponse {
                        success: false,
                        error_message: format!(
                            "the host did not answer within {HOST_CALL_LIMIT:?}"
                        ),
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
            self.register(&session).await;
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
            server_time: now(),
            session_valid: true,
        }))
    }

    async fn execute_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<proto::ExecuteToolResponse>, Status> {
        let started = Instant::now();
        let (tool, session, outcome) = self.run(request).await;
        let failure = |error: ToolError| proto::ExecuteToolResponse {
            success: false,
            error_message: error.to_error_message(&tool, &session),
            execution_time_ms: elapsed_ms(started),
            ..Default::default()
        };
        let response = match outcome {
            Ok(Answer::Value(output)) => proto::ExecuteToolResponse {
                success: true,
                result: Some(json_any(output.json)),
                error_message: String::new(),
                metadata: Default::default(),
                execution_time_ms: elapsed_ms(started),
                binary_result: output.binary,
            },
            Ok(Answer::Stream(_)) => failure(ToolError::type_error(format!(
                "tool `{tool}` streams its answer; call it with ExecuteStreamingTool (Snakepit.execute_stream/4)"
            ))),
            Err(error) => {
                tracing::info!(tool = %tool, error = %error, "tool call failed");
                failure(error)
            }
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
        let deadline = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(snakepit_bridge_spec::parse_grpc_timeout)
            .map(|limit| tokio::time::Instant::now() + limit);
        let (tool, session, outcome) = self.run(request).await;
        let chunks: ChunkStream = match outcome {
            Ok(Answer::Stream(stream)) => stream,
            // A unary tool called as a stream answers one final chunk.
            Ok(Answer::Value(output)) => Box::pin(tokio_stream::once(Ok(crate::StreamChunk {
                data: output.json,
                is_final: true,
                metadata: Default::default(),
            }))),
            Err(error) => {
                return Err(Status::internal(error.to_error_message(&tool, &session)));
            }
        };
        let (sender, receiver) = mpsc::channel(CHUNK_BACKLOG);
        let producer = tokio::spawn(send_chunks(
            tool.clone(),
            session.clone(),
            chunks,
            sender.clone(),
            deadline,
        ));
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
        _request: Request<proto::CleanupSessionRequest>,
    ) -> Result<Response<proto::CleanupSessionResponse>, Status> {
        Ok(Response::new(proto::CleanupSessionResponse {
            success: true,
            resources_cleaned: 0,
        }))
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
        // The stream is accepted and held open while the host keeps it, and closed when the
        // worker stops (or it would hold up the graceful shutdown). The worker sends no events:
        // they are optional, and the host drops unknown ones anyway.
        let mut controls = request.into_inner();
        let (sender, receiver) = mpsc::channel::<Result<proto::TelemetryEvent, Status>>(1);
        let stop = self.stop.clone();
        tokio::spawn(async move {
            let held_open = async { while let Some(Ok(_control)) = controls.next().await {} };
            tokio::select! {
                () = held_open => {}
                _ = stop.stopped() => {}
            }
            drop(sender);
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}

fn not_served(rpc: &str) -> Status {
    Status::unimplemented(format!(
        "{rpc} is served by the snakepit host, not by a worker; call it on the host's address (--elixir-address)"
    ))
}

/// Sends the tool's chunks as `ToolChunk`s (`<tool>-<n>` ids from 1), ending with a final chunk
/// if the tool marked none, as snakepit's Python worker does; stops if the caller is gone.
async fn send_chunks(
    tool: String,
    session: String,
    mut chunks: ChunkStream,
    sender: mpsc::Sender<Result<proto::ToolChunk, Status>>,
    deadline: Option<tokio::time::Instant>,
) {
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
            () = sender.closed() => return,
            () = &mut expired => {
                let _ = sender
                    .send(Err(Status::deadline_exceeded(format!(
                        "tool `{tool}` did not finish its stream within the caller's deadline"
                    ))))
                    .await;
                return;
            }
        };
        let Some(item) = next else { break };
        let message = match item {
            Ok(chunk) => {
                number += 1;
                sent_final |= chunk.is_final;
                Ok(proto::ToolChunk {
                    chunk_id: format!("{tool}-{number}"),
                    data: chunk.data,
                    is_final: chunk.is_final,
                    metadata: chunk.metadata,
                })
            }
            Err(error) => Err(Status::internal(error.to_error_message(&tool, &session))),
        };
        let failed = message.is_err();
        if sender.send(message).await.is_err() || failed {
            return;
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
}
