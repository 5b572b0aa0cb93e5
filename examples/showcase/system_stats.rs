//! `get_stats`'s `system` figures, read from Linux's `/proc` with no extra dependency: the
//! resident memory (`VmRSS` of `/proc/self/status`) and the CPU time the process used
//! (`utime` + `stime` of `/proc/self/stat`). Where `/proc` cannot be read (not Linux, a
//! sandbox), the figure is `None` and `get_stats` answers `null` for it.
//!
//! snakepit's Python showcase (`showcase_adapter.py` `get_stats`) reports psutil's RSS and
//! `psutil.cpu_percent(interval=0.1)`, the whole machine's CPU sampled for 0.1 s. This worker
//! reports its own process's CPU instead, over the time since the previous `get_stats` call (the
//! first call: since the worker started), as psutil's `Process.cpu_percent()` does: a percent of
//! one core, so a process busy on two cores reads 200.

use std::sync::Mutex;
use std::time::Instant;

/// The resident set size in bytes, from the text of `/proc/<pid>/status` (`VmRSS:  1234 kB`).
pub fn rss_bytes_from_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut fields = line["VmRSS:".len()..].split_whitespace();
    let amount: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => amount.checked_mul(1024),
        _ => None,
    }
}

/// The CPU time used in clock ticks (`utime` + `stime`, fields 14 and 15), from the text of
/// `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may hold spaces and
/// parentheses itself, so the fields are counted from the last `)`.
pub fn cpu_ticks_from_stat(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name come field 3 (state), 4, ...: utime (14) is the 12th, stime (15) the 13th.
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    utime.checked_add(stime)
}

/// This process's resident memory in bytes, if `/proc` can be read.
pub fn resident_bytes() -> Option<u64> {
    rss_bytes_from_status(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The CPU time this process used, in seconds, if `/proc` can be read.
pub fn cpu_seconds() -> Option<f64> {
    let ticks = cpu_ticks_from_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    Some(ticks as f64 / clock_ticks_per_second()? as f64)
}

/// The unit of `/proc/<pid>/stat`'s times (`sysconf(_SC_CLK_TCK)`, 100 on common systems).
#[cfg(unix)]
fn clock_ticks_per_second() -> Option<u64> {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&ticks| ticks > 0)
}

#[cfg(not(unix))]
fn clock_ticks_per_second() -> Option<u64> {
    None
}

/// The CPU percent of this process since the previous reading.
pub struct CpuMeter {
    last: Mutex<Option<Reading>>,
}

#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    cpu_seconds: f64,
}

impl CpuMeter {
    /// A meter whose first reading covers the time from now (the worker's start).
    pub fn new() -> CpuMeter {
        CpuMeter {
            last: Mutex::new(cpu_seconds().map(|cpu_seconds| Reading {
                at: Instant::now(),
                cpu_seconds,
            })),
        }
    }

    /// The CPU this process used since the previous call (the first: since [`new`](Self::new)),
    /// as a percent of one core rounded to 0.1; `None` where `/proc` cannot be read.
    pub fn percent_since_last(&self) -> Option<f64> {
        let now = Reading {
            at: Instant::now(),
            cpu_seconds: cpu_seconds()?,
        };
        // A poisoned lock only means another call panicked between two plain stores.
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let previous = last.replace(now)?;
        Some(percent(previous, now))
    }
}

fn percent(previous: Reading, now: Reading) -> f64 {
    let wall = now.at.saturating_duration_since(previous.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    let used = (now.cpu_seconds - previous.cpu_seconds).max(0.0);
    round_to(used / wall * 100.0, 1)
}

/// `value` rounded to `decimals` places, as Python's `round`.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}
