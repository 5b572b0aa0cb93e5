//! The worker's OS process as snakepit's port holds it: stdin a pipe, stdout and stderr merged
//! into one pipe whose last 4096 bytes are kept for diagnostics, stopped with SIGTERM to its
//! group (when it leads one) and SIGKILL after a grace period.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How many bytes of output snakepit keeps for crash and start-up diagnostics.
pub(crate) const OUTPUT_TAIL_BYTES: usize = 4096;

/// The worker's output, last bytes first kept.
#[derive(Debug, Default)]
pub(crate) struct OutputTail {
    bytes: Mutex<VecDeque<u8>>,
    /// The last panic the worker reported, kept apart: a backtrace (`RUST_BACKTRACE=1`) is
    /// longer than the tail, and its last lines say nothing of what went wrong.
    panic: Mutex<PanicCapture>,
    /// Woken on each chunk of output (the host re-checks the ready file at once).
    pub(crate) arrived: Notify,
    /// Set once the pipe is closed: every writer (the worker and its children) is gone.
    ended: std::sync::atomic::AtomicBool,
}

/// Finds a Rust panic report in the output as it streams by: the `thread '...' panicked at
/// <place>:` line and the message lines after it, up to the backtrace or the `note:` line.
#[derive(Debug, Default)]
struct PanicCapture {
    /// The line being read (output arrives in chunks that split lines).
    partial: Vec<u8>,
    /// The last panic: its lines.
    lines: Vec<String>,
    /// Whether the message lines are still being read.
    reading: bool,
}

/// At most this many message lines of a panic are quoted.
const PANIC_MESSAGE_LINES: usize = 8;

impl PanicCapture {
    fn push(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            if byte == b'\n' {
                let line = String::from_utf8_lossy(&self.partial).trim_end().to_owned();
                self.partial.clear();
                self.line(line);
            } else if self.partial.len() < 4096 {
                self.partial.push(byte);
            }
        }
    }

    fn line(&mut self, line: String) {
        if line.contains(" panicked at ") {
            self.lines = vec![line];
            self.reading = true;
        } else if self.reading {
            let ends = line.trim().is_empty()
                || line.starts_with("stack backtrace:")
                || line.starts_with("note: ")
                || self.lines.len() > PANIC_MESSAGE_LINES;
            if ends {
                self.reading = false;
            } else {
                self.lines.push(line);
            }
        }
    }
}

impl OutputTail {
    fn push(&self, chunk: &[u8]) {
        let mut bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        bytes.extend(chunk);
        let excess = bytes.len().saturating_sub(OUTPUT_TAIL_BYTES);
        bytes.drain(..excess);
        drop(bytes);
        self.panic
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(chunk);
    }

    /// The last panic's report line and message, if the worker reported one.
    pub(crate) fn panic_report(&self) -> Option<Vec<String>> {
        let capture = self.panic.lock().unwrap_or_else(|p| p.into_inner());
        (!capture.lines.is_empty()).then(|| capture.lines.clone())
    }

    /// Waits, up to `limit`, until everything the worker wrote has been read (the pipe closed).
    pub(crate) async fn drained(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.ended.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(10), self.arrived.notified()).await;
        }
    }

    /// The kept output as text.
    pub(crate) fn text(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes.iter().copied().collect::<Vec<u8>>()).into_owned()
    }

    /// The last `n` non-empty lines, joined with " | ", for one-line errors. A panic the worker
    /// reported comes first (its `panicked at` line and message) when those lines do not show
    /// it, as after a backtrace.
    pub(crate) fn last_lines(&self, n: usize) -> String {
        let text = self.text();
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let start = lines.len().saturating_sub(n);
        if lines.is_empty() {
            return "(it printed nothing)".to_owned();
        }
        let last = lines[start..].join(" | ");
        match self.panic_report() {
            Some(panic)
                if !lines[start..]
                    .iter()
                    .any(|line| line.trim_end() == panic[0]) =>
            {
                format!("{} | … | {last}", panic.join(" | "))
            }
            _ => last,
        }
    }
}

/// A spawned worker process.
pub(crate) struct WorkerProcess {
    pub(crate) child: tokio::process::Child,
    pub(crate) pid: u32,
    pub(crate) stdin: Option<tokio::process::ChildStdin>,
    pub(crate) output: Arc<OutputTail>,
}

/// Spawns `program` with `args` and `env` over the inherited environment, as
/// `Port.open({:spawn_executable, ...}, [:use_stdio, :stderr_to_stdout, ...])`.
pub(crate) fn spawn(
    program: &PathBuf,
    args: &[String],
    env: &BTreeMap<String, String>,
    cwd: Option<&PathBuf>,
    echo_output: bool,
) -> std::io::Result<WorkerProcess> {
    let (reader, writer) = std::io::pipe()?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let mut child = command.spawn()?;
    // The command holds the pipe's writing ends; without dropping them the reader never ends.
    drop(command);
    let pid = child.id().unwrap_or(0);
    let output = Arc::new(OutputTail::default());
    let tail = output.clone();
    std::thread::Builder::new()
        .name(format!("worker-{pid}-output"))
        .spawn(move || read_output(reader, &tail, echo_output, pid))?;
    Ok(WorkerProcess {
        stdin: child.stdin.take(),
        child,
        pid,
        output,
    })
}

fn read_output(mut reader: std::io::PipeReader, tail: &OutputTail, echo: bool, pid: u32) {
    use std::io::Write;
    let mut buffer = [0u8; 8192];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                tail.push(&buffer[..n]);
                tail.arrived.notify_waiters();
                if echo {
                    let mut stderr = std::io::stderr().lock();
                    for line in String::from_utf8_lossy(&buffer[..n]).lines() {
                        let _ = writeln!(stderr, "[worker {pid}] {line}");
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    tail.ended.store(true, std::sync::atomic::Ordering::SeqCst);
    tail.arrived.notify_waiters();
}

/// The process group id of `pid` (Linux `/proc/<pid>/stat`), if readable.
pub fn process_group_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(2)?.parse().ok()
}

/// Whether any process of the group `pgid` is alive.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(pgid) = i32::try_from(pgid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// Sends `signal` to the group `pgid` when `group` is true, else to the process `pid`.
pub(crate) fn send_signal(pid: u32, group: bool, signal: i32) {
    let Ok(target) = i32::try_from(pid) else {
        return;
    };
    let target = if group { -target } else { target };
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(target, signal);
    }
}

/// How the worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// It exited by itself (or was already gone) with this status.
    Exited(ExitStatus),
    /// It exited after SIGTERM, within the grace period.
    StoppedBySigterm(ExitStatus),
    /// It ignored SIGTERM for the whole grace period and was killed.
    Killed {
        /// How long it was given.
        grace: Duration,
    },
}

impl WorkerProcess {
    /// Whether the worker leads its own process group (it called `setsid()`); only then does
    /// the host signal the group.
    pub(crate) fn leads_group(&self) -> bool {
        process_group_of(self.pid) == Some(self.pid)
    }

    /// Stops the worker as snakepit does: SIGTERM to the group (or the process), waiting with
    /// a backoff from 1 ms to 100 ms for up to `grace`, then SIGKILL.
    pub(crate) async fn stop(&mut self, grace: Duration) -> std::io::Result<Ending> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(Ending::Exited(status));
        }
        let group = self.leads_group();
        send_signal(self.pid, group, libc::SIGTERM);
        let started = Instant::now();
        let mut backoff = Duration::from_millis(1);
        while started.elapsed() < grace {
            if let Some(status) = self.child.try_wait()? {
                if group {
                    // What the group still holds goes too, as the host's group kill does.
                    send_signal(self.pid, true, libc::SIGKILL);
                }
                return Ok(Ending::StoppedBySigterm(status));
            }
            tokio::time::sleep(backoff.min(grace.saturating_sub(started.elapsed()))).await;
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
        send_signal(self.pid, group, libc::SIGKILL);
        self.child.wait().await?;
        Ok(Ending::Killed { grace })
    }

    /// SIGKILL to the group (or the process) at once, as the host does after a crash.
    pub(crate) async fn kill_now(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(status);
        }
        send_signal(self.pid, self.leads_group(), libc::SIGKILL);
        self.child.wait().await
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Never leave a worker behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            send_signal(self.pid, self.leads_group(), libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_bytes_and_lines() {
        let tail = OutputTail::default();
        tail.push(&vec![b'a'; OUTPUT_TAIL_BYTES]);
        tail.push(b"\nfirst\n\nsecond\n");
        assert_eq!(tail.text().len(), OUTPUT_TAIL_BYTES);
        assert_eq!(tail.last_lines(2), "first | second");
        assert_eq!(OutputTail::default().last_lines(3), "(it printed nothing)");
    }

    /// What a Rust program that panics with `RUST_BACKTRACE=1` prints: the report, its message,
    /// and a backtrace longer than the tail.
    fn panic_output(frames: usize) -> String {
        let mut text =
            "starting\nthread 'main' panicked at src/main.rs:7:5:\ncould not open model.bin: \
                        No such file\nsecond line of the message\nstack backtrace:\n"
                .to_owned();
        for frame in 0..frames {
            text.push_str(&format!(
                "  {frame:>2}: core::ops::function::FnOnce::call_once{{{{vtable.shim}}}}\n             at /rustc/abcdef/library/core/src/ops/function.rs:250:5\n"
            ));
        }
        text.push_str("note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n");
        text
    }

    #[test]
    fn a_panic_is_quoted_before_the_last_lines_of_its_backtrace() {
        let tail = OutputTail::default();
        let output = panic_output(60);
        assert!(output.len() > OUTPUT_TAIL_BYTES, "longer than the tail");
        // In chunks that split lines, as a pipe delivers them.
        for chunk in output.as_bytes().chunks(100) {
            tail.push(chunk);
        }
        let quoted = tail.last_lines(5);
        assert!(
            quoted.starts_with(
                "thread 'main' panicked at src/main.rs:7:5: | could not open model.bin: No such \
                 file | second line of the message | … | "
            ),
            "{quoted}"
        );
        assert!(quoted.ends_with("for a verbose backtrace."), "{quoted}");
        // A short report already in the last lines is not repeated.
        let short = OutputTail::default();
        short.push(b"thread 'main' panicked at src/main.rs:1:1:\nboom\nnote: run with `RUST_BACKTRACE=1`\n");
        assert_eq!(
            short.last_lines(5),
            "thread 'main' panicked at src/main.rs:1:1: | boom | note: run with `RUST_BACKTRACE=1`"
        );
    }

    #[test]
    fn reads_the_process_group_of_this_process() {
        let pid = std::process::id();
        // SAFETY: getpgrp has no preconditions.
        let expected = unsafe { libc::getpgrp() } as u32;
        assert_eq!(process_group_of(pid), Some(expected));
    }
}
