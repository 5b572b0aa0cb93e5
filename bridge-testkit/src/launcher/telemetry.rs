//! The host's telemetry stream from a worker, opened as the host opens it.

use std::time::Duration;

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// Opens `StreamTelemetry` with `toggle{enabled: true}` first, reading events until it ends;
/// failure is only logged. Returns the sender that keeps the stream open.
pub(super) fn open_telemetry(
    mut client: BridgeServiceClient<Channel>,
) -> tokio::sync::mpsc::Sender<proto::TelemetryControl> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let _ = sender.try_send(proto::TelemetryControl {
        control: Some(proto::telemetry_control::Control::Toggle(
            proto::TelemetryToggle { enabled: true },
        )),
    });
    tokio::spawn(async move {
        let controls = tokio_stream::wrappers::ReceiverStream::new(receiver);
        match tokio::time::timeout(Duration::from_secs(5), client.stream_telemetry(controls)).await
        {
            Ok(Ok(events)) => {
                let mut events = events.into_inner();
                while let Some(Ok(_event)) = events.next().await {}
            }
            Ok(Err(status)) => {
                tracing::debug!(code = ?status.code(), "telemetry stream refused (only logged, as by the host)")
            }
            Err(_) => tracing::debug!("telemetry stream did not open within 5 s"),
        }
    });
    sender
}
