//! The blocking context, used from plain threads, against a host on its own runtime.

use crate::common::{self, SESSION};

use std::time::Duration;

use serde_json::json;
use snakepit_bridge::blocking::SessionContext;
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::Error;

/// A host on a runtime of its own, so the test thread stays outside any runtime.
fn host() -> (tokio::runtime::Runtime, EmbeddedHost) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let host = runtime
        .block_on(
            EmbeddedHost::builder()
                .tools(demo_tools())
                .session(SESSION)
                .start(),
        )
        .unwrap();
    (runtime, host)
}

#[test]
fn lists_and_calls_tools_without_async() {
    let (_runtime, host) = host();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION).unwrap();
    assert_eq!(ctx.elixir_tools().unwrap().len(), 3);
    let result = ctx
        .call_elixir_tool(
            "process_list",
            json!({"list": [4, 9, 2], "operation": "max"}),
        )
        .unwrap();
    assert_eq!(result["result"], json!(9));
    let sum: serde_json::Value = ctx
        .call_elixir_tool_as("calculate_fibonacci", &json!({"n": 4}))
        .unwrap();
    assert_eq!(sum["sum"], json!(4));
    assert_eq!(ctx.ping("x").unwrap(), "pong: x");
    assert!(ctx.heartbeat().unwrap());
    assert_eq!(
        ctx.get_session().unwrap().tool_count,
        0,
        "as snakepit counts"
    );
    ctx.cleanup().unwrap();
    assert!(!ctx.heartbeat().unwrap());
}

#[test]
fn clones_work_from_many_threads() {
    let (_runtime, host) = host();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION).unwrap();
    let threads: Vec<_> = (1..=8u64)
        .map(|n| {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                let result = ctx
                    .call_elixir_tool("calculate_fibonacci", json!({"n": n}))
                    .unwrap();
                assert_eq!(result["n"], json!(n));
                assert_eq!(result["sequence"].as_array().unwrap().len() as u64, n);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn errors_are_the_same_as_async() {
    let (_runtime, host) = host();
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .call_timeout(Duration::from_secs(5))
        .connect_blocking()
        .unwrap();
    let error = ctx.call_elixir_tool("parse_jsn", json!({})).unwrap_err();
    assert!(
        matches!(error, Error::ToolNotFound { suggestion: Some(ref s), .. } if s == "parse_json"),
        "{error:?}"
    );
}

#[test]
fn works_inside_spawn_blocking_and_even_inside_an_async_task() {
    let (runtime, host) = host();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION).unwrap();
    let from_blocking_pool = runtime.block_on({
        let ctx = ctx.clone();
        async move {
            tokio::task::spawn_blocking(move || ctx.ping("pool"))
                .await
                .unwrap()
        }
    });
    assert_eq!(from_blocking_pool.unwrap(), "pong: pool");
    // Not recommended (it blocks the task's thread), but it answers rather than panicking.
    let inside_task = runtime.block_on(async { ctx.ping("task") });
    assert_eq!(inside_task.unwrap(), "pong: task");
    // Connecting from inside a runtime works as well.
    let connected = runtime.block_on({
        let address = host.grpc_address();
        async move {
            tokio::task::spawn_blocking(move || SessionContext::connect(address, SESSION))
                .await
                .unwrap()
        }
    });
    assert!(connected.unwrap().heartbeat().unwrap());
    // Dropping the last clone inside a runtime must not panic either.
    runtime.block_on(async move { drop(ctx) });
}

#[test]
fn connecting_to_nothing_is_an_error_not_a_hang() {
    let (_held, address) = common::unused_address();
    let error = SessionContext::builder(&address, SESSION)
        .connect_timeout(Duration::from_secs(2))
        .connect_blocking()
        .unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
}
