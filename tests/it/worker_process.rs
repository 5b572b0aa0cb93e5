//! The showcase worker, launched and driven exactly as snakepit launches and drives a worker
//! (through the launcher): command line and environment, ready file, session, heartbeats,
//! calls, streaming, errors, binaries, calls back into Elixir, and every way it stops.

use crate::common;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::testkit::launcher::{
    process_group::group_alive, CallError, CallOptions, ChunkControl, Decoded, Ending,
    HeartbeatConfig, LaunchError, LaunchedWorker, Launcher, Reply, ToolFailure,
};

fn showcase_worker() -> PathBuf {
    common::example("showcase_worker")
}

async fn host() -> EmbeddedHost {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .expect("the host starts")
}

/// Fast host heartbeats, so that tests see many of them.
fn fast_heartbeats() -> HeartbeatConfig {
    HeartbeatConfig::default().with_interval(Duration::from_millis(50))
}

async fn launch(host: &EmbeddedHost) -> LaunchedWorker {
    Launcher::new(showcase_worker())
        .heartbeat(fast_heartbeats())
        .launch(host)
        .await
        .expect("the showcase worker launches")
}

async fn call(worker: &LaunchedWorker, tool: &str, args: Value) -> Result<Reply, CallError> {
    worker.execute(tool, args, CallOptions::default()).await
}

fn json_of(reply: Reply) -> Value {
    match reply {
        Reply::Value(Decoded::Json(value)) => value,
        other => panic!("expected JSON, got {other:?}"),
    }
}

fn translated(error: CallError) -> snakepit_bridge::testkit::launcher::TranslatedError {
    match error {
        CallError::Tool {
            failure: ToolFailure::Translated(error),
            ..
        } => *error,
        other => panic!("expected a translated tool error, got {other}"),
    }
}

/// A request built by hand, each parameter's bytes as given (JSON or not).
fn raw_request(
    worker: &LaunchedWorker,
    tool: &str,
    parameters: &[(&str, &[u8])],
    stream: bool,
) -> snakepit_bridge::proto::ExecuteToolRequest {
    snakepit_bridge::proto::ExecuteToolRequest {
        session_id: worker.session_id().to_owned(),
        tool_name: tool.to_owned(),
        parameters: parameters
            .iter()
            .map(|(name, bytes)| (name.to_string(), snakepit_bridge::json_any(bytes.to_vec())))
            .collect(),
        stream,
        ..Default::default()
    }
}

/// Starts `stream_data` with `parameters` on a task; the receiver fires once its first chunk
/// arrived, and the task answers how many chunks came before the stream ended.
fn stream_in_flight(
    worker: &LaunchedWorker,
    parameters: &[(&str, &[u8])],
) -> (
    tokio::task::JoinHandle<Result<usize, tonic::Status>>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let (started, has_started) = tokio::sync::oneshot::channel();
    let mut client = worker.client();
    let request = raw_request(worker, "stream_data", parameters, true);
    let call = tokio::spawn(async move {
        let mut stream = client.execute_streaming_tool(request).await?.into_inner();
        let mut chunks = 0;
        let mut started = Some(started);
        while let Some(chunk) = tokio_stream::StreamExt::next(&mut stream).await {
            chunk?;
            chunks += 1;
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
        }
        Ok(chunks)
    });
    (call, has_started)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launches_as_snakepit_does_and_registers_its_tools() {
    let host = host().await;
    let worker = launch(&host).await;

    // argv: the executable, then snakepit's flags in snakepit's order.
    let argv = worker.argv();
    assert_eq!(
        argv[1..5],
        ["--port", "0", "--elixir-address", &host.grpc_address()]
    );
    assert_eq!(argv[5], "--snakepit-run-id");
    assert_eq!(argv[7], "--snakepit-instance-name");
    // The ready file was read and deleted, and no temporary file was left.
    assert!(!worker.ready_file().exists());
    let mut temporary = worker.ready_file().as_os_str().to_owned();
    temporary.push(".tmp");
    assert!(!PathBuf::from(temporary).exists());
    // The worker forwarded InitializeSession to the host, which created the session.
    assert!(worker.initialize_answer().as_ref().unwrap().success);
    assert!(host.has_session(worker.session_id()));
    // It said it was ready, which makes the host re-read the ready file at once.
    assert!(
        worker.output().contains(&format!(
            "snakepit worker ready on 127.0.0.1:{}",
            worker.port()
        )),
        "{}",
        worker.output()
    );
    // It leads its own process group, as SNAKEPIT_PROCESS_GROUP asks.
    assert_eq!(
        snakepit_bridge::testkit::launcher::process_group::process_group_of(worker.pid()),
        Some(worker.pid())
    );

    // Its tools are registered with every parameter spec, under the pool worker id.
    let registered = host.worker_tools(worker.session_id());
    let names: Vec<&str> = registered.iter().map(|r| r.tool.name.as_str()).collect();
    for tool in [
        "adapter_info",
        "basic_add",
        "call_elixir_demo",
        "echo",
        "error_demo",
        "ping",
        "process_binary",
        "process_text",
        "stream_data",
    ] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    assert!(registered.iter().all(|r| r.worker_id == worker.worker_id()));
    let ping = &registered
        .iter()
        .find(|r| r.tool.name == "ping")
        .unwrap()
        .tool;
    assert_eq!(ping.description, "Echo back a message with a timestamp.");
    assert_eq!(ping.parameters[0].name, "message");
    assert_eq!(ping.parameters[0].type_name, "string");
    assert!(!ping.parameters[0].required);
    let stream = &registered
        .iter()
        .find(|r| r.tool.name == "stream_data")
        .unwrap()
        .tool;
    assert!(stream.supports_streaming);
    assert_eq!(stream.metadata["supports_streaming"], "true");
    assert_eq!(stream.parameters[0].type_name, "integer");
    let binary = &registered
        .iter()
        .find(|r| r.tool.name == "process_binary")
        .unwrap()
        .tool;
    assert_eq!(binary.parameters[0].type_name, "bytes");

    assert_eq!(worker.ping("hello").await.unwrap(), "Pong from Rust: hello");
    let ending = worker.shutdown().await.unwrap();
    assert!(
        matches!(ending, Ending::StoppedBySigterm(status) if status.code() == Some(0)),
        "{ending:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_showcase_tool_answers_as_the_python_showcase() {
    let host = host().await;
    let worker = launch(&host).await;

    let ping = json_of(call(&worker, "ping", json!({})).await.unwrap());
    assert_eq!(ping["message"], "pong");
    let timestamp: f64 = ping["timestamp"].as_str().unwrap().parse().unwrap();
    assert!(timestamp > 1.7e9);

    let echoed = json_of(
        call(&worker, "echo", json!({"a": 1, "b": [true]}))
            .await
            .unwrap(),
    );
    assert_eq!(echoed, json!({"echoed": {"a": 1, "b": [true]}}));
    let basic = json_of(
        call(&worker, "basic_echo", json!({"message": "hi"}))
            .await
            .unwrap(),
    );
    assert_eq!(basic, json!({"echoed": {"message": "hi"}}));
    let sum = json_of(
        call(&worker, "basic_add", json!({"a": 1, "b": 2}))
            .await
            .unwrap(),
    );
    assert_eq!(sum, json!(3.0));

    let text = json_of(
        call(
            &worker,
            "process_text",
            json!({"text": "Abc", "operation": "reverse"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        text,
        json!({"original": "Abc", "operation": "reverse", "result": "cbA", "success": true})
    );
    let upper = json_of(
        call(&worker, "process_text", json!({"text": "Abc"}))
            .await
            .unwrap(),
    );
    assert_eq!(upper["result"], "ABC");
    let length = json_of(
        call(
            &worker,
            "process_text",
            json!({"text": "héllo", "operation": "length"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(length["result"], 5);
    let unknown = json_of(
        call(
            &worker,
            "process_text",
            json!({"text": "x", "operation": "rot13"}),
        )
        .await
        .unwrap(),
    );
    assert_eq!(unknown["error"], "Unknown operation: rot13");
    assert_eq!(
        unknown["available_operations"],
        json!(["upper", "lower", "reverse", "length"])
    );
    assert_eq!(unknown["success"], false);

    let info = json_of(call(&worker, "adapter_info", json!({})).await.unwrap());
    assert_eq!(info["adapter_name"], "ShowcaseAdapter");
    assert!(info["handlers"]
        .as_array()
        .unwrap()
        .contains(&json!("stream_data")));

    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_translate_into_snakepits_error_structs() {
    let host = host().await;
    let worker = launch(&host).await;
    let cases = [
        (
            "value",
            "Snakepit.Error.ValueError",
            "ValueError",
            "This is a demonstration ValueError",
        ),
        (
            "runtime",
            "Snakepit.Error.RuntimeError",
            "RuntimeError",
            "This is a demonstration RuntimeError",
        ),
        (
            "other",
            "Snakepit.Error.PythonException",
            "Exception",
            "This is a generic exception",
        ),
    ];
    for (kind, module, type_name, message) in cases {
        let error = translated(
            call(&worker, "error_demo", json!({"error_type": kind}))
                .await
                .unwrap_err(),
        );
        assert_eq!(error.module, module);
        assert_eq!(error.type_name, type_name);
        assert_eq!(error.message, message);
        assert_eq!(error.context["tool_name"], "error_demo");
        assert_eq!(error.context["session_id"], worker.session_id());
    }
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_failed_call_and_the_worker_keeps_serving() {
    let host = host().await;
    let worker = launch(&host).await;

    let unknown = translated(
        call(&worker, "no_such_tool_xyz", json!({}))
            .await
            .unwrap_err(),
    );
    assert_eq!(unknown.module, "Snakepit.Error.AttributeError");
    assert!(
        unknown
            .message
            .starts_with("Tool 'no_such_tool_xyz' not found in ShowcaseAdapter"),
        "{}",
        unknown.message
    );

    let missing = translated(
        call(&worker, "basic_add", json!({"a": 1}))
            .await
            .unwrap_err(),
    );
    assert_eq!(missing.module, "Snakepit.Error.TypeError");
    assert_eq!(
        missing.message,
        "tool `basic_add`: missing required parameter `b`; pass it in the call's parameters"
    );

    let wrong = translated(
        call(&worker, "basic_add", json!({"a": 1, "b": "two"}))
            .await
            .unwrap_err(),
    );
    assert_eq!(wrong.module, "Snakepit.Error.TypeError");
    assert!(
        wrong
            .message
            .starts_with("tool `basic_add`: parameter `b` has the wrong type"),
        "{}",
        wrong.message
    );

    let extra = translated(
        call(&worker, "basic_add", json!({"a": 1, "b": 2, "c": 3}))
            .await
            .unwrap_err(),
    );
    assert!(
        extra.message.contains("unexpected parameter `c`"),
        "{}",
        extra.message
    );

    // A parameter whose bytes are not JSON, sent raw.
    let mut client = worker.client();
    let request = raw_request(
        &worker,
        "basic_add",
        &[("a", b"1"), ("b", b"\n\x05hello")],
        false,
    );
    let answer = client.execute_tool(request).await.unwrap().into_inner();
    assert!(!answer.success);
    let ToolFailure::Translated(not_json) = ToolFailure::from_error_message(&answer.error_message)
    else {
        panic!("translated: {}", answer.error_message)
    };
    assert_eq!(not_json.module, "Snakepit.Error.ValueError");
    assert!(
        not_json
            .message
            .starts_with("tool `basic_add`: parameter `b` is not valid JSON"),
        "{}",
        not_json.message
    );

    // Still serving.
    assert_eq!(
        json_of(
            call(&worker, "basic_add", json!({"a": 1, "b": 2}))
                .await
                .unwrap()
        ),
        json!(3.0)
    );
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_chunks_as_the_host_hands_them_to_elixir() {
    let host = host().await;
    let worker = launch(&host).await;
    let mut chunks = Vec::new();
    worker
        .execute_stream(
            "stream_data",
            json!({"count": 3, "delay": 0.0}),
            CallOptions::default(),
            |chunk| {
                chunks.push(Value::Object(chunk));
                ChunkControl::Continue
            },
        )
        .await
        .unwrap();
    assert_eq!(
        chunks,
        [
            json!({"index": 1, "is_final": false, "message": "Chunk 1/3", "total": 3}),
            json!({"index": 2, "is_final": false, "message": "Chunk 2/3", "total": 3}),
            json!({"index": 3, "is_final": true, "message": "Chunk 3/3", "total": 3}),
        ]
    );

    // A stream that fails before its first chunk is a raw gRPC error, as the host sees it.
    let error = worker
        .execute_stream(
            "stream_data",
            json!({"delay": -1.0}),
            CallOptions::default(),
            |_| ChunkControl::Continue,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, CallError::Status { code: tonic::Code::Internal, message, .. } if message.contains("delay must be")),
        "{error}"
    );

    // Halting stops reading; the worker carries on.
    let mut seen = 0;
    worker
        .execute_stream(
            "stream_data",
            json!({"count": 100, "delay": 0.0}),
            CallOptions::default(),
            |_| {
                seen += 1;
                if seen == 2 {
                    ChunkControl::Halt
                } else {
                    ChunkControl::Continue
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(seen, 2);
    assert!(call(&worker, "ping", json!({})).await.is_ok());
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_parameters_and_results() {
    let host = host().await;
    let worker = launch(&host).await;
    let data: Vec<u8> = (0..=255).collect();
    let options = || CallOptions::default().binary_parameter("data", data.clone());
    let checksum = worker
        .execute("process_binary", json!({}), options())
        .await
        .unwrap();
    let Reply::Value(Decoded::Json(info)) = checksum else {
        panic!("{checksum:?}")
    };
    assert_eq!(info["bytes"], 256);
    assert_eq!(
        info["sha256"],
        "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880"
    );

    let reversed = worker
        .execute("process_binary", json!({"operation": "reverse"}), options())
        .await
        .unwrap();
    let Reply::BinaryWith(bytes, Decoded::Json(info)) = reversed else {
        panic!("{reversed:?}")
    };
    assert_eq!(bytes, data.iter().rev().copied().collect::<Vec<u8>>());
    assert_eq!(info["operation"], "reverse");

    // Called as a stream, whose chunks carry JSON only: refused, not answered without its bytes.
    let mut chunks = 0;
    let streamed = worker
        .execute_stream(
            "process_binary",
            json!({"operation": "reverse"}),
            options(),
            |_| {
                chunks += 1;
                ChunkControl::Continue
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&streamed, CallError::Status { code: tonic::Code::Internal, message, .. }
            if message.contains("answered 256 bytes of binary data, which a stream chunk cannot carry")),
        "{streamed}"
    );
    assert_eq!(chunks, 0);
    // a JSON answer of the same tool still streams as one final chunk
    let mut streamed_json = Vec::new();
    worker
        .execute_stream("process_binary", json!({}), options(), |chunk| {
            streamed_json.push(chunk);
            ChunkControl::Continue
        })
        .await
        .unwrap();
    assert_eq!(streamed_json.len(), 1);
    assert_eq!(streamed_json[0]["bytes"], 256);

    let missing = translated(
        call(&worker, "process_binary", json!({}))
            .await
            .unwrap_err(),
    );
    assert!(
        missing
            .message
            .contains("missing required binary parameter `data`"),
        "{}",
        missing.message
    );
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_call_back_into_the_hosts_elixir_tools() {
    let host = host().await;
    let worker = launch(&host).await;
    let options = CallOptions::default().correlation_id("sp-test-correlation");
    let answer = json_of(
        worker
            .execute(
                "call_elixir_demo",
                json!({"tool_name": "calculate_fibonacci", "n": 7}),
                options,
            )
            .await
            .unwrap(),
    );
    assert_eq!(answer["tool"], "calculate_fibonacci");
    assert_eq!(answer["source"], "elixir");
    assert_eq!(
        answer["result"],
        json!({"n": 7, "sequence": [0, 1, 1, 2, 3, 5, 8], "sum": 20})
    );
    // The call back went to the worker's session, carrying the request's correlation id.
    let recorded = host.recorded_calls();
    let last = recorded.last().unwrap();
    assert_eq!(last.session_id, worker.session_id());
    assert_eq!(last.correlation_id.as_deref(), Some("sp-test-correlation"));

    let typed = json_of(
        call(&worker, "elixir_fibonacci", json!({"n": 5}))
            .await
            .unwrap(),
    );
    assert_eq!(typed["sequence"], json!([0, 1, 1, 2, 3]));

    let missing = json_of(
        call(&worker, "call_elixir_demo", json!({"tool_name": "nope"}))
            .await
            .unwrap(),
    );
    assert_eq!(missing["error"], "Elixir tool nope not found");
    assert_eq!(
        missing["available_tools"],
        json!(["calculate_fibonacci", "parse_json", "process_list"])
    );
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_answered_during_long_calls_and_calls_run_concurrently() {
    let host = host().await;
    let worker = std::sync::Arc::new(launch(&host).await);
    let before = worker.heartbeat_stats();
    // Eight calls of 1 s each at once: run concurrently, they end in about 1 s, not 8.
    let started = std::time::Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let worker = worker.clone();
        calls.spawn(async move {
            let args = json!({"count": 2, "delay": 1.0});
            worker
                .execute_stream("stream_data", args, CallOptions::default(), |_| {
                    ChunkControl::Continue
                })
                .await
        });
    }
    while let Some(outcome) = calls.join_next().await {
        outcome.unwrap().unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "calls ran one after another: {:?}",
        started.elapsed()
    );
    let after = worker.heartbeat_stats();
    assert_eq!(after.failed, 0);
    assert!(
        after.answered >= before.answered + 5,
        "{before:?} -> {after:?}"
    );
    std::sync::Arc::into_inner(worker)
        .unwrap()
        .shutdown()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_calls_in_flight_exits_0_and_leaves_no_process() {
    let host = host().await;
    let worker = launch(&host).await;
    let pid = worker.pid();
    // A call in flight when SIGTERM arrives still completes.
    let (call, has_started) = stream_in_flight(&worker, &[("count", b"2"), ("delay", b"0.5")]);
    has_started.await.unwrap();
    let ending = worker.shutdown().await.unwrap();
    assert!(
        matches!(ending, Ending::StoppedBySigterm(status) if status.code() == Some(0)),
        "{ending:?}"
    );
    assert_eq!(call.await.unwrap().unwrap(), 2);
    assert!(!group_alive(pid), "the worker's process group outlived it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_exits_by_itself_when_stdin_closes() {
    let host = host().await;
    let worker = launch(&host).await;
    worker.close_stdin().await;
    let status = worker
        .wait_exit(Duration::from_secs(20))
        .await
        .unwrap()
        .expect("the worker exits");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_exits_by_itself_when_the_host_is_gone() {
    // The host on a runtime of its own, killed as a process would be.
    let host = common::IsolatedHost::start(EmbeddedHost::builder().tools(demo_tools())).await;
    let worker = Launcher::new(showcase_worker())
        // SNAKEPIT_HEARTBEAT_CONFIG: the worker heartbeats the host every 100 ms and gives up
        // after 2 misses in a row. (The launcher's own heartbeats go to the worker, which
        // answers them, so they do not stop it first.)
        .heartbeat(
            HeartbeatConfig::default()
                .with_interval(Duration::from_millis(100))
                .with_timeout(Duration::from_millis(500))
                .with_max_missed(2),
        )
        .launch(host.host())
        .await
        .unwrap();
    // Alive while the host is.
    assert_eq!(
        worker.wait_exit(Duration::from_millis(300)).await.unwrap(),
        None
    );
    host.kill();
    let status = worker
        .wait_exit(Duration::from_secs(20))
        .await
        .unwrap()
        .expect("the worker exits");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grpc_timeout_stops_the_call_and_the_worker_keeps_serving() {
    let host = host().await;
    let worker = launch(&host).await;
    let options = CallOptions::default().timeout(Duration::from_millis(300));
    let error = worker
        .execute_stream(
            "stream_data",
            json!({"count": 3, "delay": 5.0}),
            options,
            |_| ChunkControl::Continue,
        )
        .await
        .unwrap_err();
    // The worker enforces the deadline it was sent (`300m`): DEADLINE_EXCEEDED comes from it
    // (the caller's own limit, a second later, would be `CallError::Timeout`).
    assert!(
        matches!(
            error,
            CallError::Status {
                code: tonic::Code::DeadlineExceeded,
                ..
            }
        ),
        "{error}"
    );
    assert!(call(&worker, "ping", json!({})).await.is_ok());
    worker.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_failures_say_which_step_failed_with_the_workers_last_words() {
    let host = host().await;
    let crash = Launcher::new("sh")
        .args([
            "-c",
            "echo loading the model; echo out of memory >&2; exit 3",
            "worker",
        ])
        .launch(&host)
        .await
        .unwrap_err();
    assert!(
        matches!(crash, LaunchError::ExitedBeforeReady { .. }),
        "{crash}"
    );
    let text = crash.to_string();
    assert!(
        text.contains("exit status: 3") && text.contains("loading the model | out of memory"),
        "{text}"
    );

    let silent = Launcher::new("sh")
        .args(["-c", "echo starting; exec sleep 30", "worker"])
        .ready_timeout(Duration::from_millis(300))
        .launch(&host)
        .await
        .unwrap_err();
    assert!(matches!(silent, LaunchError::NeverReady { .. }), "{silent}");
    assert!(silent.to_string().contains("starting"), "{silent}");

    let missing = Launcher::new("/no/such/worker")
        .launch(&host)
        .await
        .unwrap_err();
    assert!(matches!(missing, LaunchError::Spawn { .. }), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_outlasts_the_grace_period_is_killed_and_reported() {
    let host = host().await;
    let worker = Launcher::new(showcase_worker())
        .graceful_timeout(Duration::from_millis(100))
        .launch(&host)
        .await
        .unwrap();
    let pid = worker.pid();
    // A call in flight keeps the worker finishing it (its own grace is 2 s): longer than the
    // 100 ms this host allows.
    let (_call, has_started) = stream_in_flight(&worker, &[("delay", b"10")]);
    has_started.await.unwrap();
    let error = worker.shutdown().await.unwrap_err();
    assert!(
        matches!(error, LaunchError::IgnoredSigterm { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("ignored SIGTERM for 100ms"),
        "{error}"
    );
    assert!(!group_alive(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_nothing_in_flight_stops_at_once_and_logs_at_the_level_asked() {
    let host = host().await;
    let worker = Launcher::new(showcase_worker())
        .log_level("info")
        .launch(&host)
        .await
        .unwrap();
    assert_eq!(worker.env()["SNAKEPIT_LOG_LEVEL"], "info");
    let output = worker.output_handle();
    worker.shutdown().await.unwrap();
    let printed = output.text();
    assert!(
        printed.contains("INFO") && printed.contains("worker stopped"),
        "{printed}"
    );
    // Nothing held the graceful stop up (the telemetry stream the host keeps open included).
    assert!(!printed.contains("still in flight"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_by_hand_says_where_it_listens() {
    use std::io::BufRead;
    // No ready file and snakepit's default log level (error): only this line is printed.
    let mut child = std::process::Command::new(showcase_worker())
        .args(["--port", "0"])
        .env_remove("SNAKEPIT_READY_FILE")
        .env_remove("SNAKEPIT_LOG_LEVEL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stderr)
            .read_line(&mut line)
            .map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(60), first_line)
        .await
        .expect("the worker printed a line within 60 s")
        .unwrap()
        .unwrap();
    let address = line
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    assert!(line.contains("no SNAKEPIT_READY_FILE"), "{line}");
    // The address it names is the one it serves.
    let mut client = snakepit_bridge::proto::bridge_service_client::BridgeServiceClient::connect(
        format!("http://{address}"),
    )
    .await
    .unwrap();
    let request = snakepit_bridge::proto::ExecuteToolRequest {
        session_id: "s".into(),
        tool_name: "ping".into(),
        ..Default::default()
    };
    assert!(
        client
            .execute_tool(request)
            .await
            .unwrap()
            .into_inner()
            .success
    );
    // SAFETY: kill only sends a signal.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_and_stderr_do_not_kill_the_worker() {
    // The BEAM gone, its end of the output pipe is closed: every write fails with EPIPE.
    let host = host().await;
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("snakepit_ready_pipe_worker_1_1");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = std::process::Command::new(showcase_worker())
        .args(["--port", "0", "--elixir-address", &host.grpc_address()])
        .env("SNAKEPIT_READY_FILE", &ready)
        .env("SNAKEPIT_LOG_LEVEL", "debug")
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let mut port = None;
    for _ in 0..500 {
        if let Ok(text) = std::fs::read_to_string(&ready) {
            port = text.trim().parse::<u16>().ok();
            if port.is_some() {
                break;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the worker died: {status}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let port = port.expect("the worker got ready");
    let mut client = snakepit_bridge::proto::bridge_service_client::BridgeServiceClient::connect(
        format!("http://127.0.0.1:{port}"),
    )
    .await
    .unwrap();
    // Calls that log (at debug) and fail (logged at info) still answer.
    for tool in ["ping", "no_such_tool"] {
        let request = snakepit_bridge::proto::ExecuteToolRequest {
            session_id: "s".into(),
            tool_name: tool.into(),
            ..Default::default()
        };
        client.execute_tool(request).await.unwrap();
    }
    assert!(child.try_wait().unwrap().is_none(), "the worker is alive");
    // SAFETY: kill only sends a signal.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
