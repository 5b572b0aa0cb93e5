//! The async session context against the embedded host over TCP: every RPC a worker calls and
//! every error it can meet.

use crate::common::{self, demo_host, demo_host_and_context, unused_address, SESSION};

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use snakepit_bridge::testkit::host::{ElixirTool, ElixirToolOutput, EmbeddedHost};
use snakepit_bridge::{Error, SessionContext, CORRELATION_HEADER};

#[derive(Debug, Deserialize, PartialEq)]
struct Fibonacci {
    n: u32,
    sequence: Vec<u64>,
    sum: u64,
}

#[tokio::test]
async fn lists_the_exposed_tools_with_their_parameter_specs() {
    let (_host, ctx) = demo_host_and_context().await;
    let tools = ctx.elixir_tools().await.unwrap();
    assert_eq!(
        tools.keys().collect::<Vec<_>>(),
        ["calculate_fibonacci", "parse_json", "process_list"]
    );
    // As a real snakepit v0.13 host lists snakepit's example (`examples/bidirectional_tools_demo.exs`).
    let process_list = &tools["process_list"];
    assert_eq!(
        process_list.description,
        "Process a list with various operations"
    );
    assert_eq!(process_list.metadata["exposed_to_python"], "true");
    assert_eq!(
        process_list.metadata["description"],
        process_list.description
    );
    let operation = process_list.parameter("operation").unwrap();
    assert_eq!(operation.type_name, "string");
    assert!(!operation.required);
    assert_eq!(operation.default, None);
    let list = process_list.parameter("list").unwrap();
    assert_eq!((list.type_name.as_str(), list.required), ("array", true));
    assert_eq!(
        tools["calculate_fibonacci"].description,
        "Calculate Fibonacci sequence up to n numbers"
    );
}

#[tokio::test]
async fn calls_a_tool_with_json_parameters() {
    let (_host, ctx) = demo_host_and_context().await;
    let result = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 10}))
        .await
        .unwrap();
    assert_eq!(
        result,
        json!({"n": 10, "sequence": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34], "sum": 88})
    );
}

#[tokio::test]
async fn string_parameters_reach_the_host_as_strings() {
    // The case snakepit's own Python client gets wrong against a real host.
    let (_host, ctx) = demo_host_and_context().await;
    let result = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "{\"a\": [1, 2]}"}))
        .await
        .unwrap();
    assert_eq!(
        result,
        json!({"success": true, "data": {"a": [1, 2]}, "keys": ["a"], "size": 1})
    );
}

#[tokio::test]
async fn decodes_results_into_a_type_from_a_struct_of_parameters() {
    #[derive(Serialize)]
    struct Args<'a> {
        list: &'a [f64],
        operation: &'a str,
    }
    #[derive(Deserialize)]
    struct ListResult {
        operation: String,
        result: f64,
    }
    let (_host, ctx) = demo_host_and_context().await;
    let fib: Fibonacci = ctx
        .call_elixir_tool_as("calculate_fibonacci", &json!({"n": 5}))
        .await
        .unwrap();
    assert_eq!(
        fib,
        Fibonacci {
            n: 5,
            sequence: vec![0, 1, 1, 2, 3],
            sum: 7
        }
    );
    let mean: ListResult = ctx
        .call_elixir_tool_as(
            "process_list",
            &Args {
                list: &[1.0, 2.0, 4.5],
                operation: "mean",
            },
        )
        .await
        .unwrap();
    assert_eq!((mean.operation.as_str(), mean.result), ("mean", 2.5));
}

#[tokio::test]
async fn the_raw_call_returns_metadata_and_execution_time() {
    let (_host, ctx) = demo_host_and_context().await;
    let response = ctx
        .call_elixir_tool_raw("calculate_fibonacci", json!({"n": 3}))
        .await
        .unwrap();
    assert_eq!(response.tool(), "calculate_fibonacci");
    assert_eq!(
        response.result_bytes(),
        br#"{"n":3,"sequence":[0,1,1],"sum":2}"#
    );
    assert_eq!(response.result_type_url(), snakepit_bridge::JSON_TYPE_URL);
    let reported: u64 = response.metadata()["execution_time"].parse().unwrap();
    assert_eq!(Duration::from_millis(reported), response.execution_time());
    assert!(response.binary_result().is_empty());
}

#[tokio::test]
async fn binary_results_arrive_in_binary_result() {
    let tool = ElixirTool::new("render", |_| {
        Ok(ElixirToolOutput::Binary {
            data: vec![0x89, b'P', b'N', b'G', 0].into(),
            info: json!({"format": "png"}),
        })
    });
    let (_host, ctx) = common::host_and_context([tool]).await;
    let response = ctx.call_elixir_tool_raw("render", json!({})).await.unwrap();
    assert_eq!(&response.binary_result()[..], &[0x89, b'P', b'N', b'G', 0]);
    assert_eq!(response.value().unwrap(), json!({"format": "png"}));
}

#[tokio::test]
async fn an_unknown_tool_fails_before_any_execute_request_with_a_suggestion() {
    let (host, ctx) = demo_host_and_context().await;
    let error = ctx
        .call_elixir_tool("calculate_fibonaci", json!({"n": 1}))
        .await
        .unwrap_err();
    match &error {
        Error::ToolNotFound {
            tool,
            session,
            available,
            suggestion,
        } => {
            assert_eq!(tool, "calculate_fibonaci");
            assert_eq!(session, SESSION);
            assert_eq!(
                available,
                &["calculate_fibonacci", "parse_json", "process_list"]
            );
            assert_eq!(suggestion.as_deref(), Some("calculate_fibonacci"));
        }
        other => panic!("expected ToolNotFound, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("did you mean `calculate_fibonacci`?"),
        "{error}"
    );
    assert!(
        host.recorded_calls().is_empty(),
        "no execute request may be sent"
    );
}

#[tokio::test]
async fn an_invalid_tool_name_is_rejected_before_sending() {
    let (host, ctx) = demo_host_and_context().await;
    let error = ctx
        .call_elixir_tool("bad name!", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::InvalidToolName { ref name, .. } if name == "bad name!"),
        "{error:?}"
    );
    assert!(host.recorded_calls().is_empty());
}

#[tokio::test]
async fn a_raising_tool_gives_the_hosts_message() {
    let (_host, ctx) = demo_host_and_context().await;
    // A string for `n`: the Elixir function's range raises, as on a real host.
    let error = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": "5"}))
        .await
        .unwrap_err();
    match error {
        Error::ToolFailed { tool, message } => {
            assert_eq!(tool, "calculate_fibonacci");
            assert_eq!(
                message,
                r#"Tool execution failed: ranges (first..last) expect both sides to be integers, got: 3.."5""#
            );
        }
        other => panic!("expected ToolFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_panicking_tool_is_a_failed_call_and_the_host_keeps_serving() {
    let tool = ElixirTool::new("explode", |_| -> Result<serde_json::Value, String> {
        panic!("boom")
    });
    let host = EmbeddedHost::builder()
        .tool(tool)
        .tools(snakepit_bridge::testkit::host::demo_tools())
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .unwrap();
    let error = ctx
        .call_elixir_tool("explode", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ToolFailed { message, .. } if message == "Tool execution failed: boom"),
        "{error:?}"
    );
    assert!(ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 1}))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_tool_removed_after_listing_gives_the_hosts_not_found_text() {
    let (host, ctx) = demo_host_and_context().await;
    ctx.elixir_tools().await.unwrap();
    assert!(host.remove_tool(SESSION, "parse_json"));
    let error = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "{}"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ToolFailed { message, .. } if message == "Tool parse_json not found for session test-session"),
        "{error:?}"
    );
    // Refreshing the list turns it into a local not-found error.
    let tools = ctx.refresh_elixir_tools().await.unwrap();
    assert!(!tools.contains_key("parse_json"));
    let error = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "{}"}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ToolNotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn the_tool_list_is_cached_until_refreshed() {
    let (host, ctx) = demo_host_and_context().await;
    assert_eq!(ctx.elixir_tools().await.unwrap().len(), 3);
    host.expose(SESSION, ElixirTool::new("late", |_| Ok(json!("here"))))
        .unwrap();
    assert_eq!(ctx.elixir_tools().await.unwrap().len(), 3, "cached");
    assert_eq!(ctx.refresh_elixir_tools().await.unwrap().len(), 4);
    assert_eq!(
        ctx.call_elixir_tool("late", json!({})).await.unwrap(),
        json!("here")
    );
}

#[tokio::test]
async fn a_tool_registered_after_the_list_was_fetched_is_found_on_its_first_call() {
    let (host, ctx) = demo_host_and_context().await;
    assert_eq!(ctx.elixir_tools().await.unwrap().len(), 3);
    let before = host.requests("GetExposedElixirTools");
    host.expose(SESSION, ElixirTool::new("late", |_| Ok(json!("here"))))
        .unwrap();
    assert_eq!(
        ctx.call_elixir_tool("late", json!({})).await.unwrap(),
        json!("here")
    );
    assert_eq!(
        host.requests("GetExposedElixirTools") - before,
        1,
        "one fetch on the miss"
    );
    // Found in the cache from then on; a tool the host still lacks costs one fetch a call.
    ctx.call_elixir_tool("late", json!({})).await.unwrap();
    assert_eq!(host.requests("GetExposedElixirTools") - before, 1);
    let error = ctx.call_elixir_tool("never", json!({})).await.unwrap_err();
    assert!(matches!(error, Error::ToolNotFound { .. }), "{error:?}");
    assert_eq!(host.requests("GetExposedElixirTools") - before, 2);
    assert_eq!(host.requests("ExecuteElixirTool"), 2);
}

#[tokio::test]
async fn an_unknown_session_lists_no_tools_and_says_so_on_call() {
    let host = demo_host().await;
    let ctx = SessionContext::connect(host.grpc_address(), "nobody")
        .await
        .unwrap();
    assert!(ctx.elixir_tools().await.unwrap().is_empty());
    let error = ctx
        .call_elixir_tool("parse_json", json!({}))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("lists no tools at all"),
        "{error}"
    );
}

#[tokio::test]
async fn parameters_that_are_not_an_object_are_an_error_naming_what_was_given() {
    let (host, ctx) = demo_host_and_context().await;
    let error = ctx
        .call_elixir_tool("calculate_fibonacci", json!([10]))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidParameters { parameter: None, reason, .. } if reason.contains("an array")),
        "{error:?}"
    );
    let error = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": f64::NAN}))
        .await;
    // `json!` already turned NaN into null: the value is sent as null, which is JSON (what the
    // tool makes of it is the tool's business).
    assert!(
        !matches!(error, Err(Error::InvalidParameters { .. })),
        "{error:?}"
    );
    assert_eq!(
        host.recorded_calls().last().unwrap().parameters["n"].value,
        b"null"
    );
    #[derive(Serialize)]
    struct Args {
        n: f64,
    }
    let error = ctx
        .call_elixir_tool("calculate_fibonacci", Args { n: f64::NAN })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidParameters { parameter: Some(p), .. } if p == "n"),
        "{error:?}"
    );
    assert_eq!(host.recorded_calls().len(), 1);
}

#[tokio::test]
async fn an_unencodable_result_carries_the_raw_text() {
    let tool = ElixirTool::new("term", |_| {
        Ok(ElixirToolOutput::Unencodable("%{pid: #PID<0.42.0>}".into()))
    });
    let (_host, ctx) = common::host_and_context([tool]).await;
    match ctx.call_elixir_tool("term", json!({})).await.unwrap_err() {
        Error::UndecodableResult { tool, raw, .. } => {
            assert_eq!(tool, "term");
            assert_eq!(raw, "%{pid: #PID<0.42.0>}");
        }
        other => panic!("expected UndecodableResult, got {other:?}"),
    }
}

#[tokio::test]
async fn a_result_of_the_wrong_shape_names_the_tool_and_type() {
    let (_host, ctx) = demo_host_and_context().await;
    let error = ctx
        .call_elixir_tool_as::<Vec<String>, _>("calculate_fibonacci", &json!({"n": 2}))
        .await
        .unwrap_err();
    match &error {
        Error::UnexpectedResult { tool, expected, .. } => {
            assert_eq!(tool, "calculate_fibonacci");
            assert!(
                expected.contains("Vec<alloc::string::String>"),
                "{expected}"
            );
        }
        other => panic!("expected UnexpectedResult, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_tool_times_out_naming_the_tool_and_limit() {
    let slow = ElixirTool::new_async("slow", |_| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(json!(null))
    });
    let host = EmbeddedHost::builder()
        .tool(slow)
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .call_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let error = ctx.call_elixir_tool("slow", json!({})).await.unwrap_err();
    match &error {
        Error::Timeout { operation, limit } => {
            assert!(operation.contains("`slow`"), "{operation}");
            assert_eq!(*limit, Duration::from_millis(200));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn connecting_to_nothing_fails_with_the_address() {
    let (_held, address) = unused_address();
    let error = SessionContext::builder(&address, SESSION)
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    match &error {
        Error::Connect { address: tried, .. } => assert_eq!(tried, &address),
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(error.to_string().contains(&address), "{error}");
}

#[tokio::test]
async fn ping_heartbeat_and_sessions() {
    let (host, ctx) = demo_host_and_context().await;
    assert_eq!(ctx.ping("hello").await.unwrap(), "pong: hello");
    assert!(ctx.heartbeat().await.unwrap());

    let info = ctx.get_session().await.unwrap();
    assert_eq!(info.session_id, SESSION);
    // As snakepit answers: its sessions count no tools (they live in its ToolRegistry).
    assert_eq!(info.tool_count, 0);
    assert!(info.created_at.is_some());

    let fresh = SessionContext::connect(host.grpc_address(), "fresh")
        .await
        .unwrap();
    assert!(!fresh.heartbeat().await.unwrap());
    let error = fresh.get_session().await.unwrap_err();
    assert!(
        matches!(&error, Error::Status { code: tonic::Code::NotFound, message, .. } if message == "Session not found: fresh"),
        "{error:?}"
    );
    let available = fresh
        .initialize_session([("worker", "rust")])
        .await
        .unwrap();
    // snakepit lists no tools in its answer; the session has them all the same.
    assert!(available.is_empty(), "{available:?}");
    assert_eq!(
        fresh.elixir_tools().await.unwrap().len(),
        3,
        "new sessions get the host's tools"
    );
    assert!(
        fresh
            .initialize_session([("worker", "other")])
            .await
            .unwrap()
            .is_empty(),
        "idempotent"
    );
    assert_eq!(
        fresh.get_session().await.unwrap().metadata["worker"],
        "rust"
    );
    assert!(fresh.heartbeat().await.unwrap());

    fresh.cleanup().await.unwrap();
    assert!(!host.has_session("fresh"));
    fresh.cleanup().await.unwrap();
}

#[tokio::test]
async fn an_empty_session_id_is_refused_by_initialize_session() {
    let host = demo_host().await;
    let ctx = SessionContext::connect(host.grpc_address(), "")
        .await
        .unwrap();
    let error = ctx
        .initialize_session(Vec::<(String, String)>::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Status { code: tonic::Code::Internal, message, .. } if message == "invalid_id"),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_session_quota_is_enforced() {
    let host = EmbeddedHost::builder()
        .max_sessions(1)
        .session("only")
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::connect(host.grpc_address(), "second")
        .await
        .unwrap();
    let error = ctx
        .initialize_session(Vec::<(String, String)>::new())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("session_quota_exceeded"),
        "{error}"
    );
}

#[tokio::test]
async fn metadata_and_correlation_ids_travel_as_headers() {
    let host = demo_host().await;
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .metadata("x-team", "search")
        .correlation_id("builder-id")
        .connect()
        .await
        .unwrap();
    ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 1}))
        .await
        .unwrap();
    ctx.with_correlation_id("per-call-id")
        .unwrap()
        .call_elixir_tool("calculate_fibonacci", json!({"n": 1}))
        .await
        .unwrap();
    let calls = host.recorded_calls();
    assert_eq!(calls[0].headers["x-team"], "search");
    assert_eq!(calls[0].headers[CORRELATION_HEADER], "builder-id");
    assert_eq!(calls[0].correlation_id.as_deref(), Some("builder-id"));
    assert_eq!(calls[1].correlation_id.as_deref(), Some("per-call-id"));
    assert_eq!(calls[1].headers["x-team"], "search");
}

#[tokio::test]
async fn results_above_tonics_default_4_mib_are_received() {
    let big = ElixirTool::new("big", |_| Ok(json!("x".repeat(6 * 1024 * 1024))));
    let (host, ctx) = common::host_and_context([big]).await;
    let value = ctx.call_elixir_tool("big", json!({})).await.unwrap();
    assert_eq!(value.as_str().map(str::len), Some(6 * 1024 * 1024));

    let limited = SessionContext::builder(host.grpc_address(), SESSION)
        .max_message_size(1024 * 1024)
        .connect()
        .await
        .unwrap();
    let error = limited
        .call_elixir_tool("big", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("max_message_size"), "{error}");
}

#[tokio::test]
async fn the_deadline_reaches_the_host_only_when_asked() {
    let host = demo_host().await;
    for propagate in [false, true] {
        let ctx = SessionContext::builder(host.grpc_address(), SESSION)
            .call_timeout(Duration::from_secs(7))
            .propagate_deadline(propagate)
            .connect()
            .await
            .unwrap();
        ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 1}))
            .await
            .unwrap();
        let call = host.recorded_calls().pop().unwrap();
        match call.headers.get("grpc-timeout") {
            Some(timeout) => {
                assert!(propagate, "sent without being asked: {timeout}");
                assert!(
                    timeout.ends_with('u') || timeout.ends_with('m') || timeout.ends_with('S'),
                    "{timeout}"
                );
            }
            None => assert!(!propagate, "asked for, but not sent"),
        }
    }
}

#[tokio::test]
async fn a_peer_that_accepts_but_never_answers_fails_within_the_connect_timeout() {
    // The kernel accepts connections into the backlog; nothing ever speaks HTTP/2.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let error = SessionContext::builder(&address, SESSION)
        .connect_timeout(Duration::from_millis(500))
        .call_timeout(Duration::from_secs(600))
        .connect()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, snakepit_bridge::Error::Connect { .. }),
        "{text}"
    );
    assert!(text.contains("did not answer as a gRPC server"), "{text}");
    assert!(
        text.contains("is this the port of a snakepit host?"),
        "{text}"
    );
    drop(listener);
}

#[tokio::test]
async fn dynamic_calls_are_checked_against_the_tool_list_before_sending() {
    let (host, ctx) = demo_host_and_context().await;
    // The Python guide's `data` for `process_list`'s `list`.
    let error = ctx
        .call_elixir_tool("process_list", json!({"data": [1, 2]}))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(&error, Error::InvalidParameters { tool, parameter: Some(p), .. } if tool == "process_list" && p == "data"),
        "{text}"
    );
    assert!(
        text.contains("is not a parameter of the tool (it declares `list`, `operation`)"),
        "{text}"
    );

    let error = ctx
        .call_elixir_tool("process_list", json!({"lists": [1]}))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("did you mean `list`?"),
        "{error}"
    );

    let error = ctx
        .call_elixir_tool("process_list", json!({"operation": "sum"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidParameters { parameter: Some(p), reason, .. } if p == "list" && reason.contains("is required by the tool")),
        "{error}"
    );
    assert!(host.recorded_calls().is_empty(), "nothing was sent");

    // The check can be turned off: the host then sees the call as made.
    let unchecked = SessionContext::builder(host.grpc_address(), SESSION)
        .check_parameters(false)
        .connect()
        .await
        .unwrap();
    let _ = unchecked
        .call_elixir_tool("process_list", json!({"data": [1, 2]}))
        .await;
    assert_eq!(host.recorded_calls().len(), 1);
}
