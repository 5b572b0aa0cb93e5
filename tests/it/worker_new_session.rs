//! A call in a session the host has never seen (no `InitializeSession` first): the worker opens
//! the session on the host before the tool runs, as snakepit's Python worker does on every call
//! (priv/python/grpc_server.py `ExecuteTool`: "Ensure session exists in Elixir"), so the tool's
//! calls back into Elixir work and the tools are registered there, once per session.

use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::worker::{ToolContext, ToolError, Worker, WorkerConfig};
use snakepit_bridge::worker_tools;
use tonic::transport::Channel;

use crate::common::{client, execute, loopback_listener};

struct Tools;

#[worker_tools]
impl Tools {
    /// Asks Elixir for the first `n` Fibonacci numbers.
    pub async fn fibonacci(&self, ctx: &ToolContext, n: u32) -> Result<Value, ToolError> {
        Ok(ctx
            .elixir()?
            .call_elixir_tool("calculate_fibonacci", json!({ "n": n }))
            .await?)
    }
}

async fn start() -> (EmbeddedHost, BridgeServiceClient<Channel>) {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .expect("the host starts");
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    let mut config = WorkerConfig::from_args_and_env(&[], &Default::default()).unwrap();
    config.elixir_address = Some(host.grpc_address());
    tokio::spawn(Worker::new(Tools).config(config).listener(listener).serve());
    (host, client(address).await)
}

/// `fibonacci(n)` in `session`; the answer's JSON, or the failure's message.
async fn fibonacci(
    mut client: BridgeServiceClient<Channel>,
    session: &str,
    n: u32,
) -> Result<Value, String> {
    let answer = execute(&mut client, session, "fibonacci", json!({ "n": n })).await;
    if answer.success {
        Ok(serde_json::from_slice(&answer.result.expect("a result").value).unwrap())
    } else {
        Err(answer.error_message)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_call_in_a_session_the_host_never_saw_opens_it_there_and_registers_once() {
    let (host, client) = start().await;
    assert!(!host.has_session("fresh-session"));

    let answer = fibonacci(client.clone(), "fresh-session", 5)
        .await
        .expect("the call back into Elixir works in a new session");
    assert_eq!(answer["sequence"], json!([0, 1, 1, 2, 3]), "{answer}");
    assert!(host.has_session("fresh-session"));
    let registered: Vec<String> = host
        .worker_tools("fresh-session")
        .into_iter()
        .map(|tool| tool.tool.name)
        .collect();
    assert_eq!(registered, ["fibonacci"]);

    // Later calls in the session neither open it again nor register again.
    let (opened, registrations) = (
        host.requests("InitializeSession"),
        host.requests("RegisterTools"),
    );
    assert_eq!((opened, registrations), (1, 1));
    fibonacci(client.clone(), "fresh-session", 3).await.unwrap();
    assert_eq!(host.requests("InitializeSession"), opened);
    assert_eq!(host.requests("RegisterTools"), registrations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_calls_in_a_new_session_all_work_and_register_once() {
    let (host, client) = start().await;
    let calls: Vec<_> = (0..8)
        .map(|n| tokio::spawn(fibonacci(client.clone(), "busy-session", n)))
        .collect();
    for call in calls {
        call.await.unwrap().expect("every first call works");
    }
    assert_eq!(host.requests("InitializeSession"), 1);
    assert_eq!(host.requests("RegisterTools"), 1);
    assert_eq!(host.worker_tools("busy-session").len(), 1);
}
