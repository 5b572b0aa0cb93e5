//! What a worker tells about its calls: the `tool_call` span in its logs, and the telemetry
//! events it streams into Elixir over `StreamTelemetry`, toggled by the host.
//!
//! A test binary of its own, outside `tests/it/`: it installs the process's global `tracing`
//! subscriber to read the worker's logs, which in a binary shared with other tests the first
//! worker they serve would have installed already (its own, to stderr).

// The integration tests' helpers (the shared module of `tests/it/`).
#[path = "it/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::telemetry_value::Value as Measured;
use snakepit_bridge::proto::{ExecuteToolRequest, TelemetryEvent};
use snakepit_bridge::worker::{Measurement, ToolContext, ToolError};
use snakepit_bridge::worker_tools;
use tonic::transport::Channel;

use common::{next_event, open_telemetry, toggle};

struct Tools;

#[worker_tools]
impl Tools {
    /// Echoes.
    pub fn echo(&self, text: String) -> Result<String, ToolError> {
        Ok(text)
    }

    /// Fails.
    pub fn fail(&self) -> Result<(), ToolError> {
        Err(ToolError::value_error("bad input"))
    }

    /// Emits an event of its own, and tries one snakepit would drop.
    pub fn sample(&self, ctx: &ToolContext) -> Result<String, ToolError> {
        ctx.telemetry()
            .emit_with(
                "python.memory.sampled",
                [("rss_bytes", Measurement::from(4096u64))],
                [("model", "m1")],
            )
            .map_err(|e| ToolError::runtime_error(e.to_string()))?;
        let refused = ctx
            .telemetry()
            .emit("rust.memory.sampled", [("rss_bytes", Measurement::from(1))])
            .unwrap_err();
        Ok(refused.to_string())
    }
}

/// Everything the worker logs in this test binary, at debug.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("snakepit_bridge_worker=debug")
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        logs
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn serve() -> BridgeServiceClient<Channel> {
    logs();
    common::serve(Tools).await
}

fn request(tool: &str, params: Value, correlation: &str) -> ExecuteToolRequest {
    common::execute_request(
        "telemetry-session",
        tool,
        params,
        &[("correlation_id", correlation)],
    )
}

fn name(event: &TelemetryEvent) -> String {
    event.event_parts.join(".")
}

fn int(event: &TelemetryEvent, key: &str) -> i64 {
    match event.measurements[key].value {
        Some(Measured::IntValue(value)) => value,
        ref other => panic!("{key} is {other:?}"),
    }
}

#[tokio::test]
async fn every_call_streams_one_stop_with_its_duration_and_size_and_failures_an_exception() {
    let mut client = serve().await;
    let (_controls, mut events) = open_telemetry(&mut client, toggle(true)).await;

    let answer = client
        .execute_tool(request("echo", json!({"text": "hello"}), "corr-echo"))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success);
    // One event a call: no start, the result's size on the stop.
    let stop = next_event(&mut events).await;
    assert_eq!(name(&stop), "tool.execution.stop");
    assert_eq!(stop.correlation_id, "corr-echo");
    assert_eq!(stop.metadata["tool"], "echo");
    assert!(int(&stop, "duration") > 0);
    assert_eq!(int(&stop, "message_size"), "\"hello\"".len() as i64);

    client
        .execute_tool(request("fail", json!({}), "corr-fail"))
        .await
        .unwrap();
    let exception = next_event(&mut events).await;
    assert_eq!(name(&exception), "tool.execution.exception");
    assert_eq!(exception.metadata["error_type"], "ValueError");
    assert_eq!(exception.metadata["error_message"], "bad input");
    assert!(int(&exception, "duration") > 0);
}

#[tokio::test]
async fn a_tool_emits_catalog_events_and_is_refused_others() {
    let mut client = serve().await;
    let (_controls, mut events) = open_telemetry(&mut client, toggle(true)).await;
    let answer = client
        .execute_tool(request("sample", json!({}), "corr-sample"))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success, "{}", answer.error_message);
    let refused = String::from_utf8(answer.result.unwrap().value).unwrap();
    assert!(
        refused.contains("`rust.memory.sampled` is not in snakepit's catalog"),
        "{refused}"
    );
    let own = next_event(&mut events).await;
    assert_eq!(name(&own), "python.memory.sampled");
    assert_eq!(int(&own, "rss_bytes"), 4096);
    assert_eq!(own.metadata["model"], "m1");
    assert_eq!(own.correlation_id, "corr-sample");
}

#[tokio::test]
async fn the_hosts_toggle_turns_events_off_and_on() {
    let mut client = serve().await;
    let (_first, mut events) = open_telemetry(&mut client, toggle(true)).await;
    // A second stream whose first control turns telemetry off, for the whole worker (as in
    // Python's worker); it is in force once the stream is answered.
    let (off, _off_events) = open_telemetry(&mut client, toggle(false)).await;
    client
        .execute_tool(request("echo", json!({"text": "unseen"}), "corr-off"))
        .await
        .unwrap();
    let (_on, _on_events) = open_telemetry(&mut client, toggle(true)).await;
    client
        .execute_tool(request("echo", json!({"text": "seen"}), "corr-on"))
        .await
        .unwrap();
    // Events of the call made while off would have come first.
    let event = next_event(&mut events).await;
    assert_eq!(event.correlation_id, "corr-on", "{event:?}");
    drop(off);
}

#[tokio::test]
async fn each_call_has_a_span_with_its_fields_and_no_parameter_value() {
    let mut client = serve().await;
    let answer = client
        .execute_tool(request(
            "echo",
            json!({"text": "s3cr3t-parameter-value"}),
            "corr-span-1",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success);
    client
        .execute_tool(request("fail", json!({}), "corr-span-2"))
        .await
        .unwrap();
    let text = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("corr-span-1") && line.contains("call finished"))
        .unwrap_or_else(|| panic!("no finished line for corr-span-1 in:\n{text}"));
    for field in [
        "tool_call{",
        "tool=echo",
        "session=telemetry-session",
        "correlation_id=\"corr-span-1\"",
        "duration_ms=",
        "outcome=\"ok\"",
    ] {
        assert!(line.contains(field), "`{field}` missing from: {line}");
    }
    let failed = text
        .lines()
        .find(|line| line.contains("corr-span-2") && line.contains("call finished"))
        .unwrap_or_else(|| panic!("no finished line for corr-span-2 in:\n{text}"));
    assert!(failed.contains("outcome=\"error\""), "{failed}");
    assert!(failed.contains("error_type=\"ValueError\""), "{failed}");
    assert!(
        !text.contains("s3cr3t-parameter-value"),
        "a parameter value reached the logs:\n{text}"
    );
}
