//! 10,000 distinct sessions through one worker: what it holds before, during and after (resident
//! memory of this process, live tokio tasks, sessions the worker holds and sends heartbeats
//! for).
//!
//! ```text
//! cargo bench --bench sessions
//! ```
//!
//! The worker, an embedded host and the caller share this process and its runtime, so that
//! the runtime's count of live tasks covers the worker's (its one heartbeat task, the timer
//! task of its connection to the host) and the host's (a task per request in flight there:
//! heartbeats included, one per session every interval). Two passes: each session ends with `CleanupSession` (as snakepit
//! ends a session), then sessions that just stop calling, released by the idle timeout.

use std::time::{Duration, Instant};

use serde_json::json;
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::{CleanupSessionRequest, ExecuteToolRequest};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::worker::{ToolError, Worker, WorkerConfig, WorkerHandle};
use snakepit_bridge::worker_tools;
use tonic::transport::Channel;

const SESSIONS: usize = 10_000;
const IDLE: Duration = Duration::from_secs(30);

struct Tools;

#[worker_tools]
impl Tools {
    /// Echoes.
    pub async fn ping(&self, message: String) -> Result<String, ToolError> {
        Ok(message)
    }
}

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: u64 = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0);
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn row(label: &str, handle: &WorkerHandle) {
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    println!(
        "| {label} | {} | {tasks} | {} | {} |",
        rss(),
        handle.sessions(),
        handle.heartbeat_loops()
    );
}

async fn call(client: &mut BridgeServiceClient<Channel>, session: &str) {
    let answer = client
        .execute_tool(ExecuteToolRequest {
            session_id: session.to_owned(),
            tool_name: "ping".to_owned(),
            parameters: [(
                "message".to_owned(),
                snakepit_bridge::json_any(json!("hi").to_string().into_bytes()),
            )]
            .into(),
            ..Default::default()
        })
        .await
        .expect("ExecuteTool answers")
        .into_inner();
    assert!(answer.success, "{}", answer.error_message);
}

/// Lets the worker's background work (registrations, heartbeat loops ending) settle.
async fn settle(handle: &WorkerHandle, sessions: usize) {
    let started = Instant::now();
    while (handle.sessions() != sessions || handle.heartbeat_loops() != sessions)
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Requests in flight end (a timer task of a connection ends at its next tick, at most 1 s).
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let host = EmbeddedHost::builder()
            .tools(demo_tools())
            // The host shares this process: so that the RSS measured is the worker's, it drops
            // an ended session's tools (snakepit keeps them for the id)...
            .keep_tools_of_ended_sessions(false)
            // and sessions that stop calling expire there when they do in the worker
            .session_ttl(IDLE)
            .max_sessions(4 * SESSIONS)
            .start()
            .await
            .expect("the host starts");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let mut config = WorkerConfig::from_args_and_env(&[], &Default::default()).unwrap();
        config.elixir_address = Some(host.grpc_address());
        let worker = Worker::new(Tools)
            .config(config)
            .session_idle_timeout(IDLE)
            .listener(listener);
        let handle = worker.handle();
        tokio::spawn(worker.serve());
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = BridgeServiceClient::new(channel);

        println!("# {SESSIONS} distinct sessions through one worker (heartbeats on, idle timeout {IDLE:?})\n");
        println!("| moment | RSS of the process | live tokio tasks | sessions held | sessions with heartbeats |");
        println!("|---|---|---|---|---|");
        for i in 0..100 {
            call(&mut client, &format!("warm-{i}")).await;
            client
                .cleanup_session(CleanupSessionRequest {
                    session_id: format!("warm-{i}"),
                    force: false,
                })
                .await
                .unwrap();
        }
        settle(&handle, 0).await;
        row("before", &handle);

        for pass in 1..=2 {
            let started = Instant::now();
            for i in 0..SESSIONS {
                let session = format!("cleaned-{pass}-{i}");
                call(&mut client, &session).await;
                client
                    .cleanup_session(CleanupSessionRequest {
                        session_id: session,
                        force: false,
                    })
                    .await
                    .unwrap();
            }
            let took = started.elapsed();
            settle(&handle, 0).await;
            row(
                &format!("after {SESSIONS} more sessions, each ended by CleanupSession ({took:.1?})"),
                &handle,
            );
        }
        for pass in 1..=2 {
            for i in 0..SESSIONS {
                call(&mut client, &format!("idle-{pass}-{i}")).await;
            }
            settle(&handle, SESSIONS).await;
            row(&format!("{SESSIONS} more sessions that stopped calling"), &handle);
            tokio::time::sleep(IDLE + IDLE / 2).await;
            settle(&handle, 0).await;
            row("after the idle timeout", &handle);
        }
        println!();
        handle.stop();
    });
}
