//! The showcase worker's tools served in this process (the example's own `ShowcaseAdapter`),
//! where the test alone decides which telemetry streams are open: `telemetry_demo` says
//! whether its events went anywhere.

#[path = "../../examples/showcase_worker.rs"]
#[allow(dead_code)]
mod showcase;

use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::Channel;

use crate::common::{self, next_event, open_telemetry, toggle};

/// The showcase served in this process, with no host (and so no telemetry stream) of its own.
async fn serve() -> BridgeServiceClient<Channel> {
    common::serve(showcase::ShowcaseAdapter::new()).await
}

/// Calls `tool` with JSON `params` in session `in-process`; the decoded JSON answer.
async fn call(client: &mut BridgeServiceClient<Channel>, tool: &str, params: Value) -> Value {
    let request = common::execute_request(
        "in-process",
        tool,
        params,
        &[("correlation_id", "corr-in-process")],
    );
    let answer = client.execute_tool(request).await.unwrap().into_inner();
    assert!(answer.success, "`{tool}`: {}", answer.error_message);
    serde_json::from_slice(&answer.result.expect("a result").value).unwrap()
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

    let (off, _off_events) = open_telemetry(&mut client, toggle(false)).await;
    let answer = call(&mut client, "telemetry_demo", demo.clone()).await;
    assert_eq!(
        answer["telemetry_enabled"], false,
        "the host turned it off: {answer}"
    );

    off.send(toggle(true)).await.unwrap();
    let (_on, mut events) = open_telemetry(&mut client, toggle(true)).await;
    let answer = call(&mut client, "telemetry_demo", demo).await;
    assert_eq!(answer["telemetry_enabled"], true, "{answer}");
    assert_eq!(answer["correlation_id"], "corr-in-process");
    let first = next_event(&mut events).await;
    assert_eq!(first.event_parts, ["tool", "execution", "start"]);
    assert_eq!(first.correlation_id, "corr-in-process");
}
