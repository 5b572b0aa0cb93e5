//! What a worker costs per session: the tools' definitions are built once, not for each
//! session's registration or each unknown-tool error, and a worker runs one heartbeat task and
//! one timer task whatever the number of sessions, while each session still gets its own
//! heartbeats (the host keeps a session alive by them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::CleanupSessionRequest;
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::worker::{
    Answer, IntoUnaryAnswer, Invocation, ParameterDefinition, ToolCall, ToolDefinition, ToolError,
    ToolSet, Worker, WorkerHandle,
};
use tonic::transport::Channel;

use crate::common::{client, config_for, eventually, execute};

/// How many times `CountedTools::tool_definitions` ran.
static DEFINITIONS_BUILT: AtomicUsize = AtomicUsize::new(0);

/// A hand-written tool set that counts how often its definitions are built.
struct CountedTools;

impl ToolSet for CountedTools {
    fn tool_definitions() -> Vec<ToolDefinition> {
        DEFINITIONS_BUILT.fetch_add(1, Ordering::SeqCst);
        vec![ToolDefinition::new("ping", "Echoes.").with_parameter(
            ParameterDefinition::new("message", "string").with_schema(json!({"type": "string"})),
        )]
    }

    fn type_name() -> &'static str {
        "worker_sessions::CountedTools"
    }

    fn invoke(self: &Arc<Self>, call: ToolCall) -> Result<Invocation, ToolError> {
        match call.tool_name() {
            "ping" => Ok(Invocation::future(async {
                json!("pong").into_unary_answer().map(Answer::Unary)
            })),
            other => Err(ToolError::unknown_tool::<Self>(other)),
        }
    }
}

/// Calls `tool` (`ping`, or a name the worker does not have) in `session`.
async fn ping(
    client: &mut BridgeServiceClient<Channel>,
    session: &str,
    tool: &str,
) -> snakepit_bridge::proto::ExecuteToolResponse {
    execute(client, session, tool, json!({"message": "hi"})).await
}

#[tokio::test]
async fn the_tool_definitions_are_built_once_for_every_session_and_unknown_tool() {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let worker = Worker::new(CountedTools)
        .config(config_for(&host, Duration::from_secs(60)))
        .listener(listener);
    let handle = worker.handle();
    let served = tokio::spawn(worker.serve());
    let mut client = client(address).await;
    for i in 0..20 {
        let answer = ping(&mut client, &format!("s-{i}"), "ping").await;
        assert!(answer.success, "{}", answer.error_message);
        let answer = ping(&mut client, &format!("s-{i}"), "pnig").await;
        assert!(!answer.success);
        assert!(
            answer.error_message.contains("Did you mean 'ping'?")
                || answer.error_message.contains("ping"),
            "{}",
            answer.error_message
        );
    }
    assert_eq!(host.requests("RegisterTools"), 20, "one per session");
    for i in 0..20 {
        let registered = host.worker_tools(&format!("s-{i}"));
        assert_eq!(registered.len(), 1, "{registered:?}");
        assert_eq!(registered[0].tool.name, "ping");
    }
    assert_eq!(DEFINITIONS_BUILT.load(Ordering::SeqCst), 1);
    handle.stop();
    served.await.unwrap().unwrap();
}

/// Live tasks of the worker's own runtime (the host and the caller run on the test's).
fn worker_tasks(runtime: &tokio::runtime::Runtime) -> usize {
    runtime.metrics().num_alive_tasks()
}

async fn settled(handle: &WorkerHandle, sessions: usize) {
    eventually(&format!("{sessions} sessions with heartbeats"), || {
        handle.sessions() == sessions && handle.heartbeat_loops() == sessions
    })
    .await;
}

/// Tasks that live only while a request is in flight (hyper's and h2's), counted with the rest.
const IN_FLIGHT_SLACK: usize = 6;
/// Between the worker's heartbeat rounds, nothing is in flight.
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn one_heartbeat_task_and_one_timer_task_serve_every_session() {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    // The worker on a runtime of its own, so that its live tasks are counted alone.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let worker = Worker::new(CountedTools)
        // Each heartbeat in flight is a live task of the client's (hyper's body pipe): far
        // enough apart that between rounds none is, even on a loaded machine.
        .config(config_for(&host, HEARTBEAT_INTERVAL))
        .session_idle_timeout(Duration::MAX)
        .listener(listener);
    let handle = worker.handle();
    let served = runtime.spawn(worker.serve());
    let mut client = client(address).await;

    let answer = ping(&mut client, "first", "ping").await;
    assert!(answer.success, "{}", answer.error_message);
    settled(&handle, 1).await;
    let heartbeats = host.requests("Heartbeat");
    eventually("the first session's heartbeats", || {
        host.requests("Heartbeat") >= heartbeats + 3
    })
    .await;
    let one_session = worker_tasks(&runtime);

    const MORE: usize = 50;
    for i in 0..MORE {
        let answer = ping(&mut client, &format!("more-{i}"), "ping").await;
        assert!(answer.success, "{}", answer.error_message);
    }
    settled(&handle, MORE + 1).await;
    // Before: two more tasks per session (its heartbeat loop, its context's timer), 100 here.
    // A few live a moment for each request in flight (a heartbeat round of 51 sessions on a
    // loaded machine has several at once): that is the slack, far below one per session.
    eventually(
        &format!(
            "about as many worker tasks for {} sessions as for one ({one_session}, give or take \
             {IN_FLIGHT_SLACK} for requests in flight)",
            MORE + 1
        ),
        || worker_tasks(&runtime) <= one_session + IN_FLIGHT_SLACK,
    )
    .await;

    // Each session still gets its own heartbeats (snakepit's host keeps a session alive by
    // them): ten rounds' worth for all the sessions.
    let heartbeats = host.requests("Heartbeat");
    eventually("ten rounds of heartbeats", || {
        host.requests("Heartbeat") >= heartbeats + 10 * (MORE as u64 + 1)
    })
    .await;

    // Ended sessions get no more heartbeats (one session's rate is left), and the tasks stay
    // as they are.
    for i in 0..MORE {
        let answer = client
            .cleanup_session(CleanupSessionRequest {
                session_id: format!("more-{i}"),
                force: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(answer.success);
    }
    settled(&handle, 1).await;
    eventually("no more worker tasks than for one session", || {
        worker_tasks(&runtime) <= one_session + IN_FLIGHT_SLACK
    })
    .await;

    handle.stop();
    eventually("the worker stops", || served.is_finished()).await;
    runtime.shutdown_background();
}
