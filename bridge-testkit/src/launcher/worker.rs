//! A [`LaunchedWorker`]: what the launch found out, and the host's ping.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::Channel;

use super::connect::with_deadline;
use super::health::HEALTH_TIMEOUT;
use super::heartbeat::HeartbeatStats;
use super::process::{OutputTail, WorkerProcess};

/// The worker's output (the last 4096 bytes of its merged stdout and stderr).
#[derive(Debug, Clone)]
pub struct WorkerOutput(pub(super) Arc<OutputTail>);

impl WorkerOutput {
    /// The output as text.
    pub fn text(&self) -> String {
        self.0.text()
    }
}

/// A worker launched and initialized as snakepit does it. Dropping it kills the worker.
pub struct LaunchedWorker {
    pub(super) client: BridgeServiceClient<Channel>,
    pub(super) process: Arc<tokio::sync::Mutex<WorkerProcess>>,
    pub(super) pid: u32,
    pub(super) output: Arc<OutputTail>,
    pub(super) port: u16,
    pub(super) worker_id: String,
    pub(super) session_id: String,
    pub(super) argv: Vec<String>,
    pub(super) env: BTreeMap<String, String>,
    pub(super) ready_file: PathBuf,
    pub(super) ready_after: Duration,
    pub(super) initialize: Result<proto::InitializeSessionResponse, String>,
    pub(super) heartbeat_stats: Arc<Mutex<HeartbeatStats>>,
    pub(super) stopping: Arc<AtomicBool>,
    pub(super) graceful_timeout: Duration,
    pub(super) telemetry: super::telemetry::TelemetryStream,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for LaunchedWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchedWorker")
            .field("pid", &self.pid)
            .field("port", &self.port)
            .field("worker_id", &self.worker_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl LaunchedWorker {
    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port from the ready file.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool worker id (only in the ready file's name, as with snakepit).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The worker's session id, sent with every request.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The command line, executable first.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The variables the launcher set (over the inherited environment).
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// The ready file's path (deleted once read).
    pub fn ready_file(&self) -> &Path {
        &self.ready_file
    }

    /// Time from launch to reading a port in the ready file (polled as the host polls it: every
    /// 50 ms, and at once whenever the worker prints).
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// The worker's answer to `InitializeSession` (the host ignores it).
    pub fn initialize_answer(&self) -> &Result<proto::InitializeSessionResponse, String> {
        &self.initialize
    }

    /// What the host saw of the heartbeats so far.
    pub fn heartbeat_stats(&self) -> HeartbeatStats {
        self.heartbeat_stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The last 4096 bytes the worker printed.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// A handle on the worker's output that outlives the worker (to read what it printed
    /// while it stopped).
    pub fn output_handle(&self) -> WorkerOutput {
        WorkerOutput(self.output.clone())
    }

    /// The gRPC client on the worker's connection, for raw calls.
    pub fn client(&self) -> BridgeServiceClient<Channel> {
        self.client.clone()
    }

    /// `Ping(message)`; the worker's answer text.
    pub async fn ping(&self, message: &str) -> Result<String, tonic::Status> {
        let request = with_deadline(
            proto::PingRequest {
                message: message.to_owned(),
            },
            HEALTH_TIMEOUT,
        );
        Ok(self
            .client
            .clone()
            .ping(request)
            .await?
            .into_inner()
            .message)
    }
}

impl Drop for LaunchedWorker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.telemetry.task.abort();
        let _ = std::fs::remove_file(&self.ready_file);
    }
}
