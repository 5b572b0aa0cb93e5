//! Logs to stderr through `tracing`, at `SNAKEPIT_LOG_LEVEL` (or `RUST_LOG`), never failing:
//! once the host is gone, stderr is a closed pipe, and a failed write must not kill the
//! worker (`eprintln!` would panic).

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogLevel;

/// Installs the worker's log subscriber, unless the program installed one already.
pub(crate) fn init(level: LogLevel) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| tracing_subscriber::EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(level.directive()));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(QuietStderr)
        .with_ansi(false)
        .try_init();
}

/// stderr, ignoring write errors.
#[derive(Clone, Copy)]
struct QuietStderr;

impl Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for QuietStderr {
    type Writer = QuietStderr;
    fn make_writer(&'a self) -> Self::Writer {
        QuietStderr
    }
}

/// Writes one line to stderr, ignoring failure (for messages before logging is set up).
pub(crate) fn print_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
