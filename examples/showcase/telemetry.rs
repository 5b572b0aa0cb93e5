//! `telemetry_demo`'s events, and the one place they leave the worker.
//!
//! snakepit's Python showcase (`handlers/basic_ops.py` `telemetry_demo`, with
//! `snakepit_bridge/telemetry/__init__.py` `emit` and `span`) emits, with the request's
//! correlation id: `tool.execution.start` `{system_time}`; then a span, `tool.execution.start`
//! `{system_time}`, the simulated work, `tool.result_size` `{bytes: 42}`, and
//! `tool.execution.stop` `{duration}` (nanoseconds). The host re-emits the events it receives on
//! the `StreamTelemetry` stream as `:telemetry` events (`lib/snakepit/telemetry/naming.ex`
//! lists the accepted names and measurement keys).

use snakepit_bridge::worker::ToolContext;

/// One measurement of an event, as the wire's `TelemetryValue` carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measurement {
    /// `int_value`.
    Int(i64),
    /// `float_value`.
    #[allow(dead_code)]
    Float(f64),
}

/// One telemetry event: its dotted name (`tool.execution.start`), measurements and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub name: &'a str,
    pub measurements: Vec<(&'a str, Measurement)>,
    pub metadata: Vec<(&'a str, String)>,
}

/// TELEMETRY HOOK, NOT WIRED YET: sends `event` to the host, with the call's correlation id,
/// and answers whether it was sent.
///
/// The worker has no telemetry API on this branch, so this sends nothing and answers `false`;
/// `telemetry_demo` then reports `"telemetry_enabled": false` instead of claiming events it did
/// not send. Once `ToolContext` can emit, this function must hand the event to it: event parts
/// = `event.name` split on `.`, each measurement as a `TelemetryValue` (`Int` → `int_value`,
/// `Float` → `float_value`), the metadata as strings, `timestamp_ns` = now, `correlation_id` =
/// `ctx.correlation_id()`; and answer whether the host's stream is on (Python's
/// `telemetry.is_enabled()`), so that a host that toggled telemetry off reads `false`.
pub fn emit(ctx: &ToolContext, event: &Event<'_>) -> bool {
    let _ = (ctx, event);
    false
}
