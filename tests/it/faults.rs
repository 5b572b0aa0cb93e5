//! Faults a long-lived worker meets: the host dies, restarts, is slow, or is flooded. Each over
//! TCP against the embedded host running on its own runtime.

use std::time::Duration;

use crate::common::{IsolatedHost, SESSION};
use serde_json::json;
use snakepit_bridge::testkit::host::{demo_tools, ElixirTool, EmbeddedHost};
use snakepit_bridge::{Error, SessionContext};

fn slow_tool() -> ElixirTool {
    ElixirTool::new_async("slow", |_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(json!("late"))
    })
}

fn builder() -> snakepit_bridge::testkit::host::EmbeddedHostBuilder {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .tool(slow_tool())
        .session(SESSION)
}

/// Waits until the host has received `count` execute requests.
async fn wait_for_calls(host: &EmbeddedHost, count: usize) {
    for _ in 0..500 {
        if host.recorded_calls().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the host never received the call");
}

#[tokio::test]
async fn a_host_killed_during_a_call_fails_the_call_without_waiting_for_the_timeout() {
    let host = IsolatedHost::start(builder()).await;
    let ctx = SessionContext::builder(host.address().to_string(), SESSION)
        .call_timeout(Duration::from_secs(60))
        .connect()
        .await
        .unwrap();
    let call = tokio::spawn({
        let ctx = ctx.clone();
        async move { ctx.call_elixir_tool("slow", json!({})).await }
    });
    wait_for_calls(host.host(), 1).await;
    host.kill();
    let outcome = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the call ends when the host dies, long before its 60 s timeout")
        .unwrap();
    match outcome {
        Err(Error::Status { code, .. }) => assert_ne!(code, tonic::Code::Ok),
        other => panic!("expected a transport failure, got {other:?}"),
    }
}

#[tokio::test]
async fn the_same_context_works_again_after_the_host_restarts_on_its_address() {
    let host = IsolatedHost::start(builder()).await;
    let address = host.address();
    let ctx = SessionContext::connect(address.to_string(), SESSION)
        .await
        .unwrap();
    assert_eq!(
        ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 3}))
            .await
            .unwrap()["sum"],
        2
    );

    host.kill();
    let down = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 3}))
        .await;
    assert!(down.is_err(), "no host, no answer: {down:?}");

    let restarted = IsolatedHost::restart_on(builder, address).await;
    let result = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 4}))
        .await
        .unwrap();
    assert_eq!(result["sum"], 4);
    drop(restarted);
}

#[tokio::test]
async fn a_dropped_call_leaves_the_context_usable() {
    let host = IsolatedHost::start(builder()).await;
    let ctx = SessionContext::connect(host.address().to_string(), SESSION)
        .await
        .unwrap();
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        ctx.call_elixir_tool("slow", json!({})),
    )
    .await;
    assert!(
        abandoned.is_err(),
        "the slow call was still running and was dropped"
    );
    for n in 1..=5u64 {
        let result = ctx
            .call_elixir_tool("calculate_fibonacci", json!({"n": n}))
            .await
            .unwrap();
        assert_eq!(result["n"], n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_calls_each_get_their_own_result() {
    let echo = ElixirTool::new("echo", |params| {
        Ok(json!({"id": params.get("id").cloned()}))
    })
    .required("id", "integer");
    let host = IsolatedHost::start(EmbeddedHost::builder().tool(echo).session(SESSION)).await;
    let ctx = SessionContext::connect(host.address().to_string(), SESSION)
        .await
        .unwrap();

    const CALLS: u64 = 10_000;
    let tasks: Vec<_> = (0..CALLS)
        .map(|id| {
            let ctx = ctx.clone();
            tokio::spawn(async move { (id, ctx.call_elixir_tool("echo", json!({"id": id})).await) })
        })
        .collect();
    let mut answered = vec![false; CALLS as usize];
    for task in tasks {
        let (id, result) = task.await.unwrap();
        let result = result.unwrap_or_else(|error| panic!("call {id} failed: {error}"));
        assert_eq!(
            result,
            json!({"id": id}),
            "call {id} got another call's result"
        );
        assert!(!answered[id as usize], "call {id} answered twice");
        answered[id as usize] = true;
    }
    assert!(answered.iter().all(|&done| done));
    assert_eq!(
        host.host().recorded_calls().len(),
        1024,
        "the host keeps the last 1,024 calls"
    );
}

#[tokio::test]
async fn a_request_over_the_size_limit_names_the_limit_and_how_to_raise_it() {
    let host = IsolatedHost::start(builder()).await;
    let ctx = SessionContext::builder(host.address().to_string(), SESSION)
        .max_message_size(16 * 1024)
        .connect()
        .await
        .unwrap();
    let error = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "x".repeat(64 * 1024)}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("16384"), "{text}");
    assert!(text.contains("max_message_size"), "{text}");
    assert!(
        host.host().recorded_calls().is_empty(),
        "the request was never sent"
    );
}

#[tokio::test]
async fn a_host_with_a_smaller_limit_refuses_a_large_request_clearly() {
    let host = IsolatedHost::start(builder().max_message_size(16 * 1024)).await;
    let ctx = SessionContext::connect(host.address().to_string(), SESSION)
        .await
        .unwrap();
    let error = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "x".repeat(64 * 1024)}))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error:?}");
}
