//! The worker's life: launch settings, start-up in snakepit's order, serving, and stopping.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use snakepit_bridge_runtime::proto::bridge_service_server::BridgeServiceServer;
use tonic::transport::server::TcpIncoming;

use crate::config::WorkerConfig;
use crate::heartbeat::{Heartbeats, StopReason, StopSwitch};
use crate::host_link::{ConnectRetries, HostLink};
use crate::ready_file::{worker_id_from_ready_file, write_ready_file};
use crate::service::WorkerService;
use crate::toolset::ToolSet;

/// The largest message the worker sends or receives, as snakepit's Python worker sets it.
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// How long in-flight calls may finish after SIGTERM, by default: well inside snakepit's 6 s
/// before SIGKILL (Python's worker gives 2 s).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Why a worker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The command line or environment is wrong.
    #[error("bad launch settings: {0}")]
    Config(String),
    /// The host at `--elixir-address` did not answer.
    #[error("the snakepit host at {address} did not answer its start-up ping: {source}")]
    HostUnreachable {
        /// The host's address.
        address: String,
        /// The last failure.
        #[source]
        source: snakepit_bridge_runtime::Error,
    },
    /// The port could not be bound.
    #[error("could not listen on {address}: {source}; is the port free?")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The ready file could not be written.
    #[error("could not write the ready file {path}: {source}")]
    ReadyFile {
        /// The file.
        path: String,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// The runtime could not start.
    #[error("could not start the tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A snakepit worker serving the tools of `T`.
///
/// Through the facade crate `snakepit-bridge`:
///
/// ```ignore
/// use snakepit_bridge::worker::{ToolError, Worker};
/// use snakepit_bridge::worker_tools;
///
/// struct Adder;
///
/// #[worker_tools]
/// impl Adder {
///     /// Adds two numbers.
///     pub fn add(&self, a: f64, b: f64) -> Result<f64, ToolError> {
///         Ok(a + b)
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     Worker::new(Adder).run()
/// }
/// ```
pub struct Worker<T> {
    tools: Arc<T>,
    config: Option<WorkerConfig>,
    shutdown_grace: Duration,
    connect_retries: ConnectRetries,
    listener: Option<std::net::TcpListener>,
}

impl<T: ToolSet> Worker<T> {
    /// A worker serving `tools`, with its settings read from the command line and the
    /// environment as snakepit sets them.
    pub fn new(tools: T) -> Self {
        Worker {
            tools: Arc::new(tools),
            config: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connect_retries: ConnectRetries::default(),
            listener: None,
        }
    }

    /// Serves on `listener` instead of binding `--port` (to run a worker inside a test).
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Uses `config` instead of reading the command line and environment.
    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// How long calls in flight may finish after SIGTERM (default 2 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Runs the worker to the end, as a program's `main`: reads the settings, calls `setsid()`
    /// if asked, logs to stderr, serves, and returns the exit code snakepit expects (0 after
    /// SIGTERM or when the host is gone, 1 when start-up fails).
    pub fn run(mut self) -> ExitCode {
        if let Some(code) = crate::toolset::describe_if_asked::<T>() {
            return code;
        }
        let config = match self
            .config
            .take()
            .map(Ok)
            .unwrap_or_else(WorkerConfig::from_process)
        {
            Ok(config) => config,
            Err(reason) => {
                crate::logging::print_line(&format!(
                    "snakepit worker: {}",
                    WorkerError::Config(reason)
                ));
                return ExitCode::from(1);
            }
        };
        if config.process_group {
            // Before any thread starts: the host then stops the whole group at once.
            // SAFETY: setsid has no memory-safety preconditions.
            unsafe {
                libc::setsid();
            }
        }
        crate::logging::init(config.log_level);
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                crate::logging::print_line(&format!(
                    "snakepit worker: {}",
                    WorkerError::Runtime(error)
                ));
                return ExitCode::from(1);
            }
        };
        let outcome = runtime.block_on(self.config(config).serve());
        // Plain `fn` tools still running on blocking threads are not waited for.
        runtime.shutdown_background();
        match outcome {
            Ok(reason) => {
                tracing::info!(%reason, "worker stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!(%error, "worker failed to start");
                crate::logging::print_line(&format!("snakepit worker: {error}"));
                ExitCode::from(1)
            }
        }
    }

    /// Serves until the worker should stop; returns why. Call it inside a tokio runtime (with
    /// the time and I/O drivers); [`run`](Self::run) does all of it for a `main`.
    pub async fn serve(mut self) -> Result<StopReason, WorkerError> {
        let config = match self.config.take() {
            Some(config) => config,
            None => WorkerConfig::from_process().map_err(WorkerError::Config)?,
        };
        let stop = StopSwitch::new();
        watch_signals(&stop);
        if config.ready_file.is_some() {
            // Launched by snakepit: its end of stdin closes when it stops or dies.
            watch_stdin(&stop);
        }

        let link = match &config.elixir_address {
            Some(address) => HostLink::connect(address, self.connect_retries)
                .await
                .map_err(|source| WorkerError::HostUnreachable {
                    address: address.clone(),
                    source,
                })?,
            None => {
                tracing::warn!("no --elixir-address: the worker runs without a host; calls back into Elixir will fail");
                HostLink::standalone()
            }
        };
        let link = Arc::new(link);
        let address = SocketAddr::from(([127, 0, 0, 1], config.port));
        let listener = match self.listener.take() {
            Some(listener) => listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(listener)),
            None => tokio::net::TcpListener::bind(address).await,
        }
        .map_err(|source| WorkerError::Bind { address, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| WorkerError::Bind { address, source })?;

        let worker_id = config
            .ready_file
            .as_deref()
            .and_then(worker_id_from_ready_file)
            .unwrap_or_else(|| format!("rust-{}", std::process::id()));
        let service = WorkerService {
            tools: self.tools.clone(),
            link: link.clone(),
            heartbeats: Arc::new(Heartbeats::new(
                config.heartbeat.clone(),
                link,
                stop.clone(),
            )),
            worker_id: worker_id.into(),
            stop: stop.clone(),
        };
        let service = BridgeServiceServer::new(service)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let (drain, draining) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = draining.await;
                }),
        );

        // The listener accepts from here on: now the host may read the port.
        if let Some(path) = &config.ready_file {
            write_ready_file(path, bound.port()).map_err(|source| WorkerError::ReadyFile {
                path: path.display().to_string(),
                source,
            })?;
            // The host re-reads the ready file whenever the worker prints, and otherwise every
            // 50 ms: one line gets the worker into the pool at once. (Output is only logged.)
            announce_ready(bound);
        }
        tracing::info!(address = %bound, tools = T::tool_definitions().len(), "worker serving");

        let reason = stop.stopped().await;
        tracing::info!(%reason, "worker stopping");
        let _ = drain.send(());
        if tokio::time::timeout(self.shutdown_grace, server)
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.shutdown_grace, "calls still in flight after the grace period; stopping anyway");
        }
        Ok(reason)
    }
}

/// One line on stdout, ignoring failure (a closed pipe must not stop the worker).
fn announce_ready(address: SocketAddr) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "snakepit worker ready on {address}");
    let _ = stdout.flush();
}

fn watch_signals(stop: &StopSwitch) {
    use tokio::signal::unix::{signal, SignalKind};
    for (kind, name) in [
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::interrupt(), "SIGINT"),
    ] {
        let Ok(mut signals) = signal(kind) else {
            tracing::warn!(signal = name, "cannot watch the signal");
            continue;
        };
        let stop = stop.clone();
        tokio::spawn(async move {
            if signals.recv().await.is_some() {
                stop.stop(StopReason::Signal(name));
            }
        });
    }
}

/// Stops the worker when stdin, a pipe from the host, reaches end of file. Only a pipe or
/// socket counts: a terminal or `/dev/null` says nothing about the host.
fn watch_stdin(stop: &StopSwitch) {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let is_pipe = std::fs::metadata("/dev/stdin")
        .map(|meta| meta.file_type().is_fifo() || meta.file_type().is_socket())
        .unwrap_or(false);
    if !is_pipe {
        return;
    }
    let stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("snakepit-stdin-watch".to_owned())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buffer = [0u8; 1024];
            loop {
                match stdin.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            stop.stop(StopReason::StdinClosed);
        });
    if spawned.is_err() {
        tracing::warn!(
            "cannot watch stdin; the worker relies on heartbeats to notice the host is gone"
        );
    }
}
