//! Two tools (`add`, `echo`) served by hand on the raw tonic `BridgeService`, with just enough of
//! snakepit's launch contract (ready file, Ping, InitializeSession, Heartbeat, SIGTERM) for a
//! pool to drive it: the floor a worker written with snakepit-bridge is measured against.

use std::collections::HashMap;
use std::pin::Pin;

use serde_json::Value;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

pub mod proto {
    tonic::include_proto!("snakepit.bridge");
}

use proto::bridge_service_server::{BridgeService, BridgeServiceServer};

type Chunks<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

struct Raw;

fn param(parameters: &HashMap<String, prost_types::Any>, name: &str) -> Result<Value, Status> {
    let any = parameters
        .get(name)
        .ok_or_else(|| Status::invalid_argument(format!("missing parameter `{name}`")))?;
    serde_json::from_slice(&any.value)
        .map_err(|error| Status::invalid_argument(format!("parameter `{name}`: {error}")))
}

fn json_any(value: &Value) -> prost_types::Any {
    prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.StringValue".to_owned(),
        value: value.to_string().into_bytes(),
    }
}

#[tonic::async_trait]
impl BridgeService for Raw {
    async fn ping(
        &self,
        request: Request<proto::PingRequest>,
    ) -> Result<Response<proto::PingResponse>, Status> {
        Ok(Response::new(proto::PingResponse {
            message: format!("Pong: {}", request.into_inner().message),
            server_time: None,
        }))
    }
    async fn initialize_session(
        &self,
        _: Request<proto::InitializeSessionRequest>,
    ) -> Result<Response<proto::InitializeSessionResponse>, Status> {
        Ok(Response::new(proto::InitializeSessionResponse {
            success: true,
            ..Default::default()
        }))
    }
    async fn cleanup_session(
        &self,
        _: Request<proto::CleanupSessionRequest>,
    ) -> Result<Response<proto::CleanupSessionResponse>, Status> {
        Ok(Response::new(proto::CleanupSessionResponse {
            success: true,
            resources_cleaned: 0,
        }))
    }
    async fn get_session(
        &self,
        _: Request<proto::GetSessionRequest>,
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        Err(Status::unimplemented("get_session"))
    }
    async fn heartbeat(
        &self,
        _: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatResponse>, Status> {
        Ok(Response::new(proto::HeartbeatResponse {
            server_time: None,
            session_valid: true,
        }))
    }
    async fn execute_tool(
        &self,
        request: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<proto::ExecuteToolResponse>, Status> {
        let request = request.into_inner();
        let result = match request.tool_name.as_str() {
            "add" => {
                let a = param(&request.parameters, "a")?.as_f64();
                let b = param(&request.parameters, "b")?.as_f64();
                match (a, b) {
                    (Some(a), Some(b)) => Value::from(a + b),
                    _ => return Err(Status::invalid_argument("`a` and `b` must be numbers")),
                }
            }
            "echo" => match param(&request.parameters, "message")? {
                Value::String(message) => Value::String(message),
                _ => return Err(Status::invalid_argument("`message` must be a string")),
            },
            other => return Err(Status::not_found(format!("no tool `{other}`"))),
        };
        Ok(Response::new(proto::ExecuteToolResponse {
            success: true,
            result: Some(json_any(&result)),
            ..Default::default()
        }))
    }
    type ExecuteStreamingToolStream = Chunks<proto::ToolChunk>;
    async fn execute_streaming_tool(
        &self,
        _: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<Self::ExecuteStreamingToolStream>, Status> {
        Err(Status::unimplemented("execute_streaming_tool"))
    }
    async fn register_tools(
        &self,
        _: Request<proto::RegisterToolsRequest>,
    ) -> Result<Response<proto::RegisterToolsResponse>, Status> {
        Err(Status::unimplemented("register_tools"))
    }
    async fn get_exposed_elixir_tools(
        &self,
        _: Request<proto::GetExposedElixirToolsRequest>,
    ) -> Result<Response<proto::GetExposedElixirToolsResponse>, Status> {
        Err(Status::unimplemented("get_exposed_elixir_tools"))
    }
    async fn execute_elixir_tool(
        &self,
        _: Request<proto::ExecuteElixirToolRequest>,
    ) -> Result<Response<proto::ExecuteElixirToolResponse>, Status> {
        Err(Status::unimplemented("execute_elixir_tool"))
    }
    type StreamTelemetryStream = Chunks<proto::TelemetryEvent>;
    async fn stream_telemetry(
        &self,
        _: Request<Streaming<proto::TelemetryControl>>,
    ) -> Result<Response<Self::StreamTelemetryStream>, Status> {
        Err(Status::unimplemented("stream_telemetry"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(BridgeServiceServer::new(Raw))
            .serve_with_incoming_shutdown(incoming, async move {
                terminate.recv().await;
            }),
    );
    if let Ok(path) = std::env::var("SNAKEPIT_READY_FILE") {
        // Written whole, then renamed, so the host never reads half a port.
        let temporary = format!("{path}.tmp");
        std::fs::write(&temporary, port.to_string())?;
        std::fs::rename(&temporary, &path)?;
    }
    server.await??;
    Ok(())
}
