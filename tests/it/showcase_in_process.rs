//! The showcase worker's tools served in this process (the example's own `ShowcaseAdapter`),
//! where the test alone decides which telemetry streams are open: `telemetry_demo` says
//! whether its events went anywhere.

#[path = "../../examples/showcase_worker.rs"]
#[allow(dead_code)]
mod showcase;

use std::time::Duration;

use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::telemetry_control::Control;
use snakepit_bridge::proto::{
    ExecuteToolRequest, TelemetryControl, TelemetryEvent, TelemetryToggle,
};
use snakepit_bridge::worker::tokio_stream::wrappers::ReceiverStream;
use snakepit_bridge::worker::{StreamExt, Worker, WorkerConfig};
use tonic::transport::Channel;

/// The showcase served in this process, with no host (and so no telemetry stream) of its own.
async fn serve() -> BridgeServiceClient<Channel> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let config = WorkerConfig::from_args_and_env(&[], &Default::default()).unwrap();
    tokio::spawn(
        Worker::new(showcase::ShowcaseAdapter::new())
            .config(config)
            .listener(listener)
            .serve(),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    BridgeServiceClient::new(channel)
}

/// Calls `tool` with JSON `params` in session `session`; the decoded JSON answer.
async fn call(client: &mut BridgeServiceClient<Channel>, tool: &str, params: Value) -> Value {
    let Value::Object(params) = params else {
        panic!("an object")
    };
    let answer = client
        .execute_tool(ExecuteToolRequest {
            session_id: "in-process".to_owned(),
            tool_name: tool.to_owned(),
            parameters: params
                .into_iter()
                .map(|(k, v)| (k, snakepit_bridge::json_any(v.to_string().into_bytes())))
                .collect(),
            metadata: [("correlation_id".to_owned(), "corr-in-process".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success, "`{tool}`: {}", answer.error_message);
    serde_json::from_slice(&answer.result.expect("a result").value).unwrap()
}

/// Opens `StreamTelemetry` with `toggle{enabled}` first; in force once answered.
async fn open_telemetry(
    client: &mut BridgeServiceClient<Channel>,
    enabled: bool,
) -> (
    tokio::sync::mpsc::Sender<TelemetryControl>,
    tonic::Streaming<TelemetryEvent>,
) {
    let (controls, receiver) = tokio::sync::mpsc::channel(4);
    controls
        .send(TelemetryControl {
            control: Some(Control::Toggle(TelemetryToggle { enabled })),
        })
        .await
        .unwrap();
    let events = client
        .stream_telemetry(ReceiverStream::new(receiver))
        .await
        .expect("the stream opens")
        .into_inner();
    (controls, events)
}

#[tokio::test]
async fn telemetry_demo_reports_telemetry_off_without_a_stream_or_when_the_host_turned_it_off() {
    let mut client = serve().await;
    let demo = json!({"delay_ms": 0});

    let answer = call(&mut client, "telemetry_demo", demo.clone()).await;
    assert_eq!(
        answer["telemetry_enabled"], false,
        "no stream is open: {answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("Telemetry is off"),
        "{answer}"
    );

    let (off, _off_events) = open_telemetry(&mut client, false).await;
    let answer = call(&mut client, "telemetry_demo", demo.clone()).await;
    assert_eq!(
        answer["telemetry_enabled"], false,
        "the host turned it off: {answer}"
    );

    off.send(TelemetryControl {
        control: Some(Control::Toggle(TelemetryToggle { enabled: true })),
    })
    .await
    .unwrap();
    let (_on, mut events) = open_telemetry(&mut client, true).await;
    let answer = call(&mut client, "telemetry_demo", demo).await;
    assert_eq!(answer["telemetry_enabled"], true, "{answer}");
    assert_eq!(answer["correlation_id"], "corr-in-process");
    let first = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("an event");
    assert_eq!(first.event_parts, ["tool", "execution", "start"]);
    assert_eq!(first.correlation_id, "corr-in-process");
}
