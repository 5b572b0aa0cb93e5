//! The [`Launcher`]: its options, and the launch sequence of snakepit's `GRPCWorker`
//! (`lib/snakepit/grpc_worker.ex` in snakepit v0.13.0): spawn, ready file, connection ping,
//! `InitializeSession`, telemetry, heartbeats and health pings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snakepit_bridge_runtime::proto::bridge_service_client::BridgeServiceClient;
use tonic::transport::Channel;

use super::connect::{connect, initialize_session};
use super::error::LaunchError;
use super::health::health_checks;
use super::heartbeat::{heartbeat_monitor, HeartbeatStats};
use super::options::{DEFAULT_GRACEFUL_TIMEOUT, DEFAULT_READY_TIMEOUT};
use super::process::{spawn, WorkerProcess};
use super::ready::{read_ready_file, ReadyState};
use super::spawn::{
    pool_worker_id, ready_file_path, run_id, worker_argv, worker_env, worker_session_id,
};
use super::telemetry::{open_telemetry, TelemetryStream};
use super::worker::LaunchedWorker;
use super::HeartbeatConfig;

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
        self.instance_name = snakepit_bridge_spec::launch::sanitize_identifier(&name.into());
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

    /// Launches one worker against the host at `host` and waits until it is ready and
    /// initialized. `host` is an [`EmbeddedHost`](crate::host::EmbeddedHost), or the address of
    /// any snakepit host as the worker gets it in `--elixir-address` (`"localhost:50051"`): the
    /// launcher only hands it to the worker, so a real snakepit host serves as well.
    pub async fn launch(
        &self,
        host: &(impl HostAddress + ?Sized),
    ) -> Result<LaunchedWorker, LaunchError> {
        self.launch_indexed(&host.host_address()?, 1).await
    }

    /// Launches `size` workers against the host at `host`, as a pool of that size starts them.
    pub async fn launch_pool(
        &self,
        host: &(impl HostAddress + ?Sized),
        size: usize,
    ) -> Result<Vec<LaunchedWorker>, LaunchError> {
        let address = host.host_address()?;
        let mut workers = Vec::with_capacity(size);
        for index in 1..=size {
            workers.push(self.launch_indexed(&address, index).await?);
        }
        Ok(workers)
    }

    /// The worker of pool slot `index`, in the steps a pool takes: start the process, wait for
    /// its ready file, connect, open the session, then watch it (telemetry, heartbeats,
    /// health checks).
    async fn launch_indexed(
        &self,
        host_address: &str,
        index: usize,
    ) -> Result<LaunchedWorker, LaunchError> {
        let worker_id = pool_worker_id(&self.pool_name, index);
        let started = self.start_process(host_address, &worker_id)?;
        let Started {
            program,
            argv,
            env,
            ready_file,
            mut process,
        } = started;
        let since = Instant::now();
        let ready = wait_ready(&mut process, &ready_file, self.ready_timeout).await;
        // The host deletes the ready file right after reading it (or giving up on it).
        let _ = std::fs::remove_file(&ready_file);
        let port = ready?;
        let ready_after = since.elapsed();
        let client = connect_or_kill(&mut process, port).await?;
        let session_id = worker_session_id();
        let initialize = initialize_session(client.clone(), &session_id).await;
        let (pid, output) = (process.pid, process.output.clone());
        let process = Arc::new(tokio::sync::Mutex::new(process));
        let watch = self.watch(&client, &session_id, &process).await;
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
            heartbeat_stats: watch.heartbeat_stats,
            stopping: watch.stopping,
            graceful_timeout: self.graceful_timeout,
            telemetry: watch.telemetry,
            tasks: watch.tasks,
        })
    }

    /// Starts the worker's process with the arguments, environment and folder a pool gives it.
    fn start_process(&self, host_address: &str, worker_id: &str) -> Result<Started, LaunchError> {
        let program = resolve_program(&self.program);
        let ready_file = ready_file_path(&std::env::temp_dir(), worker_id);
        let argv = worker_argv(
            self.script.as_deref(),
            &self.adapter_args,
            host_address,
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
        // A script runs in its own folder, as snakepit's adapters run theirs.
        let cwd = self
            .script
            .as_deref()
            .filter(|script| !script.is_empty())
            .and_then(|script| Path::new(script).parent().map(Path::to_path_buf))
            .filter(|dir| !dir.as_os_str().is_empty());
        let process =
            spawn(&program, &argv, &env, cwd.as_ref(), self.echo_output).map_err(|source| {
                LaunchError::Spawn {
                    program: program.display().to_string(),
                    source,
                }
            })?;
        Ok(Started {
            program,
            argv,
            env,
            ready_file,
            process,
        })
    }

    /// What watches a worker once its session is open: its telemetry stream, the heartbeat
    /// monitor (when heartbeats are on) and the health checks.
    async fn watch(
        &self,
        client: &BridgeServiceClient<Channel>,
        session_id: &str,
        process: &Arc<tokio::sync::Mutex<WorkerProcess>>,
    ) -> Watch {
        let telemetry = open_telemetry(client.clone());
        // Calls made before the worker answered the stream would send their events nowhere.
        telemetry.opened().await;
        let heartbeat_stats = Arc::new(Mutex::new(HeartbeatStats::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        if self.heartbeat.enabled {
            tasks.push(tokio::spawn(heartbeat_monitor(
                client.clone(),
                session_id.to_owned(),
                self.heartbeat.clone(),
                heartbeat_stats.clone(),
                process.clone(),
                self.graceful_timeout,
                stopping.clone(),
            )));
        }
        tasks.push(tokio::spawn(health_checks(client.clone())));
        Watch {
            telemetry,
            heartbeat_stats,
            stopping,
            tasks,
        }
    }
}

/// A worker's process, started, before its ready file.
struct Started {
    program: PathBuf,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    ready_file: PathBuf,
    process: WorkerProcess,
}

/// The tasks and state that watch a launched worker.
struct Watch {
    telemetry: TelemetryStream,
    heartbeat_stats: Arc<Mutex<HeartbeatStats>>,
    stopping: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Connects to the worker's port; a worker that does not answer there is killed, and the error
/// carries its last lines of output.
async fn connect_or_kill(
    process: &mut WorkerProcess,
    port: u16,
) -> Result<BridgeServiceClient<Channel>, LaunchError> {
    match connect(port).await {
        Ok(client) => Ok(client),
        Err(reason) => {
            let _ = process.kill_now().await;
            Err(LaunchError::NoAnswer {
                port,
                reason,
                output: process.output.last_lines(5),
            })
        }
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

/// The address of a host a worker is launched against, as snakepit passes it to the worker in
/// `--elixir-address` (`host:port`, no scheme).
///
/// Implemented for [`EmbeddedHost`](crate::host::EmbeddedHost) and for address strings (`str`,
/// `String`), so the launcher drives a worker against any snakepit host, a real one included.
pub trait HostAddress {
    /// The address as `host:port`; an error if it is not one.
    fn host_address(&self) -> Result<String, LaunchError>;
}

impl HostAddress for crate::host::EmbeddedHost {
    fn host_address(&self) -> Result<String, LaunchError> {
        Ok(self.grpc_address())
    }
}

impl HostAddress for str {
    fn host_address(&self) -> Result<String, LaunchError> {
        check_host_address(self)
    }
}

impl HostAddress for String {
    fn host_address(&self) -> Result<String, LaunchError> {
        check_host_address(self)
    }
}

/// snakepit hands a worker `host:port`: a scheme, a missing port or blanks would only make the
/// worker fail later with a vaguer message.
fn check_host_address(address: &str) -> Result<String, LaunchError> {
    let invalid = |reason: &str| LaunchError::InvalidHostAddress {
        address: address.to_owned(),
        reason: reason.to_owned(),
    };
    if address.contains("://") {
        return Err(invalid(
            "give it as `host:port`, without a scheme, as snakepit passes it",
        ));
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err(invalid("it has no port; give it as `host:port`"));
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(invalid(
            "its host part is empty or holds blanks; give it as `host:port`",
        ));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(address.to_owned()),
        _ => Err(invalid("its port is not a number from 1 to 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_are_host_and_port() {
        assert_eq!("localhost:50051".host_address().unwrap(), "localhost:50051");
        assert_eq!("[::1]:4000".host_address().unwrap(), "[::1]:4000");
        for (bad, says) in [
            ("http://localhost:1", "without a scheme"),
            ("localhost", "has no port"),
            (":1", "host part is empty"),
            ("a b:1", "holds blanks"),
            ("h:0", "from 1 to 65535"),
            ("h:x", "from 1 to 65535"),
        ] {
            let error = bad.host_address().unwrap_err().to_string();
            assert!(
                error.contains(&format!("`{bad}`")) && error.contains(says),
                "{bad}: {error}"
            );
        }
    }
}
