//! The host side of `BridgeService`, answering as a snakepit v0.13 host does.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::elixir_terms::{inspect_string, jason_check, jason_encode};
use super::sessions::SessionStore;
use super::tool::{ToolOutput, ToolParams};
use super::RecordedCall;
use snakepit_bridge_runtime::__private::{correlation_id_of, panic_message, timestamp_now};
use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
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
                return Err(
                    if any.type_url == JSON_TYPE_URL || any.type_url.is_empty() {
                        format!("Invalid parameter {key}: {}", inspect_string(&message))
                    } else {
                        format!("Invalid parameter {key} ({}): {message}", any.type_url)
                    },
                );
            }
        }
    }
    Ok(decoded)
}

fn success(output: ToolOutput, elapsed_ms: i64) -> proto::ExecuteElixirToolResponse {
    let (result, binary_result) = match output {
        // Written as the host's encoder (Jason) writes JSON: compact, keys sorted, Erlang floats.
        ToolOutput::Json(value) => (jason_encode(&value).into_bytes(), Default::default()),
        ToolOutput::Binary { data, info } => (jason_encode(&info).into_bytes(), data),
        ToolOutput::Unencodable(text) | ToolOutput::JsonText(text) => {
            (text.into_bytes(), Default::default())
        }
    };
    proto::ExecuteElixirToolResponse {
        success: true,
        result: Some(json_any(result)),
        error_message: String::new(),
        metadata: [("execution_time".to_owned(), elapsed_ms.to_string())].into(),
        execution_time_ms: elapsed_ms,
        binary_result,
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

#[tonic::async_trait]
impl BridgeService for HostService {
    async fn ping(
        &self,
        request: Request<proto::PingRequest>,
    ) -> Result<Response<proto::PingResponse>, Status> {
        self.state.count("Ping");
        Ok(Response::new(proto::PingResponse {
            message: format!("pong: {}", request.into_inner().message),
            server_time: timestamp_now(),
        }))
    }

    async fn initialize_session(
        &self,
        request: Request<proto::InitializeSessionRequest>,
    ) -> Result<Response<proto::InitializeSessionResponse>, Status> {
        self.state.count("InitializeSession");
        let request = request.into_inner();
        let mut sessions = self.state.sessions();
        let session = sessions
            .initialize(&request.session_id, request.metadata, None)
            .map_err(|refusal| Status::internal(refusal.text()))?;
        let available_tools = session
            .elixir_tools
            .values()
            .map(|tool| (tool.name().to_owned(), proto::ToolSpec::from(tool.spec())))
            .collect();
        Ok(Response::new(proto::InitializeSessionResponse {
            success: true,
            error_message: String::new(),
            available_tools,
        }))
    }

    async fn cleanup_session(
        &self,
        request: Request<proto::CleanupSessionRequest>,
    ) -> Result<Response<proto::CleanupSessionResponse>, Status> {
        self.state.count("CleanupSession");
        let removed = self
            .state
            .sessions()
            .remove(&request.into_inner().session_id);
        Ok(Response::new(proto::CleanupSessionResponse {
            success: true,
            resources_cleaned: i32::from(removed),
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
            created_at: Some(session.created_at.into()),
            tool_count: i32::try_from(session.tool_count()).unwrap_or(i32::MAX),
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
            server_time: timestamp_now(),
            session_valid: valid,
        }))
    }

    async fn execute_tool(
        &self,
        _request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<proto::ExecuteToolResponse>, Status> {
        self.state.count("ExecuteTool");
        Err(Status::unimplemented(
            "ExecuteTool runs a worker's tool and is served by workers, not by the host; use ExecuteElixirTool",
        ))
    }

    type ExecuteStreamingToolStream = BoxStream<proto::ToolChunk>;

    async fn execute_streaming_tool(
        &self,
        _request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<Self::ExecuteStreamingToolStream>, Status> {
        self.state.count("ExecuteStreamingTool");
        Err(Status::unimplemented(
            "ExecuteStreamingTool is served by workers, not by the host",
        ))
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
        // Check the whole batch first: one bad tool rolls all of them back.
        let mut batch = BTreeMap::new();
        for registration in &request.tools {
            let name = registration.name.trim();
            if let Err(reason) = snakepit_bridge_spec::validate_tool_name(name) {
                return refuse(format!("invalid_tool_name: {name}: {reason}"));
            }
            if session.elixir_tools.contains_key(name)
                || session.worker_tools.contains_key(name)
                || batch.contains_key(name)
            {
                return refuse(format!("duplicate_tool: {name}"));
            }
            // The host records whether the tool streams in its metadata, as snakepit does.
            let mut metadata = registration.metadata.clone();
            metadata.insert(
                "supports_streaming".to_owned(),
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
        let mut sessions = self.state.sessions();
        // An unknown session has no tools: an empty list, not an error.
        let tools = sessions
            .touch(&request.into_inner().session_id)
            .map(|session| {
                session
                    .elixir_tools
                    .values()
                    .map(|tool| proto::ToolSpec::from(tool.spec()))
                    .collect()
            })
            .unwrap_or_default();
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
        let started = Instant::now();
        // A task of its own, so a panicking tool becomes a failed call, not a dropped connection.
        let outcome = tokio::spawn(tool.run(params)).await;
        let elapsed_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        Ok(Response::new(match outcome {
            Ok(Ok(output)) => success(output, elapsed_ms),
            Ok(Err(message)) => tool_failure(format!("Tool execution failed: {message}")),
            Err(error) => tool_failure(format!("Tool execution failed: {}", panic_text(error))),
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
        let response = success(ToolOutput::Json(serde_json::json!({"b": 1, "a": 2})), 7);
        assert!(response.success);
        assert_eq!(response.metadata["execution_time"], "7");
        assert_eq!(response.execution_time_ms, 7);
        // Compact JSON with sorted keys, as the host's encoder writes it.
        assert_eq!(response.result.unwrap().value, br#"{"a":2,"b":1}"#);
    }

    #[test]
    fn binary_output_goes_to_binary_result() {
        let response = success(
            ToolOutput::Binary {
                data: vec![0, 159, 255].into(),
                info: serde_json::json!({}),
            },
            0,
        );
        assert_eq!(&response.binary_result[..], &[0, 159, 255]);
        assert_eq!(response.result.unwrap().value, b"{}");
    }
}
