//! Many tasks over one context: one connection, one tool-list fetch, every answer to its caller.

use crate::common::{self, SESSION};

use std::sync::Arc;

use serde_json::json;
use snakepit_bridge::testkit::host::{ElixirTool, EmbeddedHost};
use snakepit_bridge::SessionContext;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_their_own_result() {
    let echo = ElixirTool::new_async("echo", |params| async move {
        // Yield so that calls interleave on the host.
        tokio::task::yield_now().await;
        Ok(json!({"id": params.get("id").cloned()}))
    })
    .required("id", "integer");
    let (_host, ctx) = common::host_and_context([echo]).await;

    let tasks: Vec<_> = (0..500u64)
        .map(|id| {
            let ctx = ctx.clone();
            tokio::spawn(async move { (id, ctx.call_elixir_tool("echo", json!({"id": id})).await) })
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for task in tasks {
        let (id, result) = task.await.unwrap();
        assert_eq!(result.unwrap(), json!({"id": id}));
        assert!(seen.insert(id));
    }
    assert_eq!(seen.len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_uses_of_the_tool_list_fetch_it_once() {
    let host = EmbeddedHost::builder()
        .tools(snakepit_bridge::testkit::host::demo_tools())
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .unwrap();
    // Connecting does not fetch the list; the first uses below do.
    let before = host.requests("GetExposedElixirTools");
    // All tasks start together, so their first uses overlap.
    let start = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let ctx = ctx.clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                ctx.elixir_tools().await.unwrap()
            })
        })
        .collect();
    let mut lists = Vec::new();
    for task in tasks {
        lists.push(task.await.unwrap());
    }
    assert_eq!(
        host.requests("GetExposedElixirTools") - before,
        1,
        "32 concurrent first uses must share one GetExposedElixirTools request"
    );
    assert!(lists.windows(2).all(|pair| Arc::ptr_eq(&pair[0], &pair[1])));
    // Later uses are served from the cache too.
    host.expose(SESSION, ElixirTool::new("late", |_| Ok(json!(1))))
        .unwrap();
    assert!(!ctx.elixir_tools().await.unwrap().contains_key("late"));
    assert_eq!(host.requests("GetExposedElixirTools") - before, 1);
}

#[test]
fn contexts_are_clone_send_and_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<SessionContext>();
    shareable::<snakepit_bridge::blocking::SessionContext>();
}
