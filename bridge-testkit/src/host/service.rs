//! The host side of `BridgeService`, answering as a snakepit v0.13 host does.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::elixir_terms::{inspect_string, jason_check, jason_encode};
use super::sessions::SessionStore;
use super::tool::{ElixirToolOutput, ToolParams};
use super::RecordedCall;
use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
use snakepit_bridge_runtime::support::{correlation_id_of, panic_message};
use snakepit_bridge_runtime::{json_any, JSON_TYPE_URL};
use snakepit_bridge_spec::{decode_exact, ExactJsonError};

/// How many executed calls the host remembers for [`super::EmbeddedHost::recorded_calls`].
const RECORDED_CALLS: usize = 1024;

/// State shared by the service and the [`super::EmbeddedHost`] handle.
pub(crate) struct HostState {
    pub(crate) sessions: Mutex<SessionStore>,
    pub(crate) calls: Mutex<std::collections::VecDeque<RecordedCall>>,
    /// Requests received, by RPC name (`GetExposedElixirTools`, ...).
    pub(crate) requests: Mutex<BTreeMap<&'static str, u64>>,
}

impl HostState {
    pub(crate) fn sessions(&self) -> MutexGuard<'_, SessionStore> {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self, rpc: &'static str) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(rpc)
            .or_default() += 1;
    }

    fn record(&self, call: RecordedCall) {
        let mut calls = self
            .calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if calls.len() == RECORDED_CALLS {
            calls.pop_front();
        }
        calls.push_back(call);
    }
}

pub(crate) struct HostService {
    pub(crate) state: Arc<HostState>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A time as snakepit sends one: whole seconds (`%Timestamp{seconds: ..., nanos: 0}` in
/// `lib/snakepit/grpc/bridge_server.ex`).
fn whole_seconds(time: SystemTime) -> Option<prost_types::Timestamp> {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// `format_error/1` of a `{:invalid_tool_name, reason}` from snakepit's `ToolRegistry`
/// (`lib/snakepit/bridge/tool_registry.ex`, `validate_tool_name/1`), which BridgeServer
/// prints with `inspect/1`.
fn invalid_tool_name(error: &snakepit_bridge_spec::ToolNameError) -> String {
    use snakepit_bridge_spec::ToolNameError;
    let reason = match error {
        ToolNameError::Empty => "empty",
        ToolNameError::TooLong { .. } => "too_long",
        _ => "invalid_format",
    };
    format!("{{:invalid_tool_name, :{reason}}}")
}

/// `inspect/1` of `{:duplicate_tool, name}`.
fn duplicate_tool(name: &str) -> String {
    format!(
        "{{:{}, {}}}",
        snakepit_bridge_spec::DUPLICATE_TOOL_ERROR,
        inspect_string(name)
    )
}

/// What ExecuteTool's handler does with a tool of the session.
enum Found {
    /// An Elixir tool: run here.
    Local(super::tool::ElixirTool),
    /// A worker's tool, with its `worker_id` and whether it was registered as streaming.
    Remote { worker_id: String, streaming: bool },
}

/// The outcome of running a local tool, before it is put in the RPC's response type.
struct Ran {
    result: Vec<u8>,
    binary_result: prost::bytes::Bytes,
    elapsed_ms: i64,
}

fn tool_failure(message: impl Into<String>) -> proto::ExecuteElixirToolResponse {
    proto::ExecuteElixirToolResponse {
        success: false,
        error_message: message.into(),
        ..Default::default()
    }
}

/// JSON-decodes every parameter whatever its `type_url`, with the host's error texts.
///
/// Integers are exact, as the host's JSON library (Jason) keeps them: one wider than 64 bits,
/// which the `serde_json::Value` a tool closure receives cannot hold, fails the call naming it
/// (the rule of every side of the wire, [`decode_exact`]) instead of reaching the tool rounded.
fn decode_parameters(parameters: &HashMap<String, prost_types::Any>) -> Result<ToolParams, String> {
    let ordered: BTreeMap<_, _> = parameters.iter().collect();
    let mut decoded = ToolParams::new();
    for (key, any) in ordered {
        match decode_exact(&any.value) {
            Ok(value) => {
                decoded.insert(key.clone(), value);
            }
            Err(ExactJsonError::WideInteger(wide)) => {
                return Err(format!(
                    "Invalid parameter {key}: the integer {} at `{}` is wider than 64 bits; a \
                     snakepit host keeps it exact (an Elixir integer), but the embedded host's \
                     tools take parameters as serde_json values, which cannot hold it: send it \
                     as a string, or test this call against a real host",
                    wide.digits,
                    wide.path.under(key)
                ));
            }
            // In the words of the host's JSON library (Jason).
            Err(ExactJsonError::Json(_)) => {
                let message = jason_check(&any.value)
                    .err()
                    .map(|error| error.message())
                    .unwrap_or_else(|| "invalid JSON".to_owned());
                // `decode_any_value/1` matches the StringValue URL exactly; any other, an
                // empty one included, is named in the message.
                return Err(if any.type_url == JSON_TYPE_URL {
                    format!("Invalid parameter {key}: {}", inspect_string(&message))
                } else {
                    format!("Invalid parameter {key} ({}): {message}", any.type_url)
                });
            }
        }
    }
    Ok(decoded)
}

/// The result bytes and binary result of `output`, as `encode_tool_result/1` writes them.
fn encode_output(output: ElixirToolOutput) -> (Vec<u8>, prost::bytes::Bytes) {
    match output {
        // Written as the host's encoder (Jason) writes JSON: compact, keys sorted, Erlang floats.
        ElixirToolOutput::Json(value) => (jason_encode(&value).into_bytes(), Default::default()),
        ElixirToolOutput::Binary { data, info } => (jason_encode(&info).into_bytes(), data),
        ElixirToolOutput::Unencodable(text) | ElixirToolOutput::JsonText(text) => {
            (text.into_bytes(), Default::default())
        }
    }
}

#[cfg(test)]
fn success(output: ElixirToolOutput, elapsed_ms: i64) -> proto::ExecuteElixirToolResponse {
    let (result, binary_result) = encode_output(output);
    proto::ExecuteElixirToolResponse {
        result: Some(json_any(result)),
        binary_result,
        ..success_metadata(elapsed_ms)
    }
}

fn panic_text(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => panic_message(payload.as_ref()),
        Err(_) => "the tool was cancelled".to_owned(),
    }
}

fn ascii_headers(metadata: &tonic::metadata::MetadataMap) -> BTreeMap<String, String> {
    metadata
        .iter()
        .filter_map(|entry| match entry {
            tonic::metadata::KeyAndValueRef::Ascii(key, value) => {
                Some((key.to_string(), value.to_str().ok()?.to_owned()))
            }
            tonic::metadata::KeyAndValueRef::Binary(..) => None,
        })
        .collect()
}

impl HostService {
    /// The tool `name` of session `session`, or snakepit's text for why there is none.
    fn find(&self, session: &str, name: &str) -> Result<Found, String> {
        let mut sessions = self.state.sessions();
        let Some(found) = sessions.touch(session) else {
            return Err("not_found".to_owned());
        };
        if let Some(tool) = found.elixir_tools.get(name) {
            return Ok(Found::Local(tool.clone()));
        }
        match found.worker_tools.get(name) {
            Some(tool) => Ok(Found::Remote {
                worker_id: found.worker_ids.get(name).cloned().unwrap_or_default(),
                streaming: tool
                    .metadata
                    .get(snakepit_bridge_spec::SUPPORTS_STREAMING_METADATA_KEY)
                    .map(String::as_str)
                    == Some("true"),
            }),
            None => Err(format!("Tool {name} not found for session {session}")),
        }
    }
}

/// Milliseconds since `started`.
fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Runs a local tool on a task of its own, so a panicking tool becomes a failed call, not a
/// dropped connection; a failure in snakepit's words.
async fn run_local(tool: super::tool::ElixirTool, params: ToolParams) -> Result<Ran, String> {
    let started = Instant::now();
    let outcome = tokio::spawn(tool.run(params)).await;
    let elapsed_ms = elapsed_ms(started);
    match outcome {
        Ok(Ok(output)) => {
            let (result, binary_result) = encode_output(output);
            Ok(Ran {
                result,
                binary_result,
                elapsed_ms,
            })
        }
        Ok(Err(message)) => Err(format!("Tool execution failed: {message}")),
        Err(error) => Err(format!("Tool execution failed: {}", panic_text(error))),
    }
}

/// A successful ExecuteElixirTool answer without its result.
fn success_metadata(elapsed_ms: i64) -> proto::ExecuteElixirToolResponse {
    proto::ExecuteElixirToolResponse {
        success: true,
        result: None,
        error_message: String::new(),
        metadata: [("execution_time".to_owned(), elapsed_ms.to_string())].into(),
        execution_time_ms: elapsed_ms,
        binary_result: Default::default(),
    }
}

#[tonic::async_trait]
impl BridgeService for HostService {
    async fn ping(
        &self,
        request: Request<proto::PingRequest>,
    ) -> Result<Response<proto::PingResponse>, Status> {
        self.state.count("Ping");
        Ok(Response::new(proto::PingResponse {
            message: format!("pong: {}", request.into_inner().message),
            server_time: whole_seconds(SystemTime::now()),
        }))
    }

    async fn initialize_session(
        &self,
        request: Request<proto::InitializeSessionRequest>,
    ) -> Result<Response<proto::InitializeSessionResponse>, Status> {
        self.state.count("InitializeSession");
        let request = request.into_inner();
        let mut sessions = self.state.sessions();
        sessions
            .initialize(&request.session_id, request.metadata, None)
            .map_err(|refusal| Status::internal(refusal.text()))?;
        // snakepit answers `available_tools: %{}` whatever the session holds.
        Ok(Response::new(proto::InitializeSessionResponse {
            success: true,
            error_message: String::new(),
            available_tools: HashMap::new(),
        }))
    }

    async fn cleanup_session(
        &self,
        request: Request<proto::CleanupSessionRequest>,
    ) -> Result<Response<proto::CleanupSessionResponse>, Status> {
        self.state.count("CleanupSession");
        self.state
            .sessions()
            .remove(&request.into_inner().session_id);
        // snakepit answers `resources_cleaned: 1` whether the session existed or not.
        Ok(Response::new(proto::CleanupSessionResponse {
            success: true,
            resources_cleaned: 1,
        }))
    }

    async fn get_session(
        &self,
        request: Request<proto::GetSessionRequest>,
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        self.state.count("GetSession");
        let id = request.into_inner().session_id;
        let mut sessions = self.state.sessions();
        let session = sessions
            .touch(&id)
            .ok_or_else(|| Status::not_found(format!("Session not found: {id}")))?;
        Ok(Response::new(proto::GetSessionResponse {
            session_id: id.clone(),
            metadata: session.metadata.clone(),
            created_at: whole_seconds(session.created_at),
            // `map_size(Map.get(session, :tools, %{}))`: snakepit's Session struct has no
            // `tools` field (its tools live in the ToolRegistry), so this is always 0.
            tool_count: 0,
        }))
    }

    async fn heartbeat(
        &self,
        request: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatResponse>, Status> {
        self.state.count("Heartbeat");
        let valid = self
            .state
            .sessions()
            .touch(&request.into_inner().session_id)
            .is_some();
        Ok(Response::new(proto::HeartbeatResponse {
            server_time: whole_seconds(SystemTime::now()),
            session_valid: valid,
        }))
    }

    async fn execute_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<proto::ExecuteToolResponse>, Status> {
        self.state.count("ExecuteTool");
        let request = request.into_inner();
        let started = Instant::now();
        let failure = |message: String| {
            Ok(Response::new(proto::ExecuteToolResponse {
                success: false,
                error_message: message,
                execution_time_ms: elapsed_ms(started),
                ..Default::default()
            }))
        };
        let found = match self.find(&request.session_id, &request.tool_name) {
            Ok(found) => found,
            Err(message) => return failure(message),
        };
        match found {
            Found::Local(tool) => {
                let params = match decode_parameters(&request.parameters) {
                    Ok(params) => params,
                    Err(message) => return failure(message),
                };
                match run_local(tool, params).await {
                    Ok(ran) => Ok(Response::new(proto::ExecuteToolResponse {
                        success: true,
                        result: Some(json_any(ran.result)),
                        error_message: String::new(),
                        metadata: [
                            ("execution_time".to_owned(), ran.elapsed_ms.to_string()),
                            ("tool_type".to_owned(), "local".to_owned()),
                        ]
                        .into(),
                        execution_time_ms: ran.elapsed_ms,
                        binary_result: ran.binary_result,
                    })),
                    Err(message) => failure(message),
                }
            }
            // snakepit forwards a worker's tool to the worker through its pool; the embedded
            // host has no pool, so it answers as snakepit does for a worker it cannot find.
            Found::Remote { worker_id, .. } => match decode_parameters(&request.parameters) {
                Err(message) => failure(message),
                Ok(_) => failure(format!(
                    "Remote tool execution failed: Worker not found: {worker_id}"
                )),
            },
        }
    }

    type ExecuteStreamingToolStream = BoxStream<proto::ToolChunk>;

    async fn execute_streaming_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<Self::ExecuteStreamingToolStream>, Status> {
        self.state.count("ExecuteStreamingTool");
        let request = request.into_inner();
        let (session, name) = (&request.session_id, &request.tool_name);
        let found = match self.find(session, name) {
            Ok(found) => found,
            Err(_) if !self.state.sessions().contains(session) => {
                return Err(Status::not_found(format!("Session not found: {session}")))
            }
            Err(message) => return Err(Status::not_found(message)),
        };
        match found {
            Found::Remote {
                worker_id,
                streaming: true,
            } => match decode_parameters(&request.parameters) {
                Err(message) => Err(Status::invalid_argument(message)),
                // No pool here, as in `execute_tool`.
                Ok(_) => Err(Status::internal(format!("Worker not found: {worker_id}"))),
            },
            // Local tools never stream; a worker's only when registered so.
            _ => Err(Status::unimplemented(format!(
                "Streaming execution is not enabled for tool {name}. Enable streaming support \
                 on the adapter (supports_streaming: true) or use ExecuteTool instead."
            ))),
        }
    }

    async fn register_tools(
        &self,
        request: Request<proto::RegisterToolsRequest>,
    ) -> Result<Response<proto::RegisterToolsResponse>, Status> {
        self.state.count("RegisterTools");
        let request = request.into_inner();
        let refuse = |message: String| {
            Ok(Response::new(proto::RegisterToolsResponse {
                success: false,
                tool_ids: HashMap::new(),
                error_message: message,
            }))
        };
        let mut sessions = self.state.sessions();
        let Some(session) = sessions.touch(&request.session_id) else {
            return refuse("not_found".to_owned());
        };
        // As snakepit's ToolRegistry: every name is checked (and trimmed) first, in order, a
        // name twice in the batch included; then the batch is inserted, and a name the
        // session has already rolls all of it back.
        let mut batch = BTreeMap::new();
        for registration in &request.tools {
            let name = registration.name.trim();
            if let Err(reason) = snakepit_bridge_spec::validate_tool_name(name) {
                return refuse(invalid_tool_name(&reason));
            }
            if batch.contains_key(name) {
                return refuse(duplicate_tool(name));
            }
            // The host records whether the tool streams in its metadata, as snakepit does.
            let mut metadata = registration.metadata.clone();
            metadata.insert(
                snakepit_bridge_spec::SUPPORTS_STREAMING_METADATA_KEY.to_owned(),
                registration.supports_streaming.to_string(),
            );
            let spec = proto::ToolSpec {
                name: name.to_owned(),
                description: registration.description.clone(),
                parameters: registration.parameters.clone(),
                metadata,
                supports_streaming: registration.supports_streaming,
            };
            batch.insert(name.to_owned(), snakepit_bridge_spec::HostTool::from(spec));
        }
        let names_in_order = request.tools.iter().map(|r| r.name.trim());
        for name in names_in_order {
            if session.elixir_tools.contains_key(name) || session.worker_tools.contains_key(name) {
                return refuse(duplicate_tool(name));
            }
        }
        let tool_ids = batch
            .keys()
            .map(|name| (name.clone(), format!("{}:{name}", request.session_id)))
            .collect();
        for name in batch.keys() {
            session
                .worker_ids
                .insert(name.clone(), request.worker_id.clone());
        }
        session.worker_tools.extend(batch);
        Ok(Response::new(proto::RegisterToolsResponse {
            success: true,
            tool_ids,
            error_message: String::new(),
        }))
    }

    async fn get_exposed_elixir_tools(
        &self,
        request: Request<proto::GetExposedElixirToolsRequest>,
    ) -> Result<Response<proto::GetExposedElixirToolsResponse>, Status> {
        self.state.count("GetExposedElixirTools");
        // snakepit lists what its ToolRegistry holds for the id, without looking the session
        // up: an unknown session has no tools (an empty list, not an error), and a session
        // cleaned up or expired still has the Elixir tools it had.
        let tools = self
            .state
            .sessions()
            .exposed_tools(&request.into_inner().session_id)
            .iter()
            .map(|tool| proto::ToolSpec::from(tool.spec()))
            .collect();
        Ok(Response::new(proto::GetExposedElixirToolsResponse {
            tools,
        }))
    }

    async fn execute_elixir_tool(
        &self,
        request: Request<proto::ExecuteElixirToolRequest>,
    ) -> Result<Response<proto::ExecuteElixirToolResponse>, Status> {
        self.state.count("ExecuteElixirTool");
        let headers = ascii_headers(request.metadata());
        let correlation_id = correlation_id_of(&request.get_ref().metadata, request.metadata());
        let request = request.into_inner();
        self.state.record(RecordedCall {
            session_id: request.session_id.clone(),
            tool: request.tool_name.clone(),
            parameters: request.parameters.clone().into_iter().collect(),
            metadata: request.metadata.clone().into_iter().collect(),
            headers,
            correlation_id,
        });

        let (session_id, name) = (&request.session_id, &request.tool_name);
        let tool = {
            let mut sessions = self.state.sessions();
            let Some(session) = sessions.touch(session_id) else {
                return Ok(Response::new(tool_failure("not_found")));
            };
            match session.elixir_tools.get(name) {
                Some(tool) => tool.clone(),
                None if session.worker_tools.contains_key(name) => {
                    return Ok(Response::new(tool_failure(format!(
                        "Tool {name} is not an Elixir tool"
                    ))));
                }
                None => {
                    return Ok(Response::new(tool_failure(format!(
                        "Tool {name} not found for session {session_id}"
                    ))));
                }
            }
        };
        let params = match decode_parameters(&request.parameters) {
            Ok(params) => params,
            Err(message) => return Ok(Response::new(tool_failure(message))),
        };
        Ok(Response::new(match run_local(tool, params).await {
            Ok(ran) => proto::ExecuteElixirToolResponse {
                result: Some(json_any(ran.result)),
                binary_result: ran.binary_result,
                ..success_metadata(ran.elapsed_ms)
            },
            Err(message) => tool_failure(message),
        }))
    }

    type StreamTelemetryStream = BoxStream<proto::TelemetryEvent>;

    async fn stream_telemetry(
        &self,
        _request: Request<Streaming<proto::TelemetryControl>>,
    ) -> Result<Response<Self::StreamTelemetryStream>, Status> {
        self.state.count("StreamTelemetry");
        Err(Status::unimplemented(
            "the embedded host does not stream telemetry",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(type_url: &str, bytes: &[u8]) -> prost_types::Any {
        prost_types::Any {
            type_url: type_url.to_owned(),
            value: bytes.to_vec(),
        }
    }

    #[test]
    fn parameters_are_json_decoded_whatever_the_type_url() {
        let params: HashMap<_, _> = [
            ("a".to_owned(), any(JSON_TYPE_URL, b"[1,2]")),
            ("b".to_owned(), any("type.googleapis.com/other", b"\"x\"")),
        ]
        .into();
        let decoded = decode_parameters(&params).unwrap();
        assert_eq!(decoded["a"], serde_json::json!([1, 2]));
        assert_eq!(decoded["b"], serde_json::json!("x"));
    }

    #[test]
    fn invalid_json_gets_the_hosts_error_texts() {
        let string_value: HashMap<_, _> =
            [("s".to_owned(), any(JSON_TYPE_URL, b"\n\x05hello"))].into();
        let message = decode_parameters(&string_value).unwrap_err();
        assert!(message.starts_with("Invalid parameter s: \""), "{message}");
        assert!(message.ends_with('"'), "{message}");

        let other: HashMap<_, _> = [("s".to_owned(), any("type.example/X", b"nope"))].into();
        let message = decode_parameters(&other).unwrap_err();
        assert!(
            message.starts_with("Invalid parameter s (type.example/X): "),
            "{message}"
        );
    }

    #[test]
    fn a_wide_integer_parameter_is_refused_by_its_path_never_rounded() {
        let params: HashMap<_, _> = [(
            "list".to_owned(),
            any(JSON_TYPE_URL, b"[1,{\"n\":-1180591620717411303424}]"),
        )]
        .into();
        let message = decode_parameters(&params).unwrap_err();
        assert!(
            message.starts_with(
                "Invalid parameter list: the integer -1180591620717411303424 at `list[1].n` is \
                 wider than 64 bits; a snakepit host keeps it exact"
            ),
            "{message}"
        );
        // Up to 64 bits, exact as before.
        let params: HashMap<_, _> =
            [("n".to_owned(), any(JSON_TYPE_URL, b"18446744073709551615"))].into();
        assert_eq!(decode_parameters(&params).unwrap()["n"], u64::MAX);
    }

    #[test]
    fn a_parameter_that_is_not_json_gets_jasons_words() {
        let params: HashMap<_, _> = [("n".to_owned(), any(JSON_TYPE_URL, b"nope"))].into();
        assert_eq!(
            decode_parameters(&params).unwrap_err(),
            r#"Invalid parameter n: "unexpected byte at position 0: 0x6E (\"n\")""#
        );
    }

    #[test]
    fn success_reports_the_execution_time_as_snakepit_does() {
        let response = success(
            ElixirToolOutput::Json(serde_json::json!({"b": 1, "a": 2})),
            7,
        );
        assert!(response.success);
        assert_eq!(response.metadata["execution_time"], "7");
        assert_eq!(response.execution_time_ms, 7);
        // Compact JSON with sorted keys, as the host's encoder writes it.
        assert_eq!(response.result.unwrap().value, br#"{"a":2,"b":1}"#);
    }

    fn service() -> HostService {
        let mut store = SessionStore::new(
            super::super::demo_tools(),
            false,
            10,
            std::time::Duration::from_secs(60),
        );
        store.initialize_with_defaults("s", HashMap::new()).unwrap();
        HostService {
            state: Arc::new(HostState {
                sessions: Mutex::new(store),
                calls: Mutex::new(Default::default()),
                requests: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    fn worker_call(session: &str, tool: &str) -> Request<proto::ExecuteToolRequest> {
        Request::new(proto::ExecuteToolRequest {
            session_id: session.into(),
            tool_name: tool.into(),
            parameters: [("n".to_owned(), any(JSON_TYPE_URL, b"4"))].into(),
            ..Default::default()
        })
    }

    // What tests/host_conformance.rs found a real snakepit v0.13.0 host to answer.
    #[tokio::test]
    async fn execute_tool_runs_the_hosts_own_tools_as_snakepit_does() {
        let host = service();
        let ran = host
            .execute_tool(worker_call("s", "calculate_fibonacci"))
            .await
            .unwrap()
            .into_inner();
        assert!(ran.success, "{}", ran.error_message);
        assert_eq!(
            ran.result.unwrap().value,
            br#"{"n":4,"sequence":[0,1,1,2],"sum":4}"#
        );
        assert_eq!(ran.metadata["tool_type"], "local");
        let unknown = host
            .execute_tool(worker_call("s", "nope"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(unknown.error_message, "Tool nope not found for session s");
        let elsewhere = host
            .execute_tool(worker_call("other", "nope"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(elsewhere.error_message, "not_found");

        let local = host
            .execute_streaming_tool(worker_call("s", "calculate_fibonacci"))
            .await
            .err()
            .unwrap();
        assert_eq!(local.code(), tonic::Code::Unimplemented);
        assert!(local
            .message()
            .starts_with("Streaming execution is not enabled for tool calculate_fibonacci."));
        let missing = host
            .execute_streaming_tool(worker_call("other", "x"))
            .await
            .err()
            .unwrap();
        assert_eq!(
            (missing.code(), missing.message()),
            (tonic::Code::NotFound, "Session not found: other")
        );
    }

    #[tokio::test]
    async fn session_answers_are_snakepits() {
        let host = service();
        let info = host
            .get_session(Request::new(proto::GetSessionRequest {
                session_id: "s".into(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(info.tool_count, 0, "snakepit's sessions count no tools");
        assert_eq!(info.created_at.unwrap().nanos, 0, "whole seconds");
        for _ in 0..2 {
            let cleaned = host
                .cleanup_session(Request::new(proto::CleanupSessionRequest {
                    session_id: "s".into(),
                    force: false,
                }))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(cleaned.resources_cleaned, 1, "whether it existed or not");
        }
        // The session's tools outlive it, as in snakepit's ToolRegistry.
        let listed = host
            .get_exposed_elixir_tools(Request::new(proto::GetExposedElixirToolsRequest {
                session_id: "s".into(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.tools.len(), 3);
    }

    #[tokio::test]
    async fn registration_refusals_are_inspected_reasons() {
        let host = service();
        let register = |names: &[&str]| {
            Request::new(proto::RegisterToolsRequest {
                session_id: "s".into(),
                tools: names
                    .iter()
                    .map(|name| proto::ToolRegistration {
                        name: name.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                worker_id: "w".into(),
            })
        };
        for (names, message) in [
            (
                &["parse_json", "-bad"][..],
                "{:invalid_tool_name, :invalid_format}",
            ),
            (&["parse_json"][..], r#"{:duplicate_tool, "parse_json"}"#),
            (&["x", "x"][..], r#"{:duplicate_tool, "x"}"#),
            (&[" "][..], "{:invalid_tool_name, :empty}"),
        ] {
            let answer = host
                .register_tools(register(names))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(answer.error_message, message, "{names:?}");
        }
    }

    #[test]
    fn binary_output_goes_to_binary_result() {
        let response = success(
            ElixirToolOutput::Binary {
                data: vec![0, 159, 255].into(),
                info: serde_json::json!({}),
            },
            0,
        );
        assert_eq!(&response.binary_result[..], &[0, 159, 255]);
        assert_eq!(response.result.unwrap().value, b"{}");
    }
}
