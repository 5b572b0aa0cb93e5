//! `telemetry_demo`'s span, as Python's `telemetry.span`.
//!
//! snakepit's Python showcase (`handlers/basic_ops.py` `telemetry_demo`, with
//! `snakepit_bridge/telemetry/__init__.py` `emit` and `span`) emits, with the request's
//! correlation id: `tool.execution.start` `{system_time}`; then a span, `tool.execution.start`
//! `{system_time}`, the simulated work, `tool.result_size` `{bytes: 42}`, and
//! `tool.execution.stop` `{duration}` (nanoseconds). The worker sends them on its
//! `StreamTelemetry` stream (`ToolContext::telemetry`), and the host re-emits them as
//! `:telemetry` events (`lib/snakepit/telemetry/naming.ex` lists the accepted names and
//! measurement keys).

use std::time::Instant;

use snakepit_bridge::worker::{Measurement, Telemetry, ToolError};

/// An operation under way, as Python's `with telemetry.span(operation, metadata)`: its
/// `{operation}.start` is sent, its `{operation}.stop` is to come. (The demo's work cannot
/// fail, so it has no `.exception`; the worker emits `tool.execution.exception` for every
/// failed call itself.)
pub struct Span<'a> {
    telemetry: &'a Telemetry,
    operation: &'static str,
    metadata: Vec<(&'static str, String)>,
    started: Instant,
}

impl<'a> Span<'a> {
    /// Emits `{operation}.start` `{system_time}` with `metadata`.
    pub fn start(
        telemetry: &'a Telemetry,
        operation: &'static str,
        metadata: Vec<(&'static str, String)>,
    ) -> Result<Span<'a>, ToolError> {
        telemetry.emit_with(
            &format!("{operation}.start"),
            [("system_time", Measurement::system_time())],
            metadata.clone(),
        )?;
        Ok(Span {
            telemetry,
            operation,
            metadata,
            started: Instant::now(),
        })
    }

    fn duration_ns(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_nanos()).unwrap_or(i64::MAX)
    }

    /// Emits `{operation}.stop` `{duration}` (nanoseconds).
    pub fn stop(self) -> Result<(), ToolError> {
        self.telemetry.emit_with(
            &format!("{}.stop", self.operation),
            [("duration", self.duration_ns())],
            self.metadata.clone(),
        )?;
        Ok(())
    }
}
