//! The launcher's telemetry stream, as snakepit's `Snakepit.Telemetry.GrpcStream` holds it
//! (`lib/snakepit/telemetry/grpc_stream.ex` in snakepit v0.13.0): the events of a worker's
//! calls arrive through it, and the host's controls (toggle, filter) steer them.

use crate::common;

use std::time::Duration;

use serde_json::json;
use snakepit_bridge::proto::telemetry_value::Value as Measured;
use snakepit_bridge::proto::TelemetryEvent;
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::testkit::launcher::{CallOptions, LaunchedWorker, Launcher};

async fn launch() -> (EmbeddedHost, LaunchedWorker) {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .expect("the host starts");
    let worker = Launcher::new(common::showcase_worker())
        .launch(&host)
        .await
        .expect("the showcase worker launches");
    (host, worker)
}

/// Generous: the events of a call leave the worker within one batch window (50 ms).
const WAIT: Duration = Duration::from_secs(10);

fn name(event: &TelemetryEvent) -> String {
    event.event_parts.join(".")
}

async fn echo(worker: &LaunchedWorker, correlation: &str) {
    worker
        .execute(
            "echo",
            json!({"text": correlation}),
            CallOptions::default().correlation_id(correlation),
        )
        .await
        .expect("echo answers");
}

/// The names of the kept events of the call `correlation`, in order of arrival.
fn events_of(worker: &LaunchedWorker, correlation: &str) -> Vec<String> {
    worker
        .telemetry_events()
        .iter()
        .filter(|event| event.correlation_id == correlation)
        .map(name)
        .collect()
}

async fn wait_for(worker: &LaunchedWorker, correlation: &str, event: &str) -> TelemetryEvent {
    worker
        .wait_for_telemetry(WAIT, |e| {
            e.correlation_id == correlation && name(e) == event
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "no `{event}` of `{correlation}` within {WAIT:?}; received: {:?}",
                worker
                    .telemetry_events()
                    .iter()
                    .map(|e| (name(e), e.correlation_id.clone()))
                    .collect::<Vec<_>>()
            )
        })
}

#[tokio::test]
async fn a_calls_execution_events_arrive_through_the_launchers_stream() {
    let (_host, worker) = launch().await;
    echo(&worker, "corr-seen").await;
    let stop = wait_for(&worker, "corr-seen", "tool.execution.stop").await;
    assert_eq!(stop.metadata["tool"], "echo");
    assert!(
        matches!(stop.measurements["duration"].value, Some(Measured::IntValue(n)) if n > 0),
        "{stop:?}"
    );
    assert!(
        matches!(stop.measurements["message_size"].value, Some(Measured::IntValue(n)) if n > 0),
        "{stop:?}"
    );
    // One event a call.
    echo(&worker, "corr-next").await;
    wait_for(&worker, "corr-next", "tool.execution.stop").await;
    assert_eq!(events_of(&worker, "corr-seen"), ["tool.execution.stop"]);
    worker.shutdown().await.expect("the worker stops");
}

#[tokio::test]
async fn no_events_arrive_while_telemetry_is_toggled_off() {
    let (_host, worker) = launch().await;
    echo(&worker, "corr-before").await;
    wait_for(&worker, "corr-before", "tool.execution.stop").await;

    worker
        .toggle_telemetry(false)
        .await
        .expect("the toggle is sent");
    for n in 0..3 {
        echo(&worker, &format!("corr-off-{n}")).await;
    }
    worker
        .toggle_telemetry(true)
        .await
        .expect("the toggle is sent");
    echo(&worker, "corr-after").await;
    // The controls travel in order on one stream: once the call after `on` has its events, the
    // calls made while off would have had theirs too.
    wait_for(&worker, "corr-after", "tool.execution.stop").await;
    let while_off: Vec<String> = worker
        .telemetry_events()
        .iter()
        .filter(|event| event.correlation_id.starts_with("corr-off-"))
        .map(|event| format!("{} ({})", name(event), event.correlation_id))
        .collect();
    assert!(while_off.is_empty(), "events while off: {while_off:?}");
    worker.shutdown().await.expect("the worker stops");
}

#[tokio::test]
async fn the_hosts_filter_drops_the_events_it_denies() {
    let (_host, worker) = launch().await;
    worker
        .update_telemetry_filter(Vec::<String>::new(), ["tool.execution.stop"])
        .await
        .expect("the filter is sent");
    echo(&worker, "corr-filtered").await;
    worker
        .update_telemetry_filter(Vec::<String>::new(), Vec::<String>::new())
        .await
        .expect("the filter is sent");
    echo(&worker, "corr-unfiltered").await;
    wait_for(&worker, "corr-unfiltered", "tool.execution.stop").await;
    assert!(
        events_of(&worker, "corr-filtered").is_empty(),
        "the denied call's event came"
    );
    worker.shutdown().await.expect("the worker stops");
}
