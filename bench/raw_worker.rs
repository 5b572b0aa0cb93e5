//! The floor of the worker benchmarks: the showcase's `ping` written by hand against the raw
//! tonic `BridgeService`, with no JSON library: the `message` parameter's JSON bytes are pasted
//! into the answer as they came, next to the timestamp. It follows just enough of snakepit's
//! launch contract (ready file, Ping, InitializeSession, Heartbeat, SIGTERM) for the launcher to
//! drive it.

use std::pin::Pin;

use snakepit_bridge::proto::bridge_service_server::{BridgeService, BridgeServiceServer};
use snakepit_bridge::proto::{self};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

struct Raw;

type Chunks<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl BridgeService for Raw {
    async fn ping(
        &self,
        _: Request<proto::PingRequest>,
    ) -> Result<Response<proto::PingResponse>, Status> {
        Ok(Response::new(proto::PingResponse::default()))
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
        Err(Status::unimplemented("raw worker"))
    }
    async fn get_session(
        &self,
        _: Request<proto::GetSessionRequest>,
    ) -> Result<Response<proto::GetSessionResponse>, Status> {
        Err(Status::unimplemented("raw worker"))
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
        let message = request
            .parameters
            .get("message")
            .map(|any| any.value.as_slice())
            .unwrap_or(b"\"pong\"");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let mut answer = Vec::with_capacity(message.len() + 48);
        answer.extend_from_slice(b"{\"message\":");
        answer.extend_from_slice(message);
        answer.extend_from_slice(format!(",\"timestamp\":\"{now}\"}}").as_bytes());
        Ok(Response::new(proto::ExecuteToolResponse {
            success: true,
            result: Some(snakepit_bridge::json_any(answer)),
            ..Default::default()
        }))
    }
    type ExecuteStreamingToolStream = Chunks<proto::ToolChunk>;
    async fn execute_streaming_tool(
        &self,
        _: Request<proto::ExecuteToolRequest>,
    ) -> Result<Response<Self::ExecuteStreamingToolStream>, Status> {
        Err(Status::unimplemented("raw worker"))
    }
    async fn register_tools(
        &self,
        _: Request<proto::RegisterToolsRequest>,
    ) -> Result<Response<proto::RegisterToolsResponse>, Status> {
        Err(Status::unimplemented("raw worker"))
    }
    async fn get_exposed_elixir_tools(
        &self,
        _: Request<proto::GetExposedElixirToolsRequest>,
    ) -> Result<Response<proto::GetExposedElixirToolsResponse>, Status> {
        Err(Status::unimplemented("raw worker"))
    }
    async fn execute_elixir_tool(
        &self,
        _: Request<proto::ExecuteElixirToolRequest>,
    ) -> Result<Response<proto::ExecuteElixirToolResponse>, Status> {
        Err(Status::unimplemented("raw worker"))
    }
    type StreamTelemetryStream = Chunks<proto::TelemetryEvent>;
    async fn stream_telemetry(
        &self,
        _: Request<Streaming<proto::TelemetryControl>>,
    ) -> Result<Response<Self::StreamTelemetryStream>, Status> {
        Err(Status::unimplemented("raw worker"))
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
        // By hand, as snakepit's host reads it (`read_ready_file/1` of
        // lib/snakepit/worker/process_manager.ex): the port as text, renamed into place whole.
        let temporary = format!("{path}.tmp");
        std::fs::write(&temporary, port.to_string())?;
        std::fs::rename(&temporary, &path)?;
    }
    server.await??;
    Ok(())
}
