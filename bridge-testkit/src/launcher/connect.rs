//! The host's gRPC client to a worker: the connection with its `Ping("connection_test")`
//! retries, `InitializeSession`, and the `grpc-timeout` every request carries
//! (`lib/snakepit/grpc/client_impl.ex` in snakepit v0.13.0).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::{Channel, Endpoint};

use super::options::DEFAULT_EXECUTE_TIMEOUT;
use super::spawn::encode_grpc_timeout;

/// Connects to `localhost:<port>` (IPv4, as the host's client resolves it) and pings
/// `connection_test`, retrying up to 5 times with a backoff from 50 ms doubling to 500 ms plus
/// up to 25 % jitter, as the host does.
pub(super) async fn connect(port: u16) -> Result<BridgeServiceClient<Channel>, String> {
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .map_err(|error| error.to_string())?
        .connect_timeout(Duration::from_secs(1))
        .tcp_nodelay(true);
    let mut backoff = Duration::from_millis(50);
    let mut last = String::new();
    for attempt in 1..=5 {
        let outcome = async {
            let channel = endpoint
                .connect()
                .await
                .map_err(|error| snakepit_bridge_runtime::support::error_chain(&error))?;
            let mut client = BridgeServiceClient::new(channel)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            let request = with_deadline(
                proto::PingRequest {
                    message: "connection_test".to_owned(),
                },
                DEFAULT_EXECUTE_TIMEOUT,
            );
            match tokio::time::timeout(Duration::from_secs(5), client.ping(request)).await {
                Ok(Ok(_)) => Ok(client),
                Ok(Err(status)) => Err(format!("{:?}: {}", status.code(), status.message())),
                Err(_) => Err("no answer to the ping within 5 s".to_owned()),
            }
        }
        .await;
        match outcome {
            Ok(client) => return Ok(client),
            Err(reason) => last = reason,
        }
        if attempt < 5 {
            let jitter = backoff.mul_f64((super::spawn::random_u64() % 250) as f64 / 1000.0);
            tokio::time::sleep(backoff + jitter).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }
    Err(last)
}

/// A request with `grpc-timeout` as the host writes it.
pub(super) fn with_deadline<T>(message: T, timeout: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = encode_grpc_timeout(timeout).parse() {
        request
            .metadata_mut()
            .insert(snakepit_bridge_spec::GRPC_TIMEOUT_HEADER, value);
    }
    request
}

pub(super) async fn initialize_session(
    mut client: BridgeServiceClient<Channel>,
    session_id: &str,
) -> Result<proto::InitializeSessionResponse, String> {
    let request = with_deadline(
        proto::InitializeSessionRequest {
            session_id: session_id.to_owned(),
            metadata: HashMap::from([
                ("elixir_node".to_owned(), "nonode@nohost".to_owned()),
                (
                    "initialized_at".to_owned(),
                    humantime::format_rfc3339_micros(SystemTime::now()).to_string(),
                ),
            ]),
            config: Some(proto::SessionConfig {
                enable_caching: true,
                cache_ttl_seconds: 60,
                enable_telemetry: false,
            }),
        },
        DEFAULT_EXECUTE_TIMEOUT,
    );
    // The host waits for the answer, ignores it and swallows errors.
    match tokio::time::timeout(
        DEFAULT_EXECUTE_TIMEOUT + Duration::from_secs(1),
        client.initialize_session(request),
    )
    .await
    {
        Ok(Ok(answer)) => Ok(answer.into_inner()),
        Ok(Err(status)) => {
            tracing::debug!(code = ?status.code(), message = status.message(), "InitializeSession failed (ignored, as by the host)");
            Err(status.message().to_owned())
        }
        Err(_) => Err("no answer".to_owned()),
    }
}
