//! The worker's side of host liveness: heartbeats to the host as `SNAKEPIT_HEARTBEAT_CONFIG`
//! says, and the one place that decides the worker should stop.
//!
//! snakepit reaps orphaned Python workers only; a Rust worker must notice by itself that the
//! host is gone (snakepit v0.13.0's orphan cleanup, `lib/snakepit/pool/process_registry.ex` and
//! `process_killer.ex`, matches `grpc_server.py` and Python process names).

use std::sync::Arc;

use snakepit_bridge_runtime::proto;
use tokio::sync::watch;

use crate::config::HeartbeatConfig;
use crate::host_link::HostLink;

/// Why the worker stops.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// SIGTERM or SIGINT (the host's graceful stop).
    Signal(&'static str),
    /// stdin closed: the host closed the port or died.
    StdinClosed,
    /// The host missed too many heartbeats.
    HostGone {
        /// Consecutive misses.
        missed: u32,
    },
    /// [`WorkerHandle::stop`](crate::WorkerHandle::stop) was called.
    Requested,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Signal(name) => write!(f, "{name} received"),
            StopReason::StdinClosed => f.write_str("stdin closed (the host is gone)"),
            StopReason::Requested => f.write_str("stop requested through the worker's handle"),
            StopReason::HostGone { missed } => {
                write!(
                    f,
                    "the host missed {missed} heartbeats in a row (the host is gone)"
                )
            }
        }
    }
}

/// The worker's stop switch, shared by everything that can decide the worker should stop.
#[derive(Debug, Clone)]
pub(crate) struct StopSwitch(Arc<watch::Sender<Option<StopReason>>>);

impl StopSwitch {
    pub(crate) fn new() -> StopSwitch {
        StopSwitch(Arc::new(watch::channel(None).0))
    }

    /// Asks the worker to stop; the first reason wins.
    pub(crate) fn stop(&self, reason: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// Waits until the worker should stop.
    pub(crate) async fn stopped(&self) -> StopReason {
        let mut receiver = self.0.subscribe();
        loop {
            if let Some(reason) = receiver.borrow_and_update().clone() {
                return reason;
            }
            if receiver.changed().await.is_err() {
                // Unreachable while `self` holds the sender; stop rather than hang.
                return StopReason::StdinClosed;
            }
        }
    }
}

/// Starts one heartbeat loop per session, as snakepit's Python worker does; the loops live in
/// the [`HostLink`]'s session state, and end when the session is released.
#[derive(Debug)]
pub(crate) struct Heartbeats {
    config: HeartbeatConfig,
    link: Arc<HostLink>,
    stop: StopSwitch,
}

impl Heartbeats {
    pub(crate) fn new(config: HeartbeatConfig, link: Arc<HostLink>, stop: StopSwitch) -> Self {
        Heartbeats { config, link, stop }
    }

    /// Starts heartbeats for `session` unless they run already (or are off, or there is no
    /// host).
    pub(crate) fn ensure(&self, session: &str) {
        if !self.config.enabled
            || !self.link.is_connected()
            || session.is_empty()
            || self.link.has_heartbeat(session)
        {
            return;
        }
        let config = self.config.clone();
        let stop = self.stop.clone();
        let session = session.to_owned();
        self.link.start_heartbeat(&session.clone(), move |ctx| {
            heartbeat_loop(ctx, session, config, stop)
        });
    }
}

async fn heartbeat_loop(
    ctx: snakepit_bridge_runtime::SessionContext,
    session: String,
    config: HeartbeatConfig,
    stop: StopSwitch,
) {
    tokio::time::sleep(config.initial_delay).await;
    let mut missed = 0;
    loop {
        let request = proto::HeartbeatRequest {
            session_id: session.clone(),
            client_time: snakepit_bridge_runtime::__private::timestamp_now(),
        };
        // Any answer counts, `session_valid` included or not, as in snakepit's worker; with
        // the context's options (a host that checks a token refuses a heartbeat without it).
        let answered = ctx
            .rpc()
            .timeout(config.timeout)
            .heartbeat(request)
            .await
            .is_ok();
        if answered {
            missed = 0;
        } else {
            missed += 1;
            tracing::warn!(session = %session, missed, "the host did not answer a heartbeat");
            if missed >= config.max_missed {
                if config.dependent {
                    stop.stop(StopReason::HostGone { missed });
                    return;
                }
                missed = 0;
            }
        }
        tokio::time::sleep(config.interval).await;
    }
}
