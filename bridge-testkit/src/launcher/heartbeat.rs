//! The host's heartbeats to a worker (`lib/snakepit/heartbeat_monitor.ex` in snakepit v0.13.0):
//! what it saw, and the monitor task that stops a dependent worker on a failure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::Channel;

use super::connect::with_deadline;
use super::process::WorkerProcess;
use super::HeartbeatConfig;

/// What the host saw of the worker's heartbeats.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct HeartbeatStats {
    /// Heartbeats sent.
    pub sent: u64,
    /// Answered with `session_valid = true`.
    pub answered: u64,
    /// Failed (error, `session_valid = false`, or no answer in time).
    pub failed: u64,
    /// The slowest answer.
    pub max_latency: Duration,
    /// Whether a failure made the host stop the worker (`dependent`).
    pub stopped_worker: bool,
}

pub(super) async fn heartbeat_monitor(
    mut client: BridgeServiceClient<Channel>,
    session_id: String,
    settings: HeartbeatConfig,
    stats: Arc<Mutex<HeartbeatStats>>,
    process: Arc<tokio::sync::Mutex<WorkerProcess>>,
    grace: Duration,
    stopping: Arc<AtomicBool>,
) {
    tokio::time::sleep(settings.initial_delay).await;
    let task_limit = settings.timeout.saturating_sub(Duration::from_millis(1));
    loop {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let request = with_deadline(
            proto::HeartbeatRequest {
                session_id: session_id.clone(),
                client_time: None,
            },
            settings.timeout,
        );
        let sent = Instant::now();
        let outcome = tokio::time::timeout(task_limit, client.heartbeat(request)).await;
        let latency = sent.elapsed();
        let pong = matches!(&outcome, Ok(Ok(answer)) if answer.get_ref().session_valid);
        {
            let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.sent += 1;
            if pong {
                stats.answered += 1;
                stats.max_latency = stats.max_latency.max(latency);
            } else {
                stats.failed += 1;
            }
        }
        if !pong {
            if stopping.load(Ordering::SeqCst) {
                return;
            }
            tracing::warn!(session = %session_id, ?outcome, "heartbeat failed");
            if settings.dependent {
                // One failure stops a dependent worker, gracefully.
                stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .stopped_worker = true;
                stopping.store(true, Ordering::SeqCst);
                let _ = process.lock().await.stop(grace).await;
                return;
            }
        }
        tokio::time::sleep(settings.interval).await;
    }
}
