//! A worker's life: start-up hooks (state built at start-up, a failure or a drifted Elixir tool
//! stops the start with exit code 1), the shutdown hook on SIGTERM, and sessions released on
//! `CleanupSession` and when idle, heartbeat loops included.
//!
//! The process tests run this test binary again as the worker (`lifecycle_child`, alone), so
//! that SIGTERM and the exit code are real and no other test shares the process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::{CleanupSessionRequest, InitializeSessionRequest};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::worker::{
    BoxError, StartContext, ToolError, Worker, WorkerError, WorkerHandle,
};
use snakepit_bridge::{elixir_tools, worker_tools, Error};

use crate::common::{client, config_for, eventually, execute, loopback_listener};

struct Tools {
    greeting: String,
}

#[worker_tools]
impl Tools {
    /// Greets.
    pub fn greet(&self, name: String) -> Result<String, ToolError> {
        Ok(format!("{}, {name}", self.greeting))
    }
}

/// The demo tools as this worker expects them, one drifted: the host's `process_list` takes
/// `list`, not `items`, and there is no `summarize`.
#[elixir_tools]
pub trait DriftedTools {
    async fn process_list(&self, items: Vec<i64>) -> Result<Value, Error>;
    async fn summarize(&self, text: String) -> Result<Value, Error>;
}

/// The demo tools as the host has them.
#[elixir_tools]
pub trait DemoTools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<Value, Error>;
}

/// Runs as the worker when `LIFECYCLE_CHILD` says which; a no-op in a normal test run.
#[test]
fn lifecycle_child() {
    let Ok(role) = std::env::var("LIFECYCLE_CHILD") else {
        return;
    };
    let code = match role.as_str() {
        "fail" => Worker::new(Tools {
            greeting: "hi".into(),
        })
        .on_start(|_start| async { Err::<(), _>("the model file /models/m.bin is missing") })
        .run(),
        "shutdown" => {
            let marker = std::env::var("SHUTDOWN_MARKER").expect("SHUTDOWN_MARKER");
            Worker::start_with(|_start| async {
                Ok::<_, ToolError>(Tools {
                    greeting: "hi".into(),
                })
            })
            .on_shutdown(move |reason| async move {
                std::fs::write(marker, reason.to_string()).expect("the marker is written");
            })
            .run()
        }
        other => panic!("unknown child role {other}"),
    };
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        1
    })
}

/// Starts this binary as the `role` worker, standalone, with `env`.
fn spawn_child(role: &str, env: &[(&str, &Path)]) -> std::process::Child {
    // The test's name in this binary: its module path without the crate's name.
    let (_crate, module) = module_path!()
        .split_once("::")
        .expect("a module of the test crate");
    let child_test = format!("{module}::lifecycle_child");
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", &child_test, "--nocapture", "--test-threads=1"])
        .env("LIFECYCLE_CHILD", role)
        .env_remove("SNAKEPIT_GRPC_ADDRESS")
        .env_remove("SNAKEPIT_ELIXIR_ADDRESS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("the test binary runs as a worker")
}

/// Waits for `child` to exit, killing it after `limit`.
fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the worker did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_failing_start_up_hook_stops_the_worker_with_exit_code_1_and_the_error() {
    // A ready file, as snakepit always gives one: without anything of snakepit's, the worker
    // would explain itself and exit 2 instead of starting.
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("snakepit_ready_lifecycle_fail_1");
    let mut child = spawn_child("fail", &[("SNAKEPIT_READY_FILE", ready.as_path())]);
    let status = wait_exit(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("start-up failed: the model file /models/m.bin is missing"),
        "{stderr}"
    );
}

#[test]
fn the_shutdown_hook_runs_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("snakepit_ready_lifecycle_1");
    let marker = dir.path().join("shutdown");
    let mut child = spawn_child(
        "shutdown",
        &[
            ("SNAKEPIT_READY_FILE", ready.as_path()),
            ("SHUTDOWN_MARKER", marker.as_path()),
        ],
    );
    let started = Instant::now();
    while std::fs::read_to_string(&ready).map_or(true, |port| port.trim().is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the worker never wrote its ready file"
        );
        assert!(child.try_wait().unwrap().is_none(), "the worker exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&marker).expect("the shutdown hook ran"),
        "SIGTERM received"
    );
}

/// An embedded host with snakepit's demo tools.
async fn demo_host() -> EmbeddedHost {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .unwrap()
}

/// The tools most tests serve.
fn greeting_tools() -> Tools {
    Tools {
        greeting: "hi".into(),
    }
}

#[tokio::test]
async fn start_up_builds_the_tools_with_the_host_and_verifies_its_elixir_tools() {
    let host = demo_host().await;
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    let worker = Worker::start_with(|start: StartContext| async move {
        // The host is there at start-up, for state that comes from it.
        let greeting = format!("connected={}", start.is_connected());
        Ok::<_, Error>(Tools { greeting })
    })
    .on_start(|start| async move { start.verify::<DemoToolsDeclaration>().await })
    .config(config_for(&host, Duration::from_secs(2)))
    .listener(listener);
    let handle = worker.handle();
    let served = tokio::spawn(worker.serve());
    let mut client = client(address).await;
    let answer = execute(&mut client, "s", "greet", json!({"name": "Ada"})).await;
    assert!(answer.success, "{}", answer.error_message);
    assert!(String::from_utf8_lossy(&answer.result.unwrap().value).contains("connected=true, Ada"));
    handle.stop();
    served.await.unwrap().expect("the worker stops cleanly");
}

#[tokio::test]
async fn a_drifted_elixir_tool_fails_the_start_up_with_every_mismatch() {
    let host = demo_host().await;
    let outcome = Worker::new(greeting_tools())
        .on_start(|start| async move { start.verify::<DriftedToolsDeclaration>().await })
        .config(config_for(&host, Duration::from_secs(2)))
        .listener(loopback_listener())
        .serve()
        .await;
    let error = outcome.expect_err("a drifted tool stops the start-up");
    assert!(matches!(error, WorkerError::Start { .. }), "{error:?}");
    let text = snakepit_chain(&error);
    assert!(text.starts_with("start-up failed: "), "{text}");
    for expected in ["DriftedTools", "process_list", "items", "summarize"] {
        assert!(text.contains(expected), "`{expected}` missing from: {text}");
    }
}

fn snakepit_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(" | ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn serve_with_host(
    host: &EmbeddedHost,
    idle: Duration,
) -> (WorkerHandle, BridgeServiceClient<tonic::transport::Channel>) {
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    let worker = Worker::new(greeting_tools())
        .config(config_for(host, Duration::from_millis(20)))
        .session_idle_timeout(idle)
        .listener(listener);
    let handle = worker.handle();
    tokio::spawn(worker.serve());
    (handle, client(address).await)
}

#[tokio::test]
async fn cleanup_session_releases_the_session_and_ends_its_heartbeat_loop() {
    let host = demo_host().await;
    let (handle, mut client) = serve_with_host(&host, Duration::MAX).await;
    // s-1 as snakepit opens a worker's session; s-2 by a first call.
    let answer = client
        .initialize_session(InitializeSessionRequest {
            session_id: "s-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success, "{}", answer.error_message);
    assert!(host.has_session("s-1"));
    for session in ["s-1", "s-2"] {
        let answer = execute(&mut client, session, "greet", json!({"name": "x"})).await;
        assert!(answer.success, "{}", answer.error_message);
    }
    eventually("two heartbeat loops", || handle.heartbeat_loops() == 2).await;
    assert_eq!(handle.sessions(), 2);

    let answer = client
        .cleanup_session(CleanupSessionRequest {
            session_id: "s-1".into(),
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success);
    assert!(answer.resources_cleaned >= 3, "{answer:?}");
    assert_eq!(handle.sessions(), 1, "s-1 is released at once");
    eventually("s-1's heartbeat loop ends", || {
        handle.heartbeat_loops() == 1
    })
    .await;
    assert!(
        !host.has_session("s-1"),
        "the cleanup went on to the host, as Python's worker proxies it"
    );
}

/// Every RPC the worker sends on its own account carries the options of `host_context`:
/// against a host that requires a bearer token and a header, the forwarded `InitializeSession`,
/// the session opened by a first call, the registrations, the heartbeats and the forwarded
/// `CleanupSession` all pass (the host refuses a call without them before counting it), and
/// the worker does not stop itself for heartbeats refused.
#[tokio::test]
async fn the_workers_own_rpcs_carry_the_host_context_options() {
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .require_bearer_token("t0ken")
        .require_metadata("x-team", "search")
        .start()
        .await
        .unwrap();
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    // snakepit's defaults otherwise: three heartbeats missed in a row stop the worker.
    let worker = Worker::new(greeting_tools())
        .config(config_for(&host, Duration::from_millis(20)))
        .host_context(|options| options.bearer_token("t0ken").metadata("x-team", "search"))
        .listener(listener);
    let handle = worker.handle();
    let served = tokio::spawn(worker.serve());
    let mut client = client(address).await;

    let answer = client
        .initialize_session(InitializeSessionRequest {
            session_id: "s-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success, "{}", answer.error_message);
    assert!(host.has_session("s-1"));
    let answer = execute(&mut client, "s-2", "greet", json!({"name": "x"})).await;
    assert!(answer.success, "{}", answer.error_message);
    assert!(
        host.has_session("s-2"),
        "opened on the host by its first call"
    );
    for session in ["s-1", "s-2"] {
        let registered = host.worker_tools(session);
        assert!(
            registered.iter().any(|tool| tool.tool.name == "greet"),
            "{session}: {registered:?}"
        );
    }
    assert_eq!(host.requests("RegisterTools"), 2);

    eventually("the host accepts ten heartbeats", || {
        host.requests("Heartbeat") >= 10
    })
    .await;
    assert!(!served.is_finished(), "the worker stopped itself");
    let answer = execute(&mut client, "s-1", "greet", json!({"name": "y"})).await;
    assert!(answer.success, "{}", answer.error_message);

    let answer = client
        .cleanup_session(CleanupSessionRequest {
            session_id: "s-1".into(),
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success);
    assert!(!host.has_session("s-1"), "the cleanup went on to the host");
    handle.stop();
    served.await.unwrap().expect("the worker stops cleanly");
}

#[tokio::test]
async fn an_idle_session_is_released() {
    let host = demo_host().await;
    let (handle, mut client) = serve_with_host(&host, Duration::from_millis(300)).await;
    let answer = execute(&mut client, "idle-1", "greet", json!({"name": "x"})).await;
    assert!(answer.success, "{}", answer.error_message);
    eventually("the idle session is released", || {
        handle.sessions() == 0 && handle.heartbeat_loops() == 0
    })
    .await;
    // A later call takes the session up again.
    let answer = execute(&mut client, "idle-1", "greet", json!({"name": "y"})).await;
    assert!(answer.success, "{}", answer.error_message);
    assert_eq!(handle.sessions(), 1);
}

#[tokio::test]
async fn the_worker_stops_through_its_handle_and_releases_everything() {
    let host = demo_host().await;
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    let stopped = Arc::new(std::sync::Mutex::new(None));
    let seen = stopped.clone();
    let worker = Worker::new(greeting_tools())
        .config(config_for(&host, Duration::from_millis(20)))
        .on_shutdown(move |reason| async move {
            *seen.lock().unwrap() = Some(reason.to_string());
        })
        .listener(listener);
    let handle = worker.handle();
    let served = tokio::spawn(worker.serve());
    let mut client = client(address).await;
    execute(&mut client, "s", "greet", json!({"name": "x"})).await;
    eventually("a heartbeat loop", || handle.heartbeat_loops() == 1).await;
    handle.stop();
    served.await.unwrap().unwrap();
    assert_eq!(
        stopped.lock().unwrap().as_deref(),
        Some("stop requested through the worker's handle")
    );
    assert_eq!(handle.sessions(), 0);
    eventually("no heartbeat loop left", || handle.heartbeat_loops() == 0).await;
}

#[tokio::test]
async fn the_shutdown_hooks_share_one_grace_period() {
    let host = demo_host().await;
    let grace = Duration::from_millis(200);
    let second_finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let finished = second_finished.clone();
    let worker = Worker::new(greeting_tools())
        .config(config_for(&host, Duration::from_millis(20)))
        .shutdown_grace(grace)
        // The first hook never ends: it uses up the whole grace period...
        .on_shutdown(|_| std::future::pending())
        // ...so the second, which would need half of one, gets none of it.
        .on_shutdown(move |_| async move {
            tokio::time::sleep(grace / 2).await;
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .listener(loopback_listener());
    let handle = worker.handle();
    let served = tokio::spawn(worker.serve());
    handle.stop();
    served.await.unwrap().unwrap();
    assert!(
        !second_finished.load(std::sync::atomic::Ordering::SeqCst),
        "each hook got a grace period of its own: a stop can outlast snakepit's 6 s"
    );
}

#[tokio::test]
async fn a_start_up_that_never_finishes_is_a_clear_error_within_the_limit() {
    let host = demo_host().await;
    let outcome =
        Worker::<Tools>::start_with(|_| std::future::pending::<Result<Tools, BoxError>>())
            .startup_timeout(Duration::from_millis(100))
            .config(config_for(&host, Duration::from_secs(2)))
            .listener(loopback_listener())
            .serve()
            .await;
    let error = outcome.expect_err("a hung start-up fails the start");
    assert!(matches!(error, WorkerError::Start { .. }), "{error:?}");
    let text = snakepit_chain(&error);
    assert!(
        text.contains("did not finish within 100ms") && text.contains("startup_timeout"),
        "{text}"
    );
}
