//! A real snakepit v0.13.0 host for tests: the offline bundle's `host/start.sh`, which runs
//! snakepit's own `Snakepit.GRPC.BridgeServer` (`deps/snakepit/lib/snakepit/grpc/bridge_server.ex`)
//! with the three demo tools of snakepit's `examples/bidirectional_tools_demo.exs` in the session
//! [`DEMO_SESSION`].
//!
//! The bundle is found through `SNAKEPIT_VENDOR` only (set by the bundle's `env.sh`; no path is
//! guessed). Without it, [`shared`] says on stderr that the test skipped and how to run it, and
//! returns `None`; with `SNAKEPIT_REQUIRE_REAL_HOST=1` (CI) a missing bundle fails the test.
//!
//! One host per test binary ([`shared`], started on first use, about 1 s once compiled), which
//! the tests share; a test that changes the demo session (cleans it up, registers tools in it)
//! starts a host of its own instead ([`own`]), stopped when dropped. The shared host
//! lives as long as the test process: it is started through a small bash wrapper that stops it
//! (SIGTERM, then SIGKILL 10 s later) as soon as the wrapper's stdin, a pipe held by this
//! process, closes, which happens however this process ends (a static is never dropped).
//!
//! Std only, so that any crate's tests can include it with `#[path = ...] mod real_host;`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The session `host/start.sh` creates with the demo tools (its `SESSION_ID`).
pub const DEMO_SESSION: &str = "demo-session";

/// Set to `1` to make a missing bundle fail the test instead of skipping it (CI sets it).
pub const REQUIRE_ENV: &str = "SNAKEPIT_REQUIRE_REAL_HOST";

/// How long a start may take before `READY`: the first start of a bundle compiles snakepit
/// and its dependencies (about 50 s on 2 idle cores); later starts take about 1 s.
const START_TIMEOUT: Duration = Duration::from_secs(240);

/// Ports tried, one after the other from a start that depends on the process id, when the
/// host exits because its port is taken (the host refuses port 0, and binding a port here to
/// release it for the host would race).
const PORTS: std::ops::Range<u16> = 21_000..29_000;
const ATTEMPTS: u16 = 16;

/// How to run the tests that need the bundle, for the skip message.
pub const HOW_TO_RUN: &str = "install the bundle (bash ../shared/snakepit/install.sh \
    /tmp/snakepit-vendor), then `source /tmp/snakepit-vendor/snakepit-0.13.0/env.sh` (it sets \
    SNAKEPIT_VENDOR) before cargo test; SNAKEPIT_REQUIRE_REAL_HOST=1 makes a missing bundle fail";

/// The bundle's root from `SNAKEPIT_VENDOR`, or why there is none. A `SNAKEPIT_VENDOR` that
/// does not hold `host/start.sh` is a mistake, never a skip: it panics.
pub fn bundle() -> Result<PathBuf, String> {
    let Some(root) = std::env::var_os("SNAKEPIT_VENDOR").filter(|root| !root.is_empty()) else {
        return Err("SNAKEPIT_VENDOR is not set".to_owned());
    };
    let root = PathBuf::from(root);
    let start = root.join("host/start.sh");
    assert!(
        start.is_file(),
        "SNAKEPIT_VENDOR={} holds no host/start.sh: it must be the root of the snakepit \
         v0.13.0 bundle (the folder of its env.sh)",
        root.display()
    );
    Ok(root)
}

/// Whether a missing bundle must fail the test.
fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|value| value == "1")
}

/// The test binary's real host, started on first use; `None` (after saying so on stderr) when
/// no bundle is found and none is required. A bundle that is found but whose host does not
/// start fails the test.
pub fn shared() -> Option<&'static RealHost> {
    enum Shared {
        Started(RealHost),
        NoBundle(String),
        Failed(String),
    }
    static SHARED: OnceLock<Shared> = OnceLock::new();
    // A failed start is kept, so the other tests fail at once with the same text.
    let shared = SHARED.get_or_init(|| match bundle() {
        Err(why) => Shared::NoBundle(why),
        Ok(root) => match RealHost::start(&root, DEMO_SESSION) {
            Ok(host) => Shared::Started(host),
            Err(error) => Shared::Failed(error),
        },
    });
    match shared {
        Shared::Started(host) => Some(host),
        Shared::Failed(error) => panic!("{error}"),
        Shared::NoBundle(why) => {
            skip(why);
            None
        }
    }
}

/// A real host of the caller's own, started now and stopped when dropped, for a test that
/// changes the demo session, which the tests sharing [`shared`]'s host rely on. `None` (after
/// saying so on stderr) when no bundle is found and none is required; a bundle that is found but
/// whose host does not start fails the test.
pub fn own() -> Option<RealHost> {
    match bundle() {
        Err(why) => {
            skip(&why);
            None
        }
        Ok(root) => match RealHost::start(&root, DEMO_SESSION) {
            Ok(host) => Some(host),
            Err(error) => panic!("{error}"),
        },
    }
}

/// Says on stderr that the test skipped for want of a bundle (`why`); panics instead when one is
/// required.
fn skip(why: &str) {
    assert!(
        !required(),
        "{REQUIRE_ENV}=1 but no snakepit bundle was found: {why}; {HOW_TO_RUN}"
    );
    // Straight to stderr, past the test harness's capture, so that a skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: this test needs a real snakepit v0.13.0 host: {why}; {HOW_TO_RUN}"
    );
}

/// Returns the shared host, or returns from the calling test (after [`shared`] said why).
#[macro_export]
macro_rules! real_host_or_skip {
    () => {
        match real_host::shared() {
            Some(host) => host,
            None => return,
        }
    };
}

/// A session id no other test of this process uses: `prefix`, the process id and a counter.
pub fn unique_session(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A running `host/start.sh`.
pub struct RealHost {
    port: u16,
    host_pid: u32,
    log: PathBuf,
    /// The wrapper and the pipe whose closing stops the host.
    wrapper: Mutex<Option<(Child, ChildStdin)>>,
}

/// What the wrapper reports on stdout.
enum Report {
    Pid(u32),
    Ready,
    Exited(String),
    /// stdout closed.
    Closed,
}

/// Reads the wrapper's stdout to its end on a thread of its own (so the host never blocks on a
/// full pipe), sending what it reports.
fn read_reports(stdout: std::process::ChildStdout) -> mpsc::Receiver<Report> {
    let (send, reports) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let report = if let Some(pid) = line.strip_prefix("PID ") {
                pid.trim().parse().map(Report::Pid).ok()
            } else if line.trim() == "READY" {
                Some(Report::Ready)
            } else {
                line.strip_prefix("EXITED ")
                    .map(|status| Report::Exited(status.trim().to_owned()))
            };
            if let Some(report) = report {
                if send.send(report).is_err() {
                    return;
                }
            }
        }
        let _ = send.send(Report::Closed);
    });
    reports
}

/// Runs `host/start.sh PORT` with the host's stderr in a log file, prints `PID <host pid>`,
/// forwards the host's stdout (`READY`), and prints `EXITED <status>` when the host ends. The
/// watchdog stops the host when the wrapper's stdin closes (non-interactive bash gives an
/// asynchronous list /dev/null as stdin, hence the copy on fd 3).
const WRAPPER: &str = r#"
start="$1"; port="$2"; log="$3"
exec 3<&0
"$start" "$port" </dev/null 2>"$log" &
host=$!
echo "PID $host"
{ read -r _ <&3; kill -TERM "$host" 2>/dev/null; sleep 10; kill -KILL "$host" 2>/dev/null; } &
watchdog=$!
exec 3<&-
wait "$host"
status=$?
echo "EXITED $status"
kill "$watchdog" 2>/dev/null
exit 0
"#;

impl RealHost {
    /// Starts the bundle at `root`'s host with `session` holding the demo tools, trying other
    /// ports while the chosen one is taken.
    pub fn start(root: &Path, session: &str) -> Result<RealHost, String> {
        // Each start of this process begins at another port (a test may start a host of its own
        // beside the shared one).
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let start = STARTS.fetch_add(1, Ordering::Relaxed);
        let span = PORTS.end - PORTS.start;
        let first = ((u64::from(std::process::id()) + start * 1009) % u64::from(span)) as u16;
        let mut taken = Vec::new();
        for attempt in 0..ATTEMPTS {
            let port = PORTS.start + (first + attempt * 37) % span;
            match RealHost::start_on(root, session, port)? {
                Some(host) => return Ok(host),
                None => taken.push(port),
            }
        }
        Err(format!(
            "the real snakepit host found no free port: {taken:?} were all in use"
        ))
    }

    /// `Ok(None)` when the host exited because `port` is in use.
    fn start_on(root: &Path, session: &str, port: u16) -> Result<Option<RealHost>, String> {
        let start = root.join("host/start.sh");
        let log = std::env::temp_dir().join(format!(
            "snakepit-real-host-{}-{port}.log",
            std::process::id()
        ));
        let mut wrapper = Command::new("bash")
            .arg("-c")
            .arg(WRAPPER)
            .arg("real-host-wrapper")
            .arg(&start)
            .arg(port.to_string())
            .arg(&log)
            .env("SESSION_ID", session)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("cannot run bash for {}: {error}", start.display()))?;
        let stdin = wrapper.stdin.take().expect("piped stdin");
        let reports = read_reports(wrapper.stdout.take().expect("piped stdout"));
        let host = RealHost {
            port,
            host_pid: 0,
            log,
            wrapper: Mutex::new(Some((wrapper, stdin))),
        };
        host.await_ready(&reports, &start)
    }

    /// Follows the wrapper's reports until the host is ready (`Some`), exits because its port
    /// is taken (`None`), or fails; the host is stopped (dropped) unless it is ready.
    fn await_ready(
        mut self,
        reports: &mpsc::Receiver<Report>,
        start: &Path,
    ) -> Result<Option<RealHost>, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let report = match reports.recv_timeout(left.min(Duration::from_millis(250))) {
                Ok(report) => report,
                // Taken port: snakepit logs it at once, but exits only after its listener's
                // 10 s `await_ready`; no need to wait for that.
                Err(mpsc::RecvTimeoutError::Timeout) if self.log_text().contains("eaddrinuse") => {
                    return Ok(None);
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => continue,
                Err(_) => {
                    return Err(format!(
                        "the real snakepit host ({}) printed no READY within {} s; its stderr:\n{}",
                        start.display(),
                        START_TIMEOUT.as_secs(),
                        self.log_text()
                    ));
                }
            };
            let status = match report {
                Report::Pid(pid) => {
                    self.host_pid = pid;
                    continue;
                }
                Report::Ready => return Ok(Some(self)),
                Report::Exited(status) => status,
                Report::Closed => "unknown".to_owned(),
            };
            let log = self.log_text();
            if log.contains("eaddrinuse") {
                return Ok(None);
            }
            return Err(format!(
                "the real snakepit host ({} {}) exited with status {status} before READY; its \
                 stderr:\n{log}",
                start.display(),
                self.port
            ));
        }
    }

    /// `host:port`, as `SessionContext::connect` and `snakepit-tools --address` take it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://host:port`, for a raw tonic client.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host's stderr so far (snakepit logs at level `error`), for failure messages.
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Stops the host: SIGTERM (through the watchdog), then SIGKILL when it has not exited
    /// after 10 s. Idempotent.
    pub fn stop(&self) {
        let taken = self
            .wrapper
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some((mut wrapper, stdin)) = taken else {
            return;
        };
        drop(stdin); // the watchdog sends SIGTERM
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match wrapper.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if !matches!(wrapper.try_wait(), Ok(Some(_))) {
            if self.host_pid != 0 {
                let _ = Command::new("kill")
                    .args(["-KILL", &self.host_pid.to_string()])
                    .status();
            }
            let _ = wrapper.kill();
            let _ = wrapper.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Drop for RealHost {
    fn drop(&mut self) {
        self.stop();
    }
}
