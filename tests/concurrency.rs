//! Many tasks over one context: one connection, one tool-list fetch, every answer to its caller.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::SESSION;
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
    // Count GetExposedElixirTools requests by counting calls to a tool registered after the
    // first fetch: if the list were fetched twice, the late tool would be visible.
    let fetches = Arc::new(AtomicUsize::new(0));
    let host = EmbeddedHost::builder()
        .tools(snakepit_bridge::testkit::host::demo_tools())
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let ctx = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let ctx = ctx.clone();
            let fetches = fetches.clone();
            tokio::spawn(async move {
                let tools = ctx.elixir_tools().await.unwrap();
                fetches.fetch_add(1, Ordering::SeqCst);
                tools
            })
        })
        .collect();
    let mut lists = Vec::new();
    for task in tasks {
        lists.push(task.await.unwrap());
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 32);
    // Every task got the very same cached list, which only one fetch can produce.
    assert!(lists.windows(2).all(|pair| Arc::ptr_eq(&pair[0], &pair[1])));
    host.expose(SESSION, ElixirTool::new("late", |_| Ok(json!(1))))
        .unwrap();
    assert!(!ctx.elixir_tools().await.unwrap().contains_key("late"));
}

#[test]
fn contexts_are_clone_send_and_sync() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<SessionContext>();
    shareable::<snakepit_bridge::blocking::SessionContext>();
}
