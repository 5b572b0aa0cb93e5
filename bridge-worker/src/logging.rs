//! Logs to stderr through `tracing`, at `SNAKEPIT_LOG_LEVEL` (or `RUST_LOG`), never failing:
//! once the host is gone, stderr is a closed pipe, and a failed write must not kill the
//! worker (`eprintln!` would panic).
//!
//! `RUST_LOG` is read as a list of `target=level` directives and bare levels
//! (`info,snakepit_bridge_worker=debug`), parsed by tracing-subscriber's [`Targets`] (no regex
//! engine in every worker, as its `EnvFilter` would bring). When it is unset, empty or not such a
//! list (`EnvFilter`'s span and field filters included), `SNAKEPIT_LOG_LEVEL` applies.

use std::io::Write;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogLevel;

/// Installs the worker's log subscriber, unless the program installed one already.
pub(crate) fn init(level: LogLevel) {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref(), level);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(QuietStderr)
                .with_ansi(false),
        )
        .with(filter)
        .try_init();
}

/// What is logged: the `RUST_LOG` directives if they parse, else everything at `level`.
fn filter(rust_log: Option<&str>, level: LogLevel) -> Targets {
    rust_log
        .map(str::trim)
        .filter(|directives| !directives.is_empty())
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(level_filter(level)))
}

fn level_filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Warning => LevelFilter::WARN,
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::None => LevelFilter::OFF,
    }
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

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn snakepit_log_level_applies_without_rust_log() {
        let filter = filter(None, LogLevel::Warning);
        assert!(filter.would_enable("snakepit_bridge_worker::service", &Level::WARN));
        assert!(filter.would_enable("my_worker", &Level::ERROR));
        assert!(!filter.would_enable("my_worker", &Level::INFO));

        assert!(filter_enables_nothing(&super::filter(None, LogLevel::None)));
        let debug = super::filter(None, LogLevel::Debug);
        assert!(debug.would_enable("h2", &Level::DEBUG));
        assert!(!debug.would_enable("h2", &Level::TRACE));
    }

    #[test]
    fn rust_log_directives_choose_levels_per_target() {
        let filter = filter(
            Some("warn,snakepit_bridge_worker=debug,h2=off"),
            LogLevel::Error,
        );
        assert!(filter.would_enable("snakepit_bridge_worker::service", &Level::DEBUG));
        assert!(!filter.would_enable("snakepit_bridge_worker::service", &Level::TRACE));
        assert!(filter.would_enable("my_worker", &Level::WARN));
        assert!(!filter.would_enable("my_worker", &Level::INFO));
        assert!(!filter.would_enable("h2::proto", &Level::ERROR));

        let bare = filter_of("info");
        assert!(bare.would_enable("anything", &Level::INFO));
        assert!(!bare.would_enable("anything", &Level::DEBUG));
    }

    #[test]
    fn an_empty_or_unreadable_rust_log_falls_back_to_snakepit_log_level() {
        for rust_log in ["", "  ", "my_worker[span{id=1}]=debug", "=what", "a=loud"] {
            let filter = filter(Some(rust_log), LogLevel::Info);
            assert!(
                filter.would_enable("my_worker", &Level::INFO),
                "{rust_log:?}"
            );
            assert!(
                !filter.would_enable("my_worker", &Level::DEBUG),
                "{rust_log:?}"
            );
        }
    }

    fn filter_of(rust_log: &str) -> Targets {
        filter(Some(rust_log), LogLevel::None)
    }

    fn filter_enables_nothing(filter: &Targets) -> bool {
        [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ]
        .iter()
        .all(|level| !filter.would_enable("any", level))
    }
}
