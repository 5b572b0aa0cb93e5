//! Launching a worker and driving it as snakepit's `GRPCWorker` does (worker-protocol.md
//! sections 1 to 7): spawn, ready file, `Ping("connection_test")`, `InitializeSession`,
//! telemetry, heartbeats, health pings, calls, shutdown.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Map, Value};
use snakepit_bridge_runtime::host::EmbeddedHost;
use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge_runtime::{json_any, proto, CORRELATION_HEADER};
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};

use crate::decode::{chunk_payload, status_atom, Reply, ToolFailure};
use crate::process::{spawn, Ending, WorkerProcess};
use crate::ready::{read_ready_file, ReadyState};
use crate::spawn::{
    correlation_id, encode_grpc_timeout, pool_worker_id, ready_file_path, run_id, worker_argv,
    worker_env, worker_session_id, HeartbeatConfig,
};

/// snakepit's default deadline of a call (`grpc_client_execute_timeout`).
pub const DEFAULT_EXECUTE_TIMEOUT: Duration = Duration::from_millis(298_800);
/// snakepit's default deadline of a streaming call (`stream_timeout` of the balanced profile).
pub const DEFAULT_STREAM_TIMEOUT: Duration = Duration::from_millis(900_000);
/// snakepit's default wait for the ready file (`grpc_server_ready_timeout`).
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// snakepit's default grace between SIGTERM and SIGKILL (`graceful_shutdown_timeout_ms`).
pub const DEFAULT_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(6);
/// Health pings: every 30 s, 5 s deadline; a failure only logs.
const HEALTH_INTERVAL: Duration = Duration::from_secs(30);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a worker could not be launched or stopped. Each message is one line that says which
/// step failed and ends with the last lines the worker printed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The executable could not be started.
    #[error("could not start the worker `{program}`: {source}; check the path and that it is executable")]
    Spawn {
        /// The executable.
        program: String,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The worker exited before writing its ready file.
    #[error("the worker exited before it was ready ({status}); it printed: {output}")]
    ExitedBeforeReady {
        /// How it exited.
        status: String,
        /// Its last lines.
        output: String,
    },
    /// The ready file did not appear in time; the worker was killed.
    #[error("the worker never got ready: no port in its ready file within {timeout:?}, so it was killed; it printed: {output}")]
    NeverReady {
        /// The time allowed.
        timeout: Duration,
        /// Its last lines.
        output: String,
    },
    /// The ready file could not be read.
    #[error("could not read the ready file {path}: {source}")]
    ReadyFile {
        /// The file.
        path: String,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The worker wrote its port but did not answer `Ping("connection_test")`.
    #[error("the worker wrote port {port} to its ready file but did not answer a gRPC ping there ({reason}); it printed: {output}")]
    NoAnswer {
        /// The port from the ready file.
        port: u16,
        /// The last failure.
        reason: String,
        /// Its last lines.
        output: String,
    },
    /// The worker ignored SIGTERM for the whole grace period and was killed.
    #[error("the worker ignored SIGTERM for {grace:?} and was killed with SIGKILL; it printed: {output}")]
    IgnoredSigterm {
        /// The grace period.
        grace: Duration,
        /// Its last lines.
        output: String,
    },
    /// Waiting for or signalling the process failed.
    #[error("could not manage the worker process: {0}")]
    Process(#[source] std::io::Error),
}

/// Why a call failed, as the host reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The tool failed: `success = false`, its `error_message` translated.
    #[error("tool `{tool}` failed: {failure}")]
    Tool {
        /// The tool.
        tool: String,
        /// The translated error (or the raw text).
        failure: ToolFailure,
    },
    /// The call failed with a gRPC status (for a stream: the raw `GRPC.RPCError`).
    #[error("tool `{tool}` failed with gRPC status {code:?}{}: {message}", atom.map(|a| format!(" (:{a})")).unwrap_or_default())]
    Status {
        /// The tool.
        tool: String,
        /// The status code.
        code: tonic::Code,
        /// The atom the host maps the code to on unary calls, if any.
        atom: Option<&'static str>,
        /// The status message.
        message: String,
    },
    /// No answer within the deadline (plus the host's one second of slack).
    #[error("tool `{tool}` did not answer within {limit:?}")]
    Timeout {
        /// The tool.
        tool: String,
        /// The deadline.
        limit: Duration,
    },
    /// The parameters are not a JSON object.
    #[error("the parameters of tool `{tool}` must be a JSON object (one entry per parameter), not {found}")]
    InvalidParameters {
        /// The tool.
        tool: String,
        /// What was given.
        found: String,
    },
    /// The answer is a zero-copy reference the host cannot decode.
    #[error("tool `{tool}` answered an object with \"__snakepit_zero_copy__\": true, which the host decodes as a zero-copy reference and fails on")]
    ZeroCopyRef {
        /// The tool.
        tool: String,
    },
    /// The chunk callback halted the stream with a reason.
    #[error("the stream of tool `{tool}` was halted: {reason}")]
    Halted {
        /// The tool.
        tool: String,
        /// The callback's reason.
        reason: String,
    },
}

/// Options of one call, as `Snakepit.execute(command, args, opts)` takes them.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// `:timeout` (default 298.8 s for calls, 900 s for streams), sent as `grpc-timeout`.
    pub timeout: Option<Duration>,
    /// `:correlation_id` (default: the args' `correlation_id`, else a new `sp-...`).
    pub correlation_id: Option<String>,
    /// `:binary_parameters`.
    pub binary_parameters: HashMap<String, Vec<u8>>,
    /// `thread_sensitive: true` adds `metadata["thread_sensitive"] = "true"`.
    pub thread_sensitive: bool,
}

/// What the chunk callback tells the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkControl {
    /// Keep reading.
    Continue,
    /// `:halt`: stop, successfully.
    Halt,
    /// `{:halt, reason}`: stop with an error.
    HaltWith(String),
}

/// What the host saw of the worker's heartbeats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeartbeatStats {
    /// Heartbeats sent.
    pub sent: u64,
    /// Answered with `session_valid = true`.
    pub answered: u64,
    /// Failed (error, `session_valid = false`, or no answer in time).
    pub failed: u64,
    /// The slowest answer.
    pub max_latency: Duration,
    /// Whether a failure made the host stop the worker (`dependent`).
    pub stopped_worker: bool,
}

/// Launches workers as a snakepit pool does. Nothing in it is specific to Rust: it drives any
/// snakepit worker, snakepit's own Python worker included.
#[derive(Debug, Clone)]
pub struct Launcher {
    program: PathBuf,
    script: Option<String>,
    adapter_args: Vec<String>,
    adapter_env: Vec<(String, String)>,
    heartbeat: HeartbeatConfig,
    log_level: String,
    process_group: bool,
    ready_timeout: Duration,
    graceful_timeout: Duration,
    pool_name: String,
    instance_name: String,
    instance_token: Option<String>,
    echo_output: bool,
}

impl Launcher {
    /// A launcher for `program` (a path, or a name looked up in `PATH`).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Launcher {
            program: program.into(),
            script: None,
            adapter_args: Vec::new(),
            adapter_env: Vec::new(),
            heartbeat: HeartbeatConfig::default(),
            log_level: "error".to_owned(),
            process_group: true,
            ready_timeout: DEFAULT_READY_TIMEOUT,
            graceful_timeout: DEFAULT_GRACEFUL_TIMEOUT,
            pool_name: "default".to_owned(),
            instance_name: "dev_snakepit_bridge_nonode_nohost".to_owned(),
            instance_token: None,
            echo_output: false,
        }
    }

    /// The adapter's `script_path` (first argument; the worker's working directory is its
    /// folder).
    pub fn script(mut self, script: impl Into<String>) -> Self {
        self.script = Some(script.into());
        self
    }

    /// The pool's `adapter_args`.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.adapter_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// One entry of the pool's `adapter_env`.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.adapter_env.push((key.into(), value.into()));
        self
    }

    /// The pool's `heartbeat` settings.
    pub fn heartbeat(mut self, settings: HeartbeatConfig) -> Self {
        self.heartbeat = settings;
        self
    }

    /// `SNAKEPIT_LOG_LEVEL` (default `error`).
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.log_level = level.into();
        self
    }

    /// Whether to ask the worker to lead its own process group (`SNAKEPIT_PROCESS_GROUP=1`,
    /// snakepit's default on unix).
    pub fn process_group(mut self, enabled: bool) -> Self {
        self.process_group = enabled;
        self
    }

    /// How long to wait for the ready file (default 30 s).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Grace between SIGTERM and SIGKILL (default 6 s).
    pub fn graceful_timeout(mut self, timeout: Duration) -> Self {
        self.graceful_timeout = timeout;
        self
    }

    /// The pool's name, part of worker ids (default `default`).
    pub fn pool_name(mut self, name: impl Into<String>) -> Self {
        self.pool_name = name.into();
        self
    }

    /// `--snakepit-instance-name`.
    pub fn instance_name(mut self, name: impl Into<String>) -> Self {
        self.instance_name = crate::spawn::sanitize(&name.into());
        self
    }

    /// `--snakepit-instance-token`.
    pub fn instance_token(mut self, token: impl Into<String>) -> Self {
        self.instance_token = Some(token.into());
        self
    }

    /// Copies the worker's output to stderr, each line prefixed with its pid (snakepit's
    /// `log_python_output`).
    pub fn echo_output(mut self, echo: bool) -> Self {
        self.echo_output = echo;
        self
    }

    /// Launches one worker against `host` and waits until it is ready and initialized.
    pub async fn launch(&self, host: &EmbeddedHost) -> Result<LaunchedWorker, LaunchError> {
        self.launch_indexed(host, 1).await
    }

    /// Launches `size` workers, as a pool of that size starts them.
    pub async fn launch_pool(
        &self,
        host: &EmbeddedHost,
        size: usize,
    ) -> Result<Vec<LaunchedWorker>, LaunchError> {
        let mut workers = Vec::with_capacity(size);
        for index in 1..=size {
            workers.push(self.launch_indexed(host, index).await?);
        }
        Ok(workers)
    }

    async fn launch_indexed(
        &self,
        host: &EmbeddedHost,
        index: usize,
    ) -> Result<LaunchedWorker, LaunchError> {
        let program = resolve_program(&self.program);
        let worker_id = pool_worker_id(&self.pool_name, index);
        let ready_file = ready_file_path(&std::env::temp_dir(), &worker_id);
        let argv = worker_argv(
            self.script.as_deref(),
            &self.adapter_args,
            &host.grpc_address(),
            &run_id(),
            &self.instance_name,
            self.instance_token.as_deref(),
        );
        let env = worker_env(
            &ready_file,
            &self.heartbeat,
            &self.log_level,
            self.process_group,
            &self.adapter_env,
        );
        let cwd = self
            .script
            .as_deref()
            .filter(|script| !script.is_empty())
            .and_then(|script| Path::new(script).parent().map(Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty());
        let mut process =
            spawn(&program, &argv, &env, cwd.as_ref(), self.echo_output).map_err(|source| {
                LaunchError::Spawn {
                    program: program.display().to_string(),
                    source,
                }
            })?;
        let started = Instant::now();
        let port = match wait_ready(&mut process, &ready_file, self.ready_timeout).await {
            Ok(port) => port,
            Err(error) => {
                let _ = std::fs::remove_file(&ready_file);
                return Err(error);
            }
        };
        let ready_after = started.elapsed();
        // The host deletes the ready file right after reading it.
        let _ = std::fs::remove_file(&ready_file);

        let client = match connect(port).await {
            Ok(client) => client,
            Err(reason) => {
                let _ = process.kill_now().await;
                return Err(LaunchError::NoAnswer {
                    port,
                    reason,
                    output: process.output.last_lines(5),
                });
            }
        };
        let session_id = worker_session_id();
        let initialize = initialize_session(client.clone(), &session_id).await;
        let process = Arc::new(tokio::sync::Mutex::new(process));
        let telemetry = open_telemetry(client.clone());
        let heartbeat_stats = Arc::new(Mutex::new(HeartbeatStats::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        if self.heartbeat.enabled {
            tasks.push(tokio::spawn(heartbeat_monitor(
                client.clone(),
                session_id.clone(),
                self.heartbeat.clone(),
                heartbeat_stats.clone(),
                process.clone(),
                self.graceful_timeout,
                stopping.clone(),
            )));
        }
        tasks.push(tokio::spawn(health_checks(client.clone())));
        let (pid, output) = {
            let process = process.lock().await;
            (process.pid, process.output.clone())
        };
        Ok(LaunchedWorker {
            client,
            process,
            pid,
            output,
            port,
            worker_id,
            session_id,
            argv: std::iter::once(program.display().to_string())
                .chain(argv)
                .collect(),
            env,
            ready_file,
            ready_after,
            initialize,
            heartbeat_stats,
            stopping,
            graceful_timeout: self.graceful_timeout,
            _telemetry: telemetry,
            tasks,
        })
    }
}

/// A program name without a slash is looked up in `PATH` (snakepit's adapters give absolute
/// paths, as Erlang does not search `PATH`).
fn resolve_program(program: &Path) -> PathBuf {
    if program.components().count() > 1 || program.is_absolute() {
        return std::path::absolute(program).unwrap_or_else(|_| program.to_path_buf());
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| program.to_path_buf())
}

/// Polls the ready file as the host does: once per loop, waiting at most 50 ms between checks
/// and re-checking at once when the worker prints.
async fn wait_ready(
    process: &mut WorkerProcess,
    ready_file: &Path,
    timeout: Duration,
) -> Result<u16, LaunchError> {
    let deadline = Instant::now() + timeout;
    loop {
        match read_ready_file(ready_file) {
            Ok(ReadyState::Port(port)) => return Ok(port),
            Ok(ReadyState::NotYet) => {}
            Err(source) => {
                let _ = process.kill_now().await;
                return Err(LaunchError::ReadyFile {
                    path: ready_file.display().to_string(),
                    source,
                });
            }
        }
        if let Some(status) = process.child.try_wait().map_err(LaunchError::Process)? {
            // What the worker printed last is read before it is quoted.
            process.output.drained(Duration::from_secs(1)).await;
            let status = match status.code() {
                Some(0) | Some(143) => format!("{status}, which the host takes for a shutdown"),
                _ => status.to_string(),
            };
            return Err(LaunchError::ExitedBeforeReady {
                status,
                output: process.output.last_lines(5),
            });
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = process.kill_now().await;
            return Err(LaunchError::NeverReady {
                timeout,
                output: process.output.last_lines(5),
            });
        }
        let wait = (deadline - now).min(Duration::from_millis(50));
        let _ = tokio::time::timeout(wait, process.output.arrived.notified()).await;
    }
}

/// Connects to `localhost:<port>` (IPv4, as the host's client resolves it) and pings
/// `connection_test`, retrying up to 5 times with a backoff from 50 ms doubling to 500 ms plus
/// up to 25 % jitter, as the host does.
async fn connect(port: u16) -> Result<BridgeServiceClient<Channel>, String> {
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .map_err(|error| error.to_string())?
        .connect_timeout(Duration::from_secs(1))
        .tcp_nodelay(true);
    let mut backoff = Duration::from_millis(50);
    let mut last = String::new();
    for attempt in 1..=5 {
        let outcome = async {
            let channel = endpoint
                .connect()
                .await
                .map_err(|error| error_chain(&error))?;
            let mut client = BridgeServiceClient::new(channel)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX);
            let request = with_deadline(
                proto::PingRequest {
                    message: "connection_test".to_owned(),
                },
                DEFAULT_EXECUTE_TIMEOUT,
            );
            match tokio::time::timeout(Duration::from_secs(5), client.ping(request)).await {
                Ok(Ok(_)) => Ok(client),
                Ok(Err(status)) => Err(format!("{:?}: {}", status.code(), status.message())),
                Err(_) => Err("no answer to the ping within 5 s".to_owned()),
            }
        }
        .await;
        match outcome {
            Ok(client) => return Ok(client),
            Err(reason) => last = reason,
        }
        if attempt < 5 {
            let jitter = backoff.mul_f64((crate::spawn::random_u64() % 250) as f64 / 1000.0);
            tokio::time::sleep(backoff + jitter).await;
            backoff = (backoff * 2).min(Duration::from_millis(500));
        }
    }
    Err(last)
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A request with `grpc-timeout` as the host writes it.
fn with_deadline<T>(message: T, timeout: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = encode_grpc_timeout(timeout).parse() {
        request.metadata_mut().insert("grpc-timeout", value);
    }
    request
}

async fn initialize_session(
    mut client: BridgeServiceClient<Channel>,
    session_id: &str,
) -> Result<proto::InitializeSessionResponse, String> {
    let request = with_deadline(
        proto::InitializeSessionRequest {
            session_id: session_id.to_owned(),
            metadata: HashMap::from([
                ("elixir_node".to_owned(), "nonode@nohost".to_owned()),
                (
                    "initialized_at".to_owned(),
                    humantime::format_rfc3339_micros(SystemTime::now()).to_string(),
                ),
            ]),
            config: Some(proto::SessionConfig {
                enable_caching: true,
                cache_ttl_seconds: 60,
                enable_telemetry: false,
            }),
        },
        DEFAULT_EXECUTE_TIMEOUT,
    );
    // The host waits for the answer, ignores it and swallows errors.
    match tokio::time::timeout(
        DEFAULT_EXECUTE_TIMEOUT + Duration::from_secs(1),
        client.initialize_session(request),
    )
    .await
    {
        Ok(Ok(answer)) => Ok(answer.into_inner()),
        Ok(Err(status)) => {
            tracing::debug!(code = ?status.code(), message = status.message(), "InitializeSession failed (ignored, as by the host)");
            Err(status.message().to_owned())
        }
        Err(_) => Err("no answer".to_owned()),
    }
}

/// Opens `StreamTelemetry` with `toggle{enabled: true}` first, reading events until it ends;
/// failure is only logged. Returns the sender that keeps the stream open.
fn open_telemetry(
    mut client: BridgeServiceClient<Channel>,
) -> tokio::sync::mpsc::Sender<proto::TelemetryControl> {
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let _ = sender.try_send(proto::TelemetryControl {
        control: Some(proto::telemetry_control::Control::Toggle(
            proto::TelemetryToggle { enabled: true },
        )),
    });
    tokio::spawn(async move {
        let controls = tokio_stream::wrappers::ReceiverStream::new(receiver);
        match tokio::time::timeout(Duration::from_secs(5), client.stream_telemetry(controls)).await
        {
            Ok(Ok(events)) => {
                let mut events = events.into_inner();
                while let Some(Ok(_event)) = events.next().await {}
            }
            Ok(Err(status)) => {
                tracing::debug!(code = ?status.code(), "telemetry stream refused (only logged, as by the host)")
            }
            Err(_) => tracing::debug!("telemetry stream did not open within 5 s"),
        }
    });
    sender
}

async fn heartbeat_monitor(
    mut client: BridgeServiceClient<Channel>,
    session_id: String,
    settings: HeartbeatConfig,
    stats: Arc<Mutex<HeartbeatStats>>,
    process: Arc<tokio::sync::Mutex<WorkerProcess>>,
    grace: Duration,
    stopping: Arc<AtomicBool>,
) {
    tokio::time::sleep(settings.initial_delay).await;
    let task_limit = settings.timeout.saturating_sub(Duration::from_millis(1));
    loop {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let request = with_deadline(
            proto::HeartbeatRequest {
                session_id: session_id.clone(),
                client_time: None,
            },
            settings.timeout,
        );
        let sent = Instant::now();
        let outcome = tokio::time::timeout(task_limit, client.heartbeat(request)).await;
        let latency = sent.elapsed();
        let pong = matches!(&outcome, Ok(Ok(answer)) if answer.get_ref().session_valid);
        {
            let mut stats = stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.sent += 1;
            if pong {
                stats.answered += 1;
                stats.max_latency = stats.max_latency.max(latency);
            } else {
                stats.failed += 1;
            }
        }
        if !pong {
            if stopping.load(Ordering::SeqCst) {
                return;
            }
            tracing::warn!(session = %session_id, ?outcome, "heartbeat failed");
            if settings.dependent {
                // One failure stops a dependent worker, gracefully.
                stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .stopped_worker = true;
                stopping.store(true, Ordering::SeqCst);
                let _ = process.lock().await.stop(grace).await;
                return;
            }
        }
        tokio::time::sleep(settings.interval).await;
    }
}

async fn health_checks(mut client: BridgeServiceClient<Channel>) {
    let mut number = 0u64;
    loop {
        tokio::time::sleep(HEALTH_INTERVAL).await;
        number += 1;
        let request = with_deadline(
            proto::PingRequest {
                message: format!("health_check_#PID<0.{number}.0>"),
            },
            HEALTH_TIMEOUT,
        );
        if tokio::time::timeout(HEALTH_TIMEOUT, client.ping(request))
            .await
            .map_or(true, |r| r.is_err())
        {
            tracing::warn!("health ping failed (only logged, as by the host)");
        }
    }
}

/// The worker's output (the last 4096 bytes of its merged stdout and stderr).
#[derive(Debug, Clone)]
pub struct WorkerOutput(Arc<crate::process::OutputTail>);

impl WorkerOutput {
    /// The output as text.
    pub fn text(&self) -> String {
        self.0.text()
    }
}

/// A worker launched and initialized as snakepit does it. Dropping it kills the worker.
pub struct LaunchedWorker {
    client: BridgeServiceClient<Channel>,
    process: Arc<tokio::sync::Mutex<WorkerProcess>>,
    pid: u32,
    output: Arc<crate::process::OutputTail>,
    port: u16,
    worker_id: String,
    session_id: String,
    argv: Vec<String>,
    env: std::collections::BTreeMap<String, String>,
    ready_file: PathBuf,
    ready_after: Duration,
    initialize: Result<proto::InitializeSessionResponse, String>,
    heartbeat_stats: Arc<Mutex<HeartbeatStats>>,
    stopping: Arc<AtomicBool>,
    graceful_timeout: Duration,
    _telemetry: tokio::sync::mpsc::Sender<proto::TelemetryControl>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for LaunchedWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchedWorker")
            .field("pid", &self.pid)
            .field("port", &self.port)
            .field("worker_id", &self.worker_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl LaunchedWorker {
    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The port from the ready file.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pool worker id (only in the ready file's name, as with snakepit).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The worker's session id, sent with every request.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The command line, executable first.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The variables the launcher set (over the inherited environment).
    pub fn env(&self) -> &std::collections::BTreeMap<String, String> {
        &self.env
    }

    /// The ready file's path (deleted once read).
    pub fn ready_file(&self) -> &Path {
        &self.ready_file
    }

    /// Time from launch to reading a port in the ready file (polled as the host polls it: every
    /// 50 ms, and at once whenever the worker prints).
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// The worker's answer to `InitializeSession` (the host ignores it).
    pub fn initialize_answer(&self) -> &Result<proto::InitializeSessionResponse, String> {
        &self.initialize
    }

    /// What the host saw of the heartbeats so far.
    pub fn heartbeat_stats(&self) -> HeartbeatStats {
        self.heartbeat_stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The last 4096 bytes the worker printed.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// A handle on the worker's output that outlives the worker (to read what it printed
    /// while it stopped).
    pub fn output_handle(&self) -> WorkerOutput {
        WorkerOutput(self.output.clone())
    }

    /// The gRPC client on the worker's connection, for raw calls.
    pub fn client(&self) -> BridgeServiceClient<Channel> {
        self.client.clone()
    }

    /// `Ping(message)`; the worker's answer text.
    pub async fn ping(&self, message: &str) -> Result<String, tonic::Status> {
        let request = with_deadline(
            proto::PingRequest {
                message: message.to_owned(),
            },
            HEALTH_TIMEOUT,
        );
        Ok(self
            .client
            .clone()
            .ping(request)
            .await?
            .into_inner()
            .message)
    }

    /// `Snakepit.execute(tool, args, opts)`: one `ExecuteTool`, encoded and decoded as the host
    /// does.
    pub async fn execute(
        &self,
        tool: &str,
        args: Value,
        options: CallOptions,
    ) -> Result<Reply, CallError> {
        let limit = options.timeout.unwrap_or(DEFAULT_EXECUTE_TIMEOUT);
        let request = self.execute_request(tool, args, &options, false, limit)?;
        let mut client = self.client.clone();
        // The host's caller gives up one second after the deadline it sent.
        let answer =
            tokio::time::timeout(limit + Duration::from_secs(1), client.execute_tool(request))
                .await
                .map_err(|_| CallError::Timeout {
                    tool: tool.to_owned(),
                    limit,
                })?
                .map_err(|status| status_error(tool, status))?
                .into_inner();
        if !answer.success {
            return Err(CallError::Tool {
                tool: tool.to_owned(),
                failure: ToolFailure::from_error_message(&answer.error_message),
            });
        }
        let reply = Reply::from_parts(answer.result.as_ref(), Vec::from(answer.binary_result));
        if reply.is_zero_copy_ref() {
            return Err(CallError::ZeroCopyRef {
                tool: tool.to_owned(),
            });
        }
        Ok(reply)
    }

    /// `Snakepit.execute_stream(tool, args, callback, opts)`: each chunk handed to `on_chunk` as
    /// the host hands it to the Elixir callback, reading until the worker closes the stream.
    pub async fn execute_stream(
        &self,
        tool: &str,
        args: Value,
        options: CallOptions,
        mut on_chunk: impl FnMut(Map<String, Value>) -> ChunkControl,
    ) -> Result<(), CallError> {
        let limit = options.timeout.unwrap_or(DEFAULT_STREAM_TIMEOUT);
        let request = self.execute_request(tool, args, &options, true, limit)?;
        let mut client = self.client.clone();
        let consume = async {
            let mut chunks = client
                .execute_streaming_tool(request)
                .await
                .map_err(|status| raw_status_error(tool, status))?
                .into_inner();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|status| raw_status_error(tool, status))?;
                match on_chunk(chunk_payload(&chunk)) {
                    ChunkControl::Continue => {}
                    ChunkControl::Halt => return Ok(()),
                    ChunkControl::HaltWith(reason) => {
                        return Err(CallError::Halted {
                            tool: tool.to_owned(),
                            reason,
                        })
                    }
                }
            }
            Ok(())
        };
        tokio::time::timeout(limit + Duration::from_secs(1), consume)
            .await
            .map_err(|_| CallError::Timeout {
                tool: tool.to_owned(),
                limit,
            })?
    }

    fn execute_request(
        &self,
        tool: &str,
        args: Value,
        options: &CallOptions,
        stream: bool,
        limit: Duration,
    ) -> Result<tonic::Request<proto::ExecuteToolRequest>, CallError> {
        let Value::Object(args) = args else {
            return Err(CallError::InvalidParameters {
                tool: tool.to_owned(),
                found: args.to_string(),
            });
        };
        let correlation = options
            .correlation_id
            .clone()
            .or_else(|| {
                args.get("correlation_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(correlation_id);
        let parameters = args
            .into_iter()
            .filter(|(key, _)| key != "correlation_id")
            .map(|(key, value)| (key, json_any(value.to_string().into_bytes())))
            .collect();
        let mut metadata = HashMap::from([("correlation_id".to_owned(), correlation.clone())]);
        if options.thread_sensitive {
            metadata.insert("thread_sensitive".to_owned(), "true".to_owned());
        }
        let mut request = with_deadline(
            proto::ExecuteToolRequest {
                session_id: self.session_id.clone(),
                tool_name: tool.to_owned(),
                parameters,
                metadata,
                stream,
                binary_parameters: options.binary_parameters.clone(),
            },
            limit,
        );
        if let Ok(value) = correlation.parse() {
            request.metadata_mut().insert(CORRELATION_HEADER, value);
        }
        Ok(request)
    }

    /// Closes the worker's stdin, as when the host's port closes.
    pub async fn close_stdin(&self) {
        self.process.lock().await.stdin.take();
    }

    /// Waits up to `limit` for the worker to exit by itself; its status, or `None`.
    pub async fn wait_exit(
        &self,
        limit: Duration,
    ) -> Result<Option<std::process::ExitStatus>, LaunchError> {
        let mut process = self.process.lock().await;
        match tokio::time::timeout(limit, process.child.wait()).await {
            Ok(status) => {
                process.output.drained(Duration::from_secs(1)).await;
                status.map(Some).map_err(LaunchError::Process)
            }
            Err(_) => Ok(None),
        }
    }

    /// Stops the worker as the host does on a graceful stop: SIGTERM to its group (or itself),
    /// SIGKILL after the grace period, ready file removed, stdin closed. An ignored SIGTERM is
    /// an error (the worker was killed).
    pub async fn shutdown(self) -> Result<Ending, LaunchError> {
        self.stopping.store(true, Ordering::SeqCst);
        for task in &self.tasks {
            task.abort();
        }
        let mut process = self.process.lock().await;
        let ending = process
            .stop(self.graceful_timeout)
            .await
            .map_err(LaunchError::Process)?;
        let _ = std::fs::remove_file(&self.ready_file);
        process.stdin.take();
        // What the worker printed last is read before anyone looks at its output.
        process.output.drained(Duration::from_secs(1)).await;
        match ending {
            Ending::Killed { grace } => Err(LaunchError::IgnoredSigterm {
                grace,
                output: process.output.last_lines(5),
            }),
            other => Ok(other),
        }
    }

    /// Kills the worker at once (SIGKILL), as the host does after a crash.
    pub async fn kill(self) -> Result<std::process::ExitStatus, LaunchError> {
        self.stopping.store(true, Ordering::SeqCst);
        let mut process = self.process.lock().await;
        process.kill_now().await.map_err(LaunchError::Process)
    }
}

impl Drop for LaunchedWorker {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let _ = std::fs::remove_file(&self.ready_file);
    }
}

fn status_error(tool: &str, status: tonic::Status) -> CallError {
    CallError::Status {
        tool: tool.to_owned(),
        code: status.code(),
        atom: status_atom(status.code()),
        message: status.message().to_owned(),
    }
}

/// Streams get the raw `GRPC.RPCError`, not the unary mapping.
fn raw_status_error(tool: &str, status: tonic::Status) -> CallError {
    CallError::Status {
        tool: tool.to_owned(),
        code: status.code(),
        atom: None,
        message: status.message().to_owned(),
    }
}
