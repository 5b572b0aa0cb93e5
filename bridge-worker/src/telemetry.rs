//! Telemetry into Elixir: the events snakepit re-emits as `:telemetry` events.
//!
//! snakepit opens `StreamTelemetry` to every worker, sends `toggle{enabled: true}` first, may
//! later send `sampling` and `filter` controls, and re-emits each `TelemetryEvent` it reads as
//! `[:snakepit, :python | event_parts]` (lib/snakepit/telemetry/grpc_stream.ex
//! `initiate_stream/2`, `translate_and_emit/2`). It drops an event whose name is outside its
//! catalog, or that carries a measurement key outside its allow-list
//! (lib/snakepit/telemetry/naming.ex `from_parts/1`, `measurement_key/1`).
//!
//! The worker emits one event per call, the end of what snakepit's Python worker emits with
//! `telemetry.span("tool.execution", {"tool": name}, correlation_id)`
//! (priv/python/snakepit_bridge/telemetry/__init__.py `span/3`): `tool.execution.stop`
//! (`duration`, ns, and for a unary call `message_size`, the result's bytes, a key of the
//! catalog) or `tool.execution.exception` (`duration`, ns; metadata `error_type`,
//! `error_message`). No `tool.execution.start` and no separate `tool.result_size`: three
//! events a call instead of one cost a 2-core pool its floor (the BEAM re-emits each one;
//! BENCHMARKS.md, "Telemetry in a real pool"), and a tool that wants them emits them itself
//! ([`Telemetry::emit`]). Controls
//! behave as in priv/python/snakepit_bridge/telemetry/stream.py `_handle_control/1`: one
//! setting for the whole worker, whichever stream sent it; sampling is per event; filters are
//! glob patterns on the dotted name, deny first. Events wait in a bounded buffer and are
//! dropped, never waited for, when the host reads too slowly.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use snakepit_bridge_runtime::proto;
use snakepit_bridge_runtime::proto::telemetry_control::Control;
use snakepit_bridge_runtime::proto::telemetry_value::Value as WireValue;
use tokio::sync::broadcast;

/// The event names snakepit accepts from a worker, in its catalog's order
/// (lib/snakepit/telemetry/naming.ex `from_parts/1`).
pub const EVENT_CATALOG: &[&str] = &[
    "python.call.start",
    "python.call.stop",
    "python.call.exception",
    "python.memory.sampled",
    "python.cpu.sampled",
    "python.gc.completed",
    "python.error.occurred",
    "tool.execution.start",
    "tool.execution.stop",
    "tool.execution.exception",
    "tool.result_size",
];

/// The measurement keys snakepit accepts (lib/snakepit/telemetry/naming.ex
/// `@measurement_keys`); an event with any other key is dropped whole.
pub const MEASUREMENT_KEYS: &[&str] = &[
    "duration",
    "duration_ms",
    "bytes",
    "system_time",
    "queue_depth",
    "queue_time",
    "available_workers",
    "busy_workers",
    "total_workers",
    "worker_count",
    "lifetime",
    "total_commands",
    "command_count",
    "downtime",
    "restart_count",
    "retry_count",
    "request_size",
    "response_size",
    "message_size",
    "sequence_number",
    "message_count",
    "network_time",
    "uptime",
    "call_count",
    "affinity_duration",
    "commands_with_affinity",
    "rss_bytes",
    "vms_bytes",
    "cpu_percent",
    "collected",
    "generation",
    "latency_ms",
    "count",
    "python_pid",
];

mod batches;
pub(crate) use batches::TelemetryBatches;

/// Events waiting for a slow host before new ones are dropped (Python's `max_buffer`).
const BUFFER: usize = 1024;

/// One measurement of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Measurement {
    /// An integer (`int_value`).
    Int(i64),
    /// A float (`float_value`).
    Float(f64),
    /// Text (`string_value`).
    Text(String),
}

impl Measurement {
    /// The current Unix time in nanoseconds (Python's `time.time_ns()`), what snakepit's
    /// `system_time` measurement holds: `[("system_time", Measurement::system_time())]`.
    pub fn system_time() -> Measurement {
        Measurement::Int(unix_nanos())
    }
}

impl From<i64> for Measurement {
    fn from(value: i64) -> Self {
        Measurement::Int(value)
    }
}

impl From<i32> for Measurement {
    fn from(value: i32) -> Self {
        Measurement::Int(value.into())
    }
}

impl From<u32> for Measurement {
    fn from(value: u32) -> Self {
        Measurement::Int(value.into())
    }
}

/// Saturates at `i64::MAX`, the wire's largest integer.
impl From<u64> for Measurement {
    fn from(value: u64) -> Self {
        Measurement::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

/// Saturates at `i64::MAX`, the wire's largest integer.
impl From<usize> for Measurement {
    fn from(value: usize) -> Self {
        Measurement::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

/// `true` is 1, as Python sends it.
impl From<bool> for Measurement {
    fn from(value: bool) -> Self {
        Measurement::Int(value.into())
    }
}

impl From<f64> for Measurement {
    fn from(value: f64) -> Self {
        Measurement::Float(value)
    }
}

impl From<&str> for Measurement {
    fn from(value: &str) -> Self {
        Measurement::Text(value.to_owned())
    }
}

impl From<String> for Measurement {
    fn from(value: String) -> Self {
        Measurement::Text(value)
    }
}

impl Measurement {
    fn into_wire(self) -> proto::TelemetryValue {
        proto::TelemetryValue {
            value: Some(match self {
                Measurement::Int(value) => WireValue::IntValue(value),
                Measurement::Float(value) => WireValue::FloatValue(value),
                Measurement::Text(value) => WireValue::StringValue(value),
            }),
        }
    }
}

/// An event snakepit would drop, refused before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The name is not in snakepit's catalog.
    #[error("telemetry event `{event}` is not in snakepit's catalog, so the host would drop it{hint}; use one of: {}", EVENT_CATALOG.join(", "))]
    UnknownEvent {
        /// The refused name.
        event: String,
        /// ", did you mean ..." when a catalog name is close.
        hint: String,
    },
    /// A measurement key is not in snakepit's allow-list.
    #[error("telemetry event `{event}`: measurement `{key}` is not one snakepit accepts, so the host would drop the whole event{hint}; use one of: {}", MEASUREMENT_KEYS.join(", "))]
    UnknownMeasurement {
        /// The event.
        event: String,
        /// The refused key.
        key: String,
        /// ", did you mean ..." when an accepted key is close.
        hint: String,
    },
}

/// A refused event fails the tool as a `ValueError` naming the event, so a tool can `?` it.
impl From<TelemetryError> for crate::ToolError {
    fn from(error: TelemetryError) -> Self {
        crate::ToolError::value_error(error.to_string())
    }
}

/// Checks an event's name and measurement keys against snakepit's catalog.
pub(crate) fn check_event<'a>(
    event: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<(), TelemetryError> {
    let hint = |name: &str, known: &[&'static str]| {
        snakepit_bridge_spec::closest_name(name, known.iter().copied())
            .map(|close| format!(" (did you mean `{close}`?)"))
            .unwrap_or_default()
    };
    if !EVENT_CATALOG.contains(&event) {
        return Err(TelemetryError::UnknownEvent {
            event: event.to_owned(),
            hint: hint(event, EVENT_CATALOG),
        });
    }
    for key in keys {
        if !MEASUREMENT_KEYS.contains(&key) {
            return Err(TelemetryError::UnknownMeasurement {
                event: event.to_owned(),
                key: key.to_owned(),
                hint: hint(key, MEASUREMENT_KEYS),
            });
        }
    }
    Ok(())
}

/// What the host's controls set (priv/python/snakepit_bridge/telemetry/stream.py).
#[derive(Debug, Default)]
struct Controls {
    sampling_rate: f64,
    sampling_patterns: Vec<glob::Pattern>,
    allow: Vec<glob::Pattern>,
    deny: Vec<glob::Pattern>,
}

impl Controls {
    /// Whether an event named `event` goes out, sampling included.
    fn admits(&self, event: &str) -> bool {
        if self.deny.iter().any(|pattern| pattern.matches(event)) {
            return false;
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|pattern| pattern.matches(event)) {
            return false;
        }
        let sampled = self.sampling_patterns.is_empty()
            || self
                .sampling_patterns
                .iter()
                .any(|pattern| pattern.matches(event));
        !(sampled && self.sampling_rate < 1.0 && fastrand::f64() >= self.sampling_rate)
    }
}

fn patterns(texts: &[String]) -> Vec<glob::Pattern> {
    texts
        .iter()
        .filter_map(|text| match glob::Pattern::new(text) {
            Ok(pattern) => Some(pattern),
            Err(error) => {
                tracing::warn!(pattern = %text, %error, "the host sent a telemetry pattern that is not a glob; it is ignored");
                None
            }
        })
        .collect()
}

/// The worker's telemetry: settings from the host's controls, and the open streams.
#[derive(Debug)]
pub(crate) struct TelemetryHub {
    events: broadcast::Sender<proto::TelemetryEvent>,
    enabled: AtomicBool,
    /// No filter and full sampling: every event goes out without reading `controls`.
    plain: AtomicBool,
    controls: RwLock<Controls>,
    dropped: AtomicU64,
    /// Told when the channel is half full, so that an open batch goes out before its window
    /// ends rather than let the channel overflow (see `batches`).
    half_full: Arc<tokio::sync::Notify>,
}

impl TelemetryHub {
    pub(crate) fn new() -> TelemetryHub {
        TelemetryHub {
            events: broadcast::channel(BUFFER).0,
            enabled: AtomicBool::new(true),
            plain: AtomicBool::new(true),
            controls: RwLock::new(Controls {
                sampling_rate: 1.0,
                ..Controls::default()
            }),
            dropped: AtomicU64::new(0),
            half_full: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Whether events go anywhere: a stream is open and the host has not turned them off.
    pub(crate) fn is_active(&self) -> bool {
        self.events.receiver_count() > 0 && self.enabled.load(Ordering::Relaxed)
    }

    /// A new stream's events.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<proto::TelemetryEvent> {
        self.events.subscribe()
    }

    /// How many events wait in the channel for its slowest stream.
    pub(crate) fn queued(&self) -> usize {
        self.events.len()
    }

    /// Events dropped because a stream fell behind.
    pub(crate) fn note_dropped(&self, count: u64) {
        let total = self.dropped.fetch_add(count, Ordering::Relaxed) + count;
        tracing::debug!(
            dropped = total,
            "telemetry events dropped: the host reads too slowly"
        );
    }

    /// Applies one of the host's controls.
    pub(crate) fn apply(&self, control: &proto::TelemetryControl) {
        let mut controls = self.controls.write().unwrap_or_else(|p| p.into_inner());
        match &control.control {
            Some(Control::Toggle(toggle)) => {
                self.enabled.store(toggle.enabled, Ordering::Relaxed);
                tracing::debug!(enabled = toggle.enabled, "telemetry toggled by the host");
            }
            Some(Control::Sampling(sampling)) => {
                let rate = sampling.sampling_rate;
                controls.sampling_rate = if rate.is_nan() {
                    1.0
                } else {
                    rate.clamp(0.0, 1.0)
                };
                controls.sampling_patterns = patterns(&sampling.event_patterns);
                tracing::debug!(
                    rate = controls.sampling_rate,
                    "telemetry sampling set by the host"
                );
            }
            Some(Control::Filter(filter)) => {
                controls.allow = patterns(&filter.allow);
                controls.deny = patterns(&filter.deny);
                tracing::debug!(allow = ?filter.allow, deny = ?filter.deny, "telemetry filter set by the host");
            }
            None => {}
        }
        let plain =
            controls.sampling_rate >= 1.0 && controls.allow.is_empty() && controls.deny.is_empty();
        self.plain.store(plain, Ordering::Relaxed);
    }

    fn admits(&self, event: &str) -> bool {
        self.plain.load(Ordering::Relaxed)
            || self
                .controls
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .admits(event)
    }

    /// Sends one event (already checked against the catalog) if the settings admit it.
    fn send<'a>(
        &self,
        event: &str,
        correlation_id: Option<&str>,
        measurements: impl IntoIterator<Item = (&'a str, Measurement)>,
        metadata: impl IntoIterator<Item = (String, String)>,
    ) {
        if !self.is_active() || !self.admits(event) {
            return;
        }
        let event = proto::TelemetryEvent {
            event_parts: event.split('.').map(str::to_owned).collect(),
            measurements: measurements
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.into_wire()))
                .collect(),
            metadata: metadata.into_iter().collect(),
            timestamp_ns: unix_nanos(),
            correlation_id: correlation_id.unwrap_or_default().to_owned(),
        };
        // No receiver left is not an error: the stream closed meanwhile.
        let _ = self.events.send(event);
        if self.events.len() >= BUFFER / 2 {
            self.half_full.notify_one();
        }
    }

    /// The events of one call, if any go out now.
    pub(crate) fn start_call(
        self: &Arc<Self>,
        tool: &str,
        correlation_id: Option<&str>,
    ) -> Option<CallTelemetry> {
        if !self.is_active() {
            return None;
        }
        let call = CallTelemetry {
            hub: self.clone(),
            tool: tool.to_owned(),
            correlation_id: correlation_id.map(str::to_owned),
            started: Instant::now(),
        };
        Some(call)
    }
}

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The telemetry of one call under way: its stop (or exception) and result size to come.
#[derive(Debug)]
pub(crate) struct CallTelemetry {
    hub: Arc<TelemetryHub>,
    tool: String,
    correlation_id: Option<String>,
    started: Instant,
}

impl CallTelemetry {
    fn metadata(&self) -> [(String, String); 1] {
        [("tool".to_owned(), self.tool.clone())]
    }

    fn duration(&self) -> Measurement {
        Measurement::from(u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// The call succeeded with a result of `size` bytes (`None` for a stream).
    pub(crate) fn succeeded(self, size: Option<usize>) {
        let duration = ("duration", self.duration());
        let size = size.map(|size| ("message_size", Measurement::from(size)));
        self.hub.send(
            "tool.execution.stop",
            self.correlation_id.as_deref(),
            std::iter::once(duration).chain(size),
            self.metadata(),
        );
    }

    /// The call failed with `error_type` and `message`.
    pub(crate) fn failed(self, error_type: &str, message: &str) {
        let [tool] = self.metadata();
        self.hub.send(
            "tool.execution.exception",
            self.correlation_id.as_deref(),
            [("duration", self.duration())],
            [
                tool,
                ("error_type".to_owned(), error_type.to_owned()),
                ("error_message".to_owned(), message.to_owned()),
            ],
        );
    }
}

/// Emits catalog events into Elixir from a tool: take it with
/// [`ToolContext::telemetry`](crate::ToolContext::telemetry).
///
/// Each event is checked against snakepit's catalog first (an unknown name or measurement key
/// is an error saying what the host accepts), then sent on the worker's telemetry stream with
/// the call's correlation id, if the host has the stream open and has not turned telemetry
/// off, filtered or sampled it out. An Elixir handler attached to
/// `[:snakepit, :python | event]` receives it.
///
/// ```
/// use snakepit_bridge::worker::{Measurement, ToolCall};
///
/// let ctx = ToolCall::for_test("predict", serde_json::json!({}), []).context();
/// ctx.telemetry()
///     .emit_with("tool.result_size", [("bytes", Measurement::from(512u64))], [("model", "small")])
///     .unwrap();
/// let error = ctx.telemetry().emit("model.loaded", [("count", Measurement::from(1))]).unwrap_err();
/// assert!(error.to_string().contains("not in snakepit's catalog"));
/// ```
#[derive(Debug, Clone)]
pub struct Telemetry {
    hub: Option<Arc<TelemetryHub>>,
    correlation_id: Option<String>,
}

impl Telemetry {
    pub(crate) fn new(hub: Option<Arc<TelemetryHub>>, correlation_id: Option<String>) -> Self {
        Telemetry {
            hub,
            correlation_id,
        }
    }

    /// Emits `event` (a catalog name such as `"tool.result_size"`) with `measurements`.
    pub fn emit<K, V>(
        &self,
        event: &str,
        measurements: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), TelemetryError>
    where
        K: AsRef<str>,
        V: Into<Measurement>,
    {
        self.emit_with(event, measurements, std::iter::empty::<(String, String)>())
    }

    /// Emits `event` with `measurements` and `metadata` (strings, as on the wire; snakepit
    /// turns the keys it knows, such as `tool` or `model`, into atoms).
    pub fn emit_with<K, V, MK, MV>(
        &self,
        event: &str,
        measurements: impl IntoIterator<Item = (K, V)>,
        metadata: impl IntoIterator<Item = (MK, MV)>,
    ) -> Result<(), TelemetryError>
    where
        K: AsRef<str>,
        V: Into<Measurement>,
        MK: Into<String>,
        MV: Into<String>,
    {
        let measurements: Vec<(K, Measurement)> = measurements
            .into_iter()
            .map(|(key, value)| (key, value.into()))
            .collect();
        check_event(event, measurements.iter().map(|(key, _)| key.as_ref()))?;
        if let Some(hub) = &self.hub {
            hub.send(
                event,
                self.correlation_id.as_deref(),
                measurements
                    .iter()
                    .map(|(key, value)| (key.as_ref(), value.clone())),
                metadata
                    .into_iter()
                    .map(|(key, value)| (key.into(), value.into())),
            );
        }
        Ok(())
    }

    /// Whether emitted events go anywhere now (a stream is open and telemetry is on), to skip
    /// measuring what nobody receives.
    pub fn is_active(&self) -> bool {
        self.hub.as_ref().is_some_and(|hub| hub.is_active())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toggle(enabled: bool) -> proto::TelemetryControl {
        proto::TelemetryControl {
            control: Some(Control::Toggle(proto::TelemetryToggle { enabled })),
        }
    }

    #[test]
    fn the_catalog_refuses_unknown_names_and_keys_with_a_suggestion() {
        check_event("tool.execution.stop", ["duration"]).unwrap();
        let error = check_event("tool.execution.stopp", ["duration"]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("did you mean `tool.execution.stop`"),
            "{error}"
        );
        let error = check_event("tool.result_size", ["size"]).unwrap_err();
        assert!(
            matches!(&error, TelemetryError::UnknownMeasurement { key, .. } if key == "size"),
            "{error}"
        );
    }

    #[test]
    fn controls_toggle_filter_and_sample() {
        let hub = Arc::new(TelemetryHub::new());
        assert!(!hub.is_active(), "no stream open");
        let mut events = hub.subscribe();
        assert!(hub.is_active());
        hub.apply(&toggle(false));
        assert!(!hub.is_active());
        hub.apply(&toggle(true));

        hub.apply(&proto::TelemetryControl {
            control: Some(Control::Filter(proto::TelemetryEventFilter {
                allow: vec!["tool.*".into()],
                deny: vec!["tool.result_size".into()],
            })),
        });
        assert!(hub.admits("tool.execution.start"));
        assert!(!hub.admits("tool.result_size"));
        assert!(!hub.admits("python.call.start"));

        hub.apply(&proto::TelemetryControl {
            control: Some(Control::Sampling(proto::TelemetrySamplingUpdate {
                sampling_rate: 0.0,
                event_patterns: vec!["tool.execution.start".into()],
            })),
        });
        assert!(!hub.admits("tool.execution.start"));
        assert!(hub.admits("tool.execution.stop"));

        let call = hub.start_call("t", Some("c-1")).expect("active");
        call.succeeded(Some(3));
        let stop = events.try_recv().unwrap();
        assert_eq!(stop.event_parts, ["tool", "execution", "stop"]);
        assert_eq!(stop.correlation_id, "c-1");
        assert!(events.try_recv().is_err(), "start sampled out, size denied");
    }
}
