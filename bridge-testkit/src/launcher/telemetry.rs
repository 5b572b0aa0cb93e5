//! The host's telemetry stream from a worker, opened and steered as snakepit's
//! `Snakepit.Telemetry.GrpcStream` does (`lib/snakepit/telemetry/grpc_stream.ex` in snakepit
//! v0.13.0): `toggle{enabled: true}` first, then `toggle`, `sampling` and `filter` controls on
//! the same stream; the events it receives are kept for the launcher's caller.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge_runtime::proto::telemetry_control::Control;
use tokio::sync::{mpsc, Notify};
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use super::error::LaunchError;
use super::worker::LaunchedWorker;

/// How many received events the launcher keeps (the oldest go first).
pub const TELEMETRY_EVENTS_KEPT: usize = 10_000;

/// How long the host waits for the worker to answer `StreamTelemetry`.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// What the stream is doing, for the errors of the controls.
#[derive(Debug, Clone)]
enum StreamState {
    Opening,
    Open,
    /// Refused, timed out or ended: why.
    Closed(String),
}

/// The events received so far and the stream's state, shared with the reading task.
#[derive(Debug)]
pub(super) struct TelemetryLog {
    events: Mutex<VecDeque<proto::TelemetryEvent>>,
    state: Mutex<StreamState>,
    /// Woken on each event and on a change of state.
    changed: Notify,
}

impl TelemetryLog {
    fn new() -> Self {
        TelemetryLog {
            events: Mutex::new(VecDeque::new()),
            state: Mutex::new(StreamState::Opening),
            changed: Notify::new(),
        }
    }

    fn events(&self) -> MutexGuard<'_, VecDeque<proto::TelemetryEvent>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keep(&self, event: proto::TelemetryEvent) {
        let mut events = self.events();
        if events.len() == TELEMETRY_EVENTS_KEPT {
            events.pop_front();
        }
        events.push_back(event);
        drop(events);
        self.changed.notify_waiters();
    }

    fn set_state(&self, state: StreamState) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
        self.changed.notify_waiters();
    }

    fn state(&self) -> StreamState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The launcher's end of the telemetry stream: the controls it sends and the events it got.
#[derive(Debug)]
pub(super) struct TelemetryStream {
    client: BridgeServiceClient<Channel>,
    controls: mpsc::Sender<proto::TelemetryControl>,
    pub(super) log: Arc<TelemetryLog>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

/// Opens `StreamTelemetry` with `toggle{enabled: true}` first and keeps the events it reads
/// until the stream ends; a refusal is only recorded (the host only logs it).
pub(super) fn open_telemetry(mut client: BridgeServiceClient<Channel>) -> TelemetryStream {
    // One slot: a control is sent once the stream has taken the one before (see `send`).
    let (controls, receiver) = mpsc::channel(1);
    let _ = controls.try_send(toggle(true));
    let log = Arc::new(TelemetryLog::new());
    let reader = log.clone();
    let confirm_client = client.clone();
    let task = tokio::spawn(async move {
        let requests = tokio_stream::wrappers::ReceiverStream::new(receiver);
        let events = match tokio::time::timeout(OPEN_TIMEOUT, client.stream_telemetry(requests))
            .await
        {
            Ok(Ok(events)) => events,
            Ok(Err(status)) => {
                tracing::debug!(code = ?status.code(), "telemetry stream refused (only logged, as by the host)");
                return reader.set_state(StreamState::Closed(format!(
                    "the worker refused StreamTelemetry ({:?}: {})",
                    status.code(),
                    status.message()
                )));
            }
            Err(_) => {
                tracing::debug!("telemetry stream did not open within 5 s");
                return reader.set_state(StreamState::Closed(format!(
                    "the worker did not answer StreamTelemetry within {OPEN_TIMEOUT:?}"
                )));
            }
        };
        reader.set_state(StreamState::Open);
        let mut events = events.into_inner();
        let ended = loop {
            match events.next().await {
                Some(Ok(event)) => reader.keep(event),
                Some(Err(status)) => {
                    break format!(
                        "the telemetry stream failed ({:?}: {})",
                        status.code(),
                        status.message()
                    )
                }
                None => break "the worker ended the telemetry stream".to_owned(),
            }
        };
        reader.set_state(StreamState::Closed(ended));
    });
    TelemetryStream {
        client: confirm_client,
        controls,
        log,
        task,
    }
}

fn toggle(enabled: bool) -> proto::TelemetryControl {
    proto::TelemetryControl {
        control: Some(Control::Toggle(proto::TelemetryToggle { enabled })),
    }
}

impl TelemetryStream {
    /// Waits (up to the host's 5 s) until the worker answered the stream or refused it: a
    /// worker applies a stream's first control before it answers, so telemetry is then on.
    pub(super) async fn opened(&self) {
        let wait = async {
            loop {
                let changed = self.log.changed.notified();
                if !matches!(self.log.state(), StreamState::Opening) {
                    return;
                }
                changed.await;
            }
        };
        let _ = tokio::time::timeout(OPEN_TIMEOUT, wait).await;
    }

    /// Sends `control` on the stream, as the host does, then waits until it is in force.
    ///
    /// The protocol has no acknowledgement, and a control on the open stream can reach the
    /// worker after a call made later on another stream. A worker applies a new stream's first
    /// control before it answers that stream, so the launcher confirms by opening a short
    /// second stream that starts with the same control (every control is idempotent) and
    /// closing it once answered; a worker that refuses it leaves the control unconfirmed.
    async fn send(&self, control: proto::TelemetryControl) -> Result<(), LaunchError> {
        self.send_on_stream(control.clone()).await?;
        let mut client = self.client.clone();
        let first = tokio_stream::once(control);
        let _ = tokio::time::timeout(OPEN_TIMEOUT, client.stream_telemetry(first)).await;
        Ok(())
    }

    /// Sends `control` on the open stream and waits until the stream has taken it.
    async fn send_on_stream(&self, control: proto::TelemetryControl) -> Result<(), LaunchError> {
        let closed = |log: &TelemetryLog| match log.state() {
            StreamState::Closed(reason) => reason,
            _ => "the telemetry stream is closed".to_owned(),
        };
        if let StreamState::Closed(reason) = self.log.state() {
            return Err(LaunchError::Telemetry { reason });
        }
        self.controls
            .send(control)
            .await
            .map_err(|_| LaunchError::Telemetry {
                reason: closed(&self.log),
            })?;
        // With one slot, a free slot means the stream read the control.
        let taken = tokio::time::timeout(OPEN_TIMEOUT, self.controls.reserve()).await;
        match taken {
            Ok(Ok(_permit)) => Ok(()),
            Ok(Err(_)) => Err(LaunchError::Telemetry {
                reason: closed(&self.log),
            }),
            Err(_) => Err(LaunchError::Telemetry {
                reason: format!(
                    "the telemetry stream did not take the control within {OPEN_TIMEOUT:?}"
                ),
            }),
        }
    }
}

impl LaunchedWorker {
    /// The telemetry events received from the worker so far, oldest first (the last
    /// [`TELEMETRY_EVENTS_KEPT`]), as the worker sent them: the host drops events outside its
    /// catalog (`lib/snakepit/telemetry/naming.ex`), the launcher keeps everything.
    pub fn telemetry_events(&self) -> Vec<proto::TelemetryEvent> {
        self.telemetry.log.events().iter().cloned().collect()
    }

    /// Waits up to `limit` for a received event that `matches` (one received already counts);
    /// the first such event, or `None` once the time is up or the stream is closed.
    pub async fn wait_for_telemetry(
        &self,
        limit: Duration,
        matches: impl Fn(&proto::TelemetryEvent) -> bool,
    ) -> Option<proto::TelemetryEvent> {
        let log = &self.telemetry.log;
        let wait = async {
            loop {
                // Registered before looking, so an event arriving in between is not missed.
                let changed = log.changed.notified();
                if let Some(event) = log.events().iter().find(|event| matches(event)) {
                    return Some(event.clone());
                }
                if let StreamState::Closed(_) = log.state() {
                    return None;
                }
                changed.await;
            }
        };
        tokio::time::timeout(limit, wait).await.ok().flatten()
    }

    /// Turns the worker's telemetry on or off, as `Snakepit.Telemetry.GrpcStream.toggle/2`
    /// does: a `toggle` control on the open stream. The protocol has no acknowledgement; the
    /// launcher confirms the control before returning, so that a call made afterwards runs
    /// under it: it opens a second, short stream whose first control is the same (a worker
    /// applies a stream's first control before answering it), which snakepit does not do.
    pub async fn toggle_telemetry(&self, enabled: bool) -> Result<(), LaunchError> {
        self.telemetry.send(toggle(enabled)).await
    }

    /// Sets the sampling rate (0.0 to 1.0) for events matching `patterns` (all when empty), as
    /// `GrpcStream.update_sampling/3` does; confirmed as [`toggle_telemetry`](Self::toggle_telemetry)
    /// is.
    pub async fn update_telemetry_sampling(
        &self,
        rate: f64,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<(), LaunchError> {
        let sampling = proto::TelemetrySamplingUpdate {
            sampling_rate: rate,
            event_patterns: patterns.into_iter().map(Into::into).collect(),
        };
        self.telemetry
            .send(proto::TelemetryControl {
                control: Some(Control::Sampling(sampling)),
            })
            .await
    }

    /// Sets the event filter (`allow` and `deny` patterns), as `GrpcStream.update_filter/2`
    /// does; confirmed as [`toggle_telemetry`](Self::toggle_telemetry) is.
    pub async fn update_telemetry_filter(
        &self,
        allow: impl IntoIterator<Item = impl Into<String>>,
        deny: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<(), LaunchError> {
        let filter = proto::TelemetryEventFilter {
            allow: allow.into_iter().map(Into::into).collect(),
            deny: deny.into_iter().map(Into::into).collect(),
        };
        self.telemetry
            .send(proto::TelemetryControl {
                control: Some(Control::Filter(filter)),
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_events() {
        let log = TelemetryLog::new();
        for n in 0..TELEMETRY_EVENTS_KEPT + 3 {
            log.keep(proto::TelemetryEvent {
                timestamp_ns: n as i64,
                ..Default::default()
            });
        }
        let events = log.events();
        assert_eq!(events.len(), TELEMETRY_EVENTS_KEPT);
        assert_eq!(events.front().unwrap().timestamp_ns, 3);
    }
}
