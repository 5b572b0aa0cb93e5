//! The worker's side of host liveness: heartbeats to the host as `SNAKEPIT_HEARTBEAT_CONFIG`
//! says, and the one place that decides the worker should stop.
//!
//! snakepit reaps orphaned Python workers only; a Rust worker must notice by itself that the
//! host is gone (snakepit v0.13.0's orphan cleanup, `lib/snakepit/pool/process_registry.ex` and
//! `process_killer.ex`, matches `grpc_server.py` and Python process names).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use snakepit_bridge_runtime::proto;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_stream::StreamExt;

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

    /// Whether the worker was told to stop.
    pub(crate) fn is_stopping(&self) -> bool {
        self.0.borrow().is_some()
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

/// Sends every session's heartbeats, from one task for the whole worker whatever the number of
/// sessions.
///
/// What the host sees is what snakepit's Python worker sends with its heartbeat client per
/// session (priv/python/grpc_server.py `_ensure_heartbeat_client`): one `Heartbeat` per
/// session, its id in `session_id` (the host answers `session_valid` from its session store,
/// and reading the session there keeps it alive: snakepit v0.13.0
/// `lib/snakepit/grpc/bridge_server.ex`, `heartbeat/2`), the first `initial_delay` after the
/// session's first call, each next one `interval` after the previous one's answer. A session's
/// heartbeats end when the worker releases the session ([`HostLink`] holds which sessions have
/// heartbeats; the task skips the others).
#[derive(Debug)]
pub(crate) struct Heartbeats {
    config: HeartbeatConfig,
    link: Arc<HostLink>,
    /// Sessions whose heartbeats start, to the heartbeat task; `None` when heartbeats are off
    /// or there is no host.
    started: Option<mpsc::UnboundedSender<Beat>>,
    task: Option<tokio::task::AbortHandle>,
}

impl Heartbeats {
    /// Starts the worker's heartbeat task (unless heartbeats are off or there is no host).
    pub(crate) fn start(config: HeartbeatConfig, link: Arc<HostLink>, stop: StopSwitch) -> Self {
        if !config.enabled || !link.is_connected() {
            return Heartbeats {
                config,
                link,
                started: None,
                task: None,
            };
        }
        let (started, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(heartbeat_task(receiver, config.clone(), link.clone(), stop));
        Heartbeats {
            config,
            link,
            started: Some(started),
            task: Some(task.abort_handle()),
        }
    }

    /// Starts heartbeats for `session` unless they run already (or are off, or there is no
    /// host, or the session is no longer held).
    pub(crate) fn ensure(&self, session: &str) {
        let Some(started) = &self.started else { return };
        if session.is_empty() {
            return;
        }
        let Some(id) = self.link.start_heartbeats(session) else {
            return;
        };
        let _ = started.send(Beat {
            due: Instant::now() + self.config.initial_delay,
            id,
            session: session.to_owned(),
            missed: 0,
        });
    }

    /// Ends the heartbeat task (the worker stops).
    pub(crate) fn stop(&self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Drop for Heartbeats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A session's next heartbeat.
#[derive(Debug)]
struct Beat {
    due: Instant,
    /// Which heartbeats of the session these are ([`HostLink::start_heartbeats`]): a session
    /// released and taken up again has new ones, and the old ones end.
    id: u64,
    session: String,
    /// Heartbeats missed in a row.
    missed: u32,
}

impl PartialEq for Beat {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.id) == (other.due, other.id)
    }
}

impl Eq for Beat {}

impl PartialOrd for Beat {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Beat {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.id).cmp(&(other.due, other.id))
    }
}

/// The worker's one heartbeat task: the heartbeats due are sent concurrently (one slow answer
/// holds up no other session's), each session rescheduled when its answer comes.
async fn heartbeat_task(
    mut started: mpsc::UnboundedReceiver<Beat>,
    config: HeartbeatConfig,
    link: Arc<HostLink>,
    stop: StopSwitch,
) {
    let mut waiting: BinaryHeap<Reverse<Beat>> = BinaryHeap::new();
    let mut sending = FuturesUnordered::new();
    let wake = tokio::time::sleep_until(Instant::now());
    tokio::pin!(wake);
    loop {
        let next_due = waiting.peek().map(|Reverse(beat)| beat.due);
        if let Some(due) = next_due {
            if wake.deadline() != due {
                wake.as_mut().reset(due);
            }
        }
        tokio::select! {
            beat = started.recv() => match beat {
                Some(beat) => waiting.push(Reverse(beat)),
                // The worker's `Heartbeats` is gone.
                None => return,
            },
            Some((beat, answered)) = sending.next(), if !sending.is_empty() => {
                if let Some(beat) = answer(beat, answered, &config, &stop) {
                    waiting.push(Reverse(beat));
                } else {
                    return;
                }
            },
            () = &mut wake, if next_due.is_some() => {
                let now = Instant::now();
                while waiting.peek().is_some_and(|Reverse(beat)| beat.due <= now) {
                    let Some(Reverse(beat)) = waiting.pop() else { break };
                    // A session released meanwhile: its heartbeats end.
                    let Some(ctx) = link.heartbeat_context(&beat.session, beat.id) else {
                        continue;
                    };
                    sending.push(send(ctx, beat, config.timeout));
                }
            },
        }
    }
}

/// Sends `beat`'s heartbeat; whether the host answered.
async fn send(
    ctx: snakepit_bridge_runtime::SessionContext,
    beat: Beat,
    timeout: std::time::Duration,
) -> (Beat, bool) {
    let request = proto::HeartbeatRequest {
        session_id: beat.session.clone(),
        client_time: snakepit_bridge_runtime::support::timestamp_now(),
    };
    // Any answer counts, `session_valid` included or not, as in snakepit's worker; with the
    // context's options (a host that checks a token refuses a heartbeat without it).
    let answered = ctx.rpc().timeout(timeout).heartbeat(request).await.is_ok();
    (beat, answered)
}

/// Counts `beat`'s answer; its next heartbeat, or `None` when the worker is to stop.
fn answer(
    mut beat: Beat,
    answered: bool,
    config: &HeartbeatConfig,
    stop: &StopSwitch,
) -> Option<Beat> {
    if answered {
        beat.missed = 0;
    } else {
        beat.missed += 1;
        let missed = beat.missed;
        tracing::warn!(session = %beat.session, missed, "the host did not answer a heartbeat");
        if missed >= config.max_missed {
            if config.dependent {
                stop.stop(StopReason::HostGone { missed });
                return None;
            }
            beat.missed = 0;
        }
    }
    beat.due = Instant::now() + config.interval;
    Some(beat)
}
