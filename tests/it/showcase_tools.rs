//! The showcase worker as a drop-in for snakepit's Python `ShowcaseAdapter` (v0.13.0,
//! `priv/python/snakepit_bridge/adapters/showcase/`): its registered tools, and the tools the
//! Python showcase has but the first Rust port lacked (`get_stats`, `ml_analyze_text`,
//! `concurrent_demo`, `telemetry_demo`, the legacy `execute_tool`), launched and driven as
//! snakepit drives a worker (through the launcher). The showcase's pure logic (`/proc` parsing,
//! text analysis) is unit-tested here too, from the example's own modules.

// Also in `showcase_in_process`, inside the whole example, whose modules are private to it.
#[path = "../../examples/showcase/system_stats.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod system_stats;
#[path = "../../examples/showcase/text_analysis.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod text_analysis;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use snakepit_bridge::proto::telemetry_value::Value as Measured;
use snakepit_bridge::proto::{TelemetryControl, TelemetryEvent};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::testkit::launcher::{
    CallError, CallOptions, Decoded, LaunchedWorker, Launcher, Reply, ToolFailure,
};
use snakepit_bridge::worker::StreamExt;

use crate::common;

/// The example binary, built by `cargo test` next to the test binaries.
fn showcase_worker() -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join("showcase_worker")
}

async fn host() -> EmbeddedHost {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .expect("the host starts")
}

async fn launch(host: &EmbeddedHost) -> LaunchedWorker {
    Launcher::new(showcase_worker())
        .launch(host)
        .await
        .expect("the showcase worker launches")
}

async fn call(worker: &LaunchedWorker, tool: &str, args: Value) -> Value {
    match worker.execute(tool, args, CallOptions::default()).await {
        Ok(Reply::Value(Decoded::Json(value))) => value,
        other => panic!("`{tool}`: expected a JSON answer, got {other:?}"),
    }
}

/// The Python type and message of a failed call.
async fn failure(worker: &LaunchedWorker, tool: &str, args: Value) -> (String, String) {
    match worker.execute(tool, args, CallOptions::default()).await {
        Err(CallError::Tool {
            failure: ToolFailure::Translated(error),
            ..
        }) => (error.type_name.clone(), error.message.clone()),
        other => panic!("`{tool}`: expected a translated tool error, got {other:?}"),
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// What snakepit v0.13.0's Python showcase registers: `showcase_adapter.py`'s `@tool` methods,
/// and `execute_tool`, which `base_adapter.py` `get_tools` adds for adapters that have one.
const PYTHON_REGISTERED: [&str; 12] = [
    "adapter_info",
    "basic_add",
    "basic_echo",
    "call_elixir_demo",
    "concurrent_demo",
    "echo",
    "execute_tool",
    "get_stats",
    "ml_analyze_text",
    "process_binary",
    "process_text",
    "stream_data",
];

/// Tools the Python showcase answers by name without registering them (its legacy
/// `execute_tool` finds them among `handlers/basic_ops.py`'s tools); the Rust port registers them.
const PYTHON_ANSWERED_BY_NAME: [&str; 3] = ["error_demo", "ping", "telemetry_demo"];

/// The Rust port's one tool of its own.
const RUST_ONLY: [&str; 1] = ["elixir_fibonacci"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_the_python_showcase_tools_and_answers_the_ones_python_answers_by_name() {
    let host = host().await;
    let worker = launch(&host).await;

    let registered: BTreeSet<String> = host
        .worker_tools(worker.session_id())
        .into_iter()
        .map(|registered| registered.tool.name)
        .collect();
    let expected: BTreeSet<String> = PYTHON_REGISTERED
        .iter()
        .chain(&PYTHON_ANSWERED_BY_NAME)
        .chain(&RUST_ONLY)
        .map(|name| name.to_string())
        .collect();
    assert_eq!(registered, expected);

    // Every tool Python answers by name answers here too.
    assert_eq!(call(&worker, "ping", json!({})).await["message"], "pong");
    let (python_type, _) = failure(&worker, "error_demo", json!({"error_type": "value"})).await;
    assert_eq!(python_type, "ValueError");
    assert_eq!(
        call(&worker, "telemetry_demo", json!({"delay_ms": 0})).await["operation"],
        "compute"
    );

    // `get_stats` counts the registered tools.
    let stats = call(&worker, "get_stats", json!({})).await;
    assert_eq!(
        stats["adapter"]["registered_tools"],
        json!(registered.len())
    );
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_stats_reports_the_workers_own_process() {
    let host = host().await;
    let worker = launch(&host).await;

    let before = unix_now();
    let stats = call(&worker, "get_stats", json!({})).await;
    let after = unix_now();
    assert_eq!(stats["success"], true);
    let adapter = &stats["adapter"];
    assert_eq!(adapter["name"], "ShowcaseAdapter");
    assert_eq!(adapter["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(adapter["session_id"], worker.session_id());

    let system = &stats["system"];
    assert_eq!(system["pid"], json!(worker.pid()));
    // A number of seconds (Python's `time.time()`), taken during the call.
    let timestamp = system["timestamp"].as_f64().unwrap();
    assert!(
        before - 1.0 <= timestamp && timestamp <= after + 1.0,
        "{timestamp}"
    );
    // The worker's resident memory, as /proc says it is (it moves a little between readings).
    let memory = system["memory_usage_mb"].as_f64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", worker.pid())).unwrap();
    let rss_mb = system_stats::rss_bytes_from_status(&status).unwrap() as f64 / 1048576.0;
    assert!(memory > 0.0, "{stats}");
    assert!(
        memory > rss_mb / 2.0 && memory < rss_mb * 2.0,
        "get_stats says {memory} MB, /proc says {rss_mb} MB"
    );
    let first_cpu = system["cpu_percent"].as_f64().unwrap();
    assert!(first_cpu >= 0.0, "{stats}");

    // CPU work between two calls shows in the second call's percent (since the previous call).
    let work = call(&worker, "concurrent_demo", json!({"task_count": 100})).await;
    assert_eq!(work["success"], true);
    let second = call(&worker, "get_stats", json!({})).await;
    let busy_cpu = second["system"]["cpu_percent"].as_f64().unwrap();
    assert!(busy_cpu > 0.0, "{second}");
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml_analyze_text_answers_an_analysis_of_the_text() {
    let host = host().await;
    let worker = launch(&host).await;

    let analysis = call(
        &worker,
        "ml_analyze_text",
        json!({"text": "Rust is great. Rust is fast! Is it hard? No."}),
    )
    .await;
    assert_eq!(
        analysis,
        json!({
            "text_length": 44,
            "word_count": 10,
            "unique_words": 7,
            "sentence_count": 4,
            "average_word_length": 3.1,
            "top_words": [
                {"word": "is", "count": 3},
                {"word": "rust", "count": 2},
                {"word": "fast", "count": 1},
                {"word": "great", "count": 1},
                {"word": "hard", "count": 1},
            ],
            "sentiment": {
                "label": "positive",
                "score": 0.333,
                "positive_words": 2,
                "negative_words": 1,
            },
            "method": "lexicon",
            "success": true,
        })
    );

    // Empty text is an empty analysis, not a failure.
    let empty = call(&worker, "ml_analyze_text", json!({"text": ""})).await;
    assert_eq!(empty["word_count"], 0);
    assert_eq!(empty["average_word_length"], 0.0);
    assert_eq!(empty["sentiment"]["label"], "neutral");
    assert_eq!(empty["top_words"], json!([]));

    // `text` is required, as in Python's signature.
    let (python_type, message) = failure(&worker, "ml_analyze_text", json!({})).await;
    assert_eq!(python_type, "TypeError");
    assert!(message.contains("`text`"), "{message}");
    worker.shutdown().await.unwrap();
}

/// Python's `cpu_bound_task` result: the sum of i² for i < n, modulo 1,000,000.
fn sum_of_squares_mod(n: u64) -> u64 {
    let n = u128::from(n);
    let sum = if n == 0 {
        0
    } else {
        (n - 1) * n * (2 * n - 1) / 6
    };
    (sum % 1_000_000) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_demo_runs_its_tasks_and_answers_each_result() {
    let host = host().await;
    let worker = launch(&host).await;

    // The default is 3 tasks, as Python's `task_count: int = 3`.
    let answer = call(&worker, "concurrent_demo", json!({})).await;
    assert_eq!(answer["task_count"], 3);
    assert_eq!(answer["success"], true);
    assert!(answer["total_duration_ms"].as_f64().unwrap() >= 0.0);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for (index, task) in results.iter().enumerate() {
        let number = index as u64 + 1;
        assert_eq!(task["task_id"], format!("task_{number}"));
        assert_eq!(task["iterations"], number * 10_000);
        assert_eq!(task["result"], sum_of_squares_mod(number * 10_000));
        assert!(task["actual_duration_ms"].as_f64().unwrap() >= 0.0);
    }

    let none = call(&worker, "concurrent_demo", json!({"task_count": 0})).await;
    assert_eq!(none["results"], json!([]));

    let (python_type, message) =
        failure(&worker, "concurrent_demo", json!({"task_count": 101})).await;
    assert_eq!(python_type, "ValueError");
    assert!(
        message.contains("task_count must be at most 100, got 101"),
        "{message}"
    );
    let (python_type, _) = failure(&worker, "concurrent_demo", json!({"task_count": -1})).await;
    assert_eq!(python_type, "TypeError");
    worker.shutdown().await.unwrap();
}

/// Opens the worker's `StreamTelemetry` as snakepit does (`toggle{enabled: true}` first); once
/// it is answered, the worker sends its events on it. The sender keeps the stream open.
async fn open_telemetry(
    worker: &LaunchedWorker,
) -> (
    tokio::sync::mpsc::Sender<TelemetryControl>,
    tonic::Streaming<TelemetryEvent>,
) {
    common::open_telemetry(&mut worker.client(), common::toggle(true)).await
}

/// The next event of the call with `correlation_id` (the launcher's calls have other ids).
async fn next_event(
    events: &mut tonic::Streaming<TelemetryEvent>,
    correlation_id: &str,
) -> TelemetryEvent {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .expect("the stream is open")
            .expect("an event");
        if event.correlation_id == correlation_id {
            return event;
        }
    }
}

fn int_measurement(event: &TelemetryEvent, key: &str) -> i64 {
    match event
        .measurements
        .get(key)
        .and_then(|value| value.value.as_ref())
    {
        Some(Measured::IntValue(value)) => *value,
        other => panic!(
            "{}: measurement {key} is {other:?}",
            event.event_parts.join(".")
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_demo_sends_pythons_events_in_pythons_order_over_stream_telemetry() {
    let host = host().await;
    let worker = launch(&host).await;
    let (_controls, mut events) = open_telemetry(&worker).await;

    let options = CallOptions::default().correlation_id("sp-telemetry-demo");
    let answer = match worker
        .execute(
            "telemetry_demo",
            json!({"operation": "train", "delay_ms": 5}),
            options,
        )
        .await
    {
        Ok(Reply::Value(Decoded::Json(value))) => value,
        other => panic!("expected JSON, got {other:?}"),
    };
    assert_eq!(answer["operation"], "train");
    assert_eq!(answer["delay_ms"], 5);
    assert_eq!(answer["correlation_id"], "sp-telemetry-demo");
    assert_eq!(answer["telemetry_enabled"], true, "{answer}");
    assert_eq!(
        answer["message"],
        "Telemetry events emitted successfully! Check Elixir :telemetry handlers."
    );

    // Python's events in Python's order (`handlers/basic_ops.py` `telemetry_demo`), then the
    // worker's own one event for the call: its stop, with the result's size.
    let mut seen = Vec::new();
    loop {
        let event = next_event(&mut events, "sp-telemetry-demo").await;
        let done = event.event_parts.join(".") == "tool.execution.stop"
            && event.measurements.contains_key("message_size");
        seen.push(event);
        if done {
            break;
        }
    }
    let summary: Vec<(String, Option<&str>)> = seen
        .iter()
        .map(|event| {
            (
                event.event_parts.join("."),
                event.metadata.get("operation").map(String::as_str),
            )
        })
        .collect();
    let expected = [
        ("tool.execution.start", Some("train")),
        ("tool.execution.start", Some("train")),
        ("tool.result_size", None),
        ("tool.execution.stop", Some("train")),
        ("tool.execution.stop", None),
    ];
    assert_eq!(
        summary,
        expected
            .iter()
            .map(|(name, operation)| (name.to_string(), *operation))
            .collect::<Vec<_>>()
    );
    for event in &seen {
        assert_eq!(event.metadata["tool"], "telemetry_demo");
    }
    let now_ns = unix_now() * 1e9;
    for start in &seen[0..2] {
        let system_time = int_measurement(start, "system_time") as f64;
        assert!((now_ns - system_time).abs() < 60e9, "{start:?}");
    }
    assert_eq!(int_measurement(&seen[2], "bytes"), 42);
    // The span's duration covers the 5 ms of simulated work.
    assert!(
        int_measurement(&seen[3], "duration") >= 5_000_000,
        "{:?}",
        seen[3]
    );

    // Python's defaults: operation "compute", delay_ms 100; no correlation id → null.
    let defaults = call(&worker, "telemetry_demo", json!({})).await;
    assert_eq!(defaults["operation"], "compute");
    assert_eq!(defaults["delay_ms"], 100);
    assert!(defaults.as_object().unwrap().contains_key("correlation_id"));
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_tool_says_which_tool_to_call_instead() {
    let host = host().await;
    let worker = launch(&host).await;
    let (python_type, message) = failure(
        &worker,
        "execute_tool",
        json!({"tool_name": "ping", "arguments": {"message": "hi"}}),
    )
    .await;
    assert_eq!(python_type, "NotImplementedError");
    assert!(
        message.contains("call the tool `ping` by name instead"),
        "{message}"
    );
    worker.shutdown().await.unwrap();
}

#[test]
fn proc_status_gives_the_resident_memory_in_bytes() {
    let status = "Name:\tshowcase\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t4\n";
    assert_eq!(
        system_stats::rss_bytes_from_status(status),
        Some(5120 * 1024)
    );
    assert_eq!(system_stats::rss_bytes_from_status("Name:\tx\n"), None);
    assert_eq!(
        system_stats::rss_bytes_from_status("VmRSS:\tlots kB\n"),
        None
    );
}

#[test]
fn proc_stat_gives_user_plus_system_ticks_whatever_the_command_name() {
    // Fields 14 (utime) = 700 and 15 (stime) = 50; the name holds spaces and a parenthesis.
    let stat = "4242 (show case) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 700 50 0 0 20 0 4 0";
    assert_eq!(system_stats::cpu_ticks_from_stat(stat), Some(750));
    assert_eq!(system_stats::cpu_ticks_from_stat("4242 (cut"), None);
    assert_eq!(system_stats::cpu_ticks_from_stat("4242 (x) S 1"), None);
    // This process's own figures read.
    assert!(system_stats::resident_bytes().unwrap() > 0);
    assert!(system_stats::cpu_seconds().unwrap() >= 0.0);
}

#[test]
fn text_analysis_splits_words_and_sentences() {
    assert_eq!(
        text_analysis::words("Don't stop—it's 'quoted', OK?"),
        ["don't", "stop", "it's", "quoted", "ok"]
    );
    assert_eq!(text_analysis::sentence_count("One. Two! Three? ..."), 3);
    assert_eq!(text_analysis::sentence_count("no end"), 1);
    assert_eq!(text_analysis::sentence_count("  "), 0);
    let sad = text_analysis::analyze("This is bad, awful and slow.");
    assert_eq!(sad["sentiment"]["label"], "negative");
    assert_eq!(sad["sentiment"]["score"], -1.0);
}
