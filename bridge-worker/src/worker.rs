//! The worker's life: launch settings, start-up in snakepit's order, serving, and stopping.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use snakepit_bridge_runtime::proto::bridge_service_server::BridgeServiceServer;
use snakepit_bridge_runtime::{DeclaredTools, SessionContext, SessionContextBuilder};
use tonic::transport::server::TcpIncoming;

use crate::config::WorkerConfig;
use crate::heartbeat::{Heartbeats, StopReason, StopSwitch};
use crate::host_link::{ConnectRetries, ContextOptions, HostLink};
use crate::output::BoxFuture;
use crate::ready_file::{worker_id_from_ready_file, write_ready_file};
use crate::service::WorkerService;
use crate::telemetry::TelemetryHub;
use crate::toolset::ToolSet;

/// The largest message the worker sends or receives, as snakepit's Python worker sets it.
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// How long in-flight calls may finish after SIGTERM, by default: well inside snakepit's 6 s
/// before SIGKILL (Python's worker gives 2 s).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long building the tools and the start-up hooks may take by default: well inside the
/// 30 s snakepit waits for a worker's ready file, so that a hung start-up is the worker's own
/// clear error rather than the host's time-out.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a worker answered without serving; see [`Worker::serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotServed {
    /// `--snakepit-describe`: the tool manifest was printed on stdout.
    Described,
    /// `--help`: what the worker is and how to run it was printed on stdout.
    Help,
    /// Run by hand, without snakepit's launch settings: how to run it was printed on stderr.
    ByHand,
}

impl NotServed {
    /// The exit code a worker's `main` should end with: 0 for the manifest and `--help`, 2 for
    /// a run by hand (a usage error).
    pub fn exit_code(self) -> u8 {
        match self {
            NotServed::Described | NotServed::Help => 0,
            NotServed::ByHand => 2,
        }
    }
}

impl std::fmt::Display for NotServed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotServed::Described => {
                "not serving: the tool manifest was printed (--snakepit-describe)"
            }
            NotServed::Help => "not serving: --help was printed",
            NotServed::ByHand => {
                "not serving: run by hand, without snakepit's launch settings (see the text above)"
            }
        })
    }
}

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
    /// The worker did not serve, as asked: it printed its manifest (`--snakepit-describe`) or
    /// what it is and how to run it (`--help`, or run by hand without snakepit's settings).
    #[error("{0}")]
    NotServed(NotServed),
    /// The [`ToolSet`]'s tool definitions cannot be served (a name the host refuses, two
    /// tools or parameters of one name, two rest parameters): a hand-written `ToolSet`'s
    /// mistake, which `#[worker_tools]` reports at compile time. The text lists every problem.
    #[error("{0}")]
    InvalidTools(String),
    /// A start-up hook (or the building of the tools) failed.
    #[error("start-up failed: {source}")]
    Start {
        /// The hook's error.
        #[source]
        source: BoxError,
    },
}

/// An error from a start-up or shutdown hook: any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type StartFn<T> = Box<dyn FnOnce(StartContext) -> BoxFuture<Result<T, BoxError>> + Send>;
type StartHook = Box<dyn FnOnce(StartContext) -> BoxFuture<Result<(), BoxError>> + Send>;
type ShutdownHook = Box<dyn FnOnce(StopReason) -> BoxFuture<()> + Send>;

/// Where the worker's tools come from.
enum Tools<T> {
    Ready(Arc<T>),
    Build(StartFn<T>),
}

/// How long a session with no call is kept by default before the worker releases what it holds
/// for it (see [`Worker::session_idle_timeout`]).
pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// A snakepit worker serving the tools of `T`.
///
/// Every way of running it goes through the same launch steps, in snakepit's Python worker's
/// order (priv/python/grpc_server.py `serve_with_shutdown`): read the settings, `setsid()` when
/// `SNAKEPIT_PROCESS_GROUP` asks, log to stderr at `SNAKEPIT_LOG_LEVEL`, ping the host, run the
/// start-up hooks (a failure stops here, exit code 1), bind, serve, write the ready file; then,
/// on SIGTERM, stdin closing, the host gone or [`WorkerHandle::stop`], let calls in flight
/// finish, run the shutdown hooks, and release every session.
///
/// Through the facade crate `snakepit-bridge`, with state built at start-up (the host's context
/// at hand) and a hook on shutdown:
///
/// ```no_run
/// use snakepit_bridge::worker::{StartContext, ToolError, Worker};
/// use snakepit_bridge::worker_tools;
///
/// struct Scaler {
///     factor: f64,
/// }
///
/// #[worker_tools]
/// impl Scaler {
///     /// Scales a number.
///     pub fn scale(&self, x: f64) -> Result<f64, ToolError> {
///         Ok(x * self.factor)
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     Worker::start_with(|start: StartContext| async move {
///         // Open pools, load models, check the host's tools (`start.verify::<MyToolsDeclaration>()`)...
///         let factor = std::env::var("FACTOR").ok().and_then(|f| f.parse().ok()).unwrap_or(2.0);
///         tracing::info!(host = start.is_connected(), "tools built");
///         Ok::<_, std::num::ParseFloatError>(Scaler { factor })
///     })
///     .on_shutdown(|reason| async move { tracing::info!(%reason, "flushed") })
///     .run()
/// }
/// ```
pub struct Worker<T> {
    tools: Tools<T>,
    start_hooks: Vec<StartHook>,
    shutdown_hooks: Vec<ShutdownHook>,
    config: Option<WorkerConfig>,
    shutdown_grace: Duration,
    startup_timeout: Duration,
    session_idle_timeout: Duration,
    connect_retries: ConnectRetries,
    host_options: Option<ContextOptions>,
    listener: Option<std::net::TcpListener>,
    handle: WorkerHandle,
}

impl<T: ToolSet> Worker<T> {
    /// A worker serving `tools`, with its settings read from the command line and the
    /// environment as snakepit sets them.
    pub fn new(tools: T) -> Self {
        Self::with_tools(Tools::Ready(Arc::new(tools)))
    }

    /// A worker whose tools `build` makes at start-up, once the host answered, with the host's
    /// context at hand (see [`StartContext`]); an error fails the start-up (exit code 1, the
    /// error on stderr), before the worker reports ready.
    pub fn start_with<F, Fut, E>(build: F) -> Self
    where
        F: FnOnce(StartContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        Self::with_tools(Tools::Build(Box::new(move |start| {
            let built = build(start);
            Box::pin(async move { built.await.map_err(Into::into) })
        })))
    }

    fn with_tools(tools: Tools<T>) -> Self {
        Worker {
            tools,
            start_hooks: Vec::new(),
            shutdown_hooks: Vec::new(),
            config: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            session_idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            connect_retries: ConnectRetries::default(),
            host_options: None,
            listener: None,
            handle: WorkerHandle::new(),
        }
    }

    /// Runs `hook` at start-up, after the tools are built and before the worker reports ready
    /// (hooks run in the order given); an error fails the start-up with it. Use it to check the
    /// host's Elixir tools against a declaration, so that a worker whose tools drifted never
    /// serves: `.on_start(|start| async move { start.verify::<MyToolsDeclaration>().await })`, where
    /// `MyToolsDeclaration` is what `#[elixir_tools]` declares for the trait `MyTools`.
    pub fn on_start<F, Fut, E>(mut self, hook: F) -> Self
    where
        F: FnOnce(StartContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.start_hooks.push(Box::new(move |start| {
            let ran = hook(start);
            Box::pin(async move { ran.await.map_err(Into::into) })
        }));
        self
    }

    /// Runs `hook` when the worker stops (SIGTERM, stdin closed, the host gone, or
    /// [`WorkerHandle::stop`]), after the calls in flight finished (or the grace period ran
    /// out): flush, close. The hooks run in the order given and share one shutdown grace
    /// period ([`shutdown_grace`](Self::shutdown_grace)); a hook still running when it ends is
    /// dropped.
    pub fn on_shutdown<F, Fut>(mut self, hook: F) -> Self
    where
        F: FnOnce(StopReason) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shutdown_hooks
            .push(Box::new(move |reason| Box::pin(hook(reason))));
        self
    }

    /// Sets the options of the context the worker calls the host with, for every RPC it sends
    /// there: calls back into Elixir, the forwarded `InitializeSession` and `CleanupSession`,
    /// registration and heartbeats (through [`SessionContext::rpc`]). Call timeout, message
    /// size, `check_parameters`, metadata, bearer token... (connecting is retried as snakepit's
    /// Python worker does, 1 s per attempt). The worker's own RPCs keep their own deadlines:
    /// the heartbeat timeout of [`HeartbeatConfig`](crate::HeartbeatConfig), 5 s for
    /// registration and sessions.
    ///
    /// ```
    /// # struct Tools;
    /// # #[snakepit_bridge::worker_tools]
    /// # impl Tools {
    /// #     pub fn ping(&self) -> Result<(), snakepit_bridge::worker::ToolError> { Ok(()) }
    /// # }
    /// use std::time::Duration;
    /// use snakepit_bridge::worker::Worker;
    ///
    /// let worker = Worker::new(Tools).host_context(|options| {
    ///     options.call_timeout(Duration::from_secs(5)).check_parameters(false)
    /// });
    /// ```
    pub fn host_context<F>(mut self, options: F) -> Self
    where
        F: Fn(SessionContextBuilder) -> SessionContextBuilder + Send + Sync + 'static,
    {
        self.host_options = Some(Arc::new(options));
        self
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

    /// How long building the tools ([`start_with`](Self::start_with)) and the start-up hooks
    /// may take together before the start fails with [`WorkerError::Start`] (default
    /// [`DEFAULT_STARTUP_TIMEOUT`], inside the 30 s snakepit waits for a worker's ready file).
    pub fn startup_timeout(mut self, limit: Duration) -> Self {
        self.startup_timeout = limit;
        self
    }

    /// How long calls in flight may finish after SIGTERM, and then, once more, how long the
    /// shutdown hooks may take together (default 2 s each: a stop takes at most 4 s, inside the
    /// 6 s snakepit waits before SIGKILL).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// How long a session may go without a call before the worker releases what it holds for
    /// it: its context for calls back, its heartbeats, its registration mark (default 10
    /// minutes). A later call in the session takes them up again (registering the tools anew,
    /// which the host takes as a duplicate). The session opened by `InitializeSession`, the
    /// worker's own, is released only by `CleanupSession`, so that its heartbeats keep telling
    /// whether the host lives. `Duration::MAX` keeps idle sessions.
    pub fn session_idle_timeout(mut self, idle: Duration) -> Self {
        self.session_idle_timeout = idle;
        self
    }

    /// A handle on the worker once it runs: stop it, see what it holds.
    pub fn handle(&self) -> WorkerHandle {
        self.handle.clone()
    }

    /// Runs the worker to the end, as a program's `main`, and returns the exit code snakepit
    /// expects (0 after SIGTERM or when the host is gone, 1 when start-up fails). The launch
    /// steps are [`serve`](Self::serve)'s.
    pub fn run(self) -> ExitCode {
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
        let outcome = runtime.block_on(self.serve());
        // Plain `fn` tools still running on blocking threads are not waited for.
        runtime.shutdown_background();
        match outcome {
            Ok(reason) => {
                tracing::info!(%reason, "worker stopped");
                ExitCode::SUCCESS
            }
            // What to print was printed already.
            Err(WorkerError::NotServed(not_served)) => ExitCode::from(not_served.exit_code()),
            Err(error) => {
                tracing::error!(error = %snakepit_bridge_runtime::support::error_chain(&error), "worker failed to start");
                crate::logging::print_line(&format!(
                    "snakepit worker: {}",
                    snakepit_bridge_runtime::support::error_chain(&error)
                ));
                ExitCode::from(1)
            }
        }
    }

    /// Serves until the worker should stop; returns why. Call it inside a tokio runtime (with
    /// the time and I/O drivers); [`run`](Self::run) does it for a `main`. It takes every launch
    /// step `run` takes (settings, `setsid`, logging unless the program installed a `tracing`
    /// subscriber already, hooks).
    ///
    /// First the tool definitions are checked: definitions the host could not take are
    /// [`WorkerError::InvalidTools`], whatever the flags. Then, before anything else, as a
    /// worker binary is expected to: `--snakepit-describe` prints the tool manifest on stdout,
    /// and, when no configuration was given in code, `--help` or a run by hand without
    /// snakepit's launch settings prints what the worker is and how to run it; each returns
    /// [`WorkerError::NotServed`], whose [`exit_code`](NotServed::exit_code) is the one to exit
    /// with.
    pub async fn serve(mut self) -> Result<StopReason, WorkerError> {
        crate::toolset::check_definitions::<T>().map_err(WorkerError::InvalidTools)?;
        self.answer_if_not_served()?;
        let config = match self.config.take() {
            Some(config) => config,
            None => WorkerConfig::from_process().map_err(WorkerError::Config)?,
        };
        prepare_process(&config);
        let stop = self.handle.inner.stop.clone();
        watch_signals(&stop);
        if config.ready_file.is_some() {
            // Launched by snakepit: its end of stdin closes when it stops or dies.
            watch_stdin(&stop);
        }

        let link = connect_host(&config, self.connect_retries, self.host_options.as_ref()).await?;
        let link = Arc::new(link);
        let _ = self.handle.inner.link.set(link.clone());
        let worker_id = config
            .ready_file
            .as_deref()
            .and_then(worker_id_from_ready_file)
            .unwrap_or_else(|| format!("rust-{}", std::process::id()));
        let tools = self.start_in_time(&config, &link, &worker_id).await?;
        let listener = self.bind(config.port).await?;
        let bound = listener.local_addr().map_err(|source| WorkerError::Bind {
            address: SocketAddr::from(([127, 0, 0, 1], config.port)),
            source,
        })?;

        // One heartbeat task for every session (see `Heartbeats`).
        let heartbeats = Arc::new(Heartbeats::start(
            config.heartbeat.clone(),
            link.clone(),
            stop.clone(),
        ));
        let service = Arc::new(WorkerService {
            tools,
            link: link.clone(),
            heartbeats: heartbeats.clone(),
            worker_id: worker_id.into(),
            stop: stop.clone(),
            telemetry: Arc::new(TelemetryHub::new()),
        });
        // The lane listens before the ready file is written, so that the host finds it.
        let lane = config.lane_dir.as_deref().and_then(|dir| {
            crate::lane::offer(
                dir,
                bound.port(),
                service.clone(),
                MAX_MESSAGE_SIZE,
                stop.clone(),
            )
        });
        let (drain, server) = serve_grpc(service, listener);
        let reaper = release_idle_sessions(link.clone(), self.session_idle_timeout);
        // The listener accepts from here on: now the host may read the port.
        announce::<T>(&config, bound)?;

        let reason = stop.stopped().await;
        tracing::info!(%reason, "worker stopping");
        let _ = drain.send(());
        drain_calls(self.shutdown_grace, server, lane).await;
        self.run_shutdown_hooks(&reason).await;
        reaper.abort();
        heartbeats.stop();
        link.release_all();
        Ok(reason)
    }

    /// `--snakepit-describe`, and (with no configuration given in code) `--help` or a run by
    /// hand: what to print is printed, and the worker does not serve.
    fn answer_if_not_served(&self) -> Result<(), WorkerError> {
        if let Some(code) = crate::toolset::describe_if_asked::<T>() {
            if code != ExitCode::SUCCESS {
                return Err(WorkerError::Config(
                    "could not write the tool manifest to stdout".to_owned(),
                ));
            }
            return Err(WorkerError::NotServed(NotServed::Described));
        }
        if self.config.is_none() {
            if let Some(code) = crate::config::explain_if_run_by_hand::<T>() {
                let not_served = if code == ExitCode::SUCCESS {
                    NotServed::Help
                } else {
                    NotServed::ByHand
                };
                return Err(WorkerError::NotServed(not_served));
            }
        }
        Ok(())
    }

    /// [`start`](Self::start) within the start-up timeout.
    async fn start_in_time(
        &mut self,
        config: &WorkerConfig,
        link: &Arc<HostLink>,
        worker_id: &str,
    ) -> Result<Arc<T>, WorkerError> {
        let limit = self.startup_timeout;
        tokio::time::timeout(limit, self.start(config, link, worker_id))
            .await
            .map_err(|_| WorkerError::Start {
                source: format!(
                    "the tools' building and the start-up hooks did not finish within {limit:?} \
                     (snakepit stops waiting for a worker after 30 s); make them faster or raise \
                     `Worker::startup_timeout`"
                )
                .into(),
            })?
    }

    /// The listener given in code, or one bound on `127.0.0.1:port`.
    async fn bind(&mut self, port: u16) -> Result<tokio::net::TcpListener, WorkerError> {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        match self.listener.take() {
            Some(listener) => listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(listener)),
            None => tokio::net::TcpListener::bind(address).await,
        }
        .map_err(|source| WorkerError::Bind { address, source })
    }

    /// The shutdown hooks, with one deadline for all: a stop takes at most twice the grace
    /// period (4 s by default), inside the 6 s snakepit waits before SIGKILL.
    async fn run_shutdown_hooks(&mut self, reason: &StopReason) {
        let hooks_deadline = tokio::time::Instant::now() + self.shutdown_grace;
        for hook in self.shutdown_hooks.drain(..) {
            if tokio::time::timeout_at(hooks_deadline, hook(reason.clone()))
                .await
                .is_err()
            {
                tracing::warn!(grace = ?self.shutdown_grace, "the shutdown hooks did not finish within the grace period; stopping anyway");
            }
        }
    }

    /// Builds the tools and runs the start-up hooks.
    async fn start(
        &mut self,
        config: &WorkerConfig,
        link: &Arc<HostLink>,
        worker_id: &str,
    ) -> Result<Arc<T>, WorkerError> {
        let start = StartContext {
            config: config.clone(),
            link: link.clone(),
            session_id: format!("{worker_id}-startup"),
        };
        let tools = match std::mem::replace(
            &mut self.tools,
            Tools::Build(Box::new(|_| unreachable_build())),
        ) {
            Tools::Ready(tools) => tools,
            Tools::Build(build) => Arc::new(
                build(start.clone())
                    .await
                    .map_err(|source| WorkerError::Start { source })?,
            ),
        };
        for hook in self.start_hooks.drain(..) {
            hook(start.clone())
                .await
                .map_err(|source| WorkerError::Start { source })?;
        }
        Ok(tools)
    }
}

/// Never called: stands in for the tools taken out of the worker once built.
fn unreachable_build<T>() -> BoxFuture<Result<T, BoxError>> {
    Box::pin(async { Err("the worker's tools were already built".into()) })
}

/// The link to the host at `--elixir-address`, or none when there is no address.
async fn connect_host(
    config: &WorkerConfig,
    retries: ConnectRetries,
    options: Option<&ContextOptions>,
) -> Result<HostLink, WorkerError> {
    match &config.elixir_address {
        Some(address) => HostLink::connect(address, retries, options)
            .await
            .map_err(|source| WorkerError::HostUnreachable {
                address: address.clone(),
                source,
            }),
        None => {
            tracing::warn!("no --elixir-address: the worker runs without a host; calls back into Elixir will fail");
            Ok(HostLink::standalone())
        }
    }
}

/// Waits for the calls in flight on both lanes, at most `grace`.
async fn drain_calls(
    grace: Duration,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    lane: Option<crate::lane::Lane>,
) {
    let lane_drained = async {
        if let Some(lane) = &lane {
            lane.drain(grace).await;
        }
    };
    let (served, ()) = tokio::join!(tokio::time::timeout(grace, server), lane_drained);
    if served.is_err() {
        tracing::warn!(
            ?grace,
            "calls still in flight after the grace period; stopping anyway"
        );
    }
}

/// Serves the worker's gRPC service on `listener` until `drain` is sent (or dropped).
fn serve_grpc<T: ToolSet>(
    service: Arc<WorkerService<T>>,
    listener: tokio::net::TcpListener,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
) {
    let service = BridgeServiceServer::from_arc(service)
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
    (drain, server)
}

/// Tells the host (the ready file) or the person who started the worker (one line on stderr)
/// where it listens.
fn announce<T: ToolSet>(config: &WorkerConfig, bound: SocketAddr) -> Result<(), WorkerError> {
    let tools = crate::toolset::built::<T>().definitions.len();
    if let Some(path) = &config.ready_file {
        write_ready_file(path, bound.port()).map_err(|source| WorkerError::ReadyFile {
            path: path.display().to_string(),
            source,
        })?;
        // The host re-reads the ready file whenever the worker prints, and otherwise every
        // 50 ms: one line gets the worker into the pool at once. (Output is only logged.)
        announce_ready(bound);
    } else if config.log_level != crate::config::LogLevel::None {
        // Started by hand (`EXE --port 50051`), where the default log level prints
        // nothing: say once where it listens.
        announce_listening(bound, tools);
    }
    tracing::info!(address = %bound, tools, "worker serving");
    Ok(())
}

/// The launch steps before anything serves, shared by every way of running a worker.
fn prepare_process(config: &WorkerConfig) {
    if config.process_group {
        // The host then stops the whole group at once (grpc_server.py
        // maybe_create_process_group). Fails harmlessly when already a group leader.
        // SAFETY: setsid has no memory-safety preconditions.
        unsafe {
            libc::setsid();
        }
    }
    crate::logging::init(config.log_level);
}

/// Releases the sessions idle for `idle`, checking a few times per period.
fn release_idle_sessions(link: Arc<HostLink>, idle: Duration) -> tokio::task::AbortHandle {
    let period = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
    tokio::spawn(async move {
        if idle == Duration::MAX {
            return;
        }
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            link.release_idle(idle);
        }
    })
    .abort_handle()
}

/// What a start-up hook has at hand: the launch settings and the host.
#[derive(Clone, Debug)]
pub struct StartContext {
    config: WorkerConfig,
    link: Arc<HostLink>,
    session_id: String,
}

impl StartContext {
    /// The launch settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Whether the worker has a host (`--elixir-address`).
    pub fn is_connected(&self) -> bool {
        self.link.is_connected()
    }

    /// The start-up session's id (`<worker id>-startup`), the one [`verify`](Self::verify)
    /// checks in.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// A context on the host for session `id`, sharing the worker's connection and options.
    pub fn session(&self, id: &str) -> Result<SessionContext, snakepit_bridge_runtime::Error> {
        match self.link.base() {
            Some(base) => Ok(base.for_session(id)),
            None => Err(snakepit_bridge_runtime::Error::NoHost {
                reason: "the worker was started without --elixir-address (snakepit passes it to every worker it launches)".to_owned(),
            }),
        }
    }

    /// Checks the declared Elixir tools `D` (an `#[elixir_tools]` trait) against the tools the
    /// host exposes to a new session, the start-up session: created with `InitializeSession`,
    /// checked, then cleaned up. The error lists every mismatch. For a host whose Elixir tools
    /// are exposed in one session only, use [`verify_in`](Self::verify_in).
    pub async fn verify<D: DeclaredTools>(&self) -> Result<(), snakepit_bridge_runtime::Error> {
        let ctx = self.session(&self.session_id)?;
        ctx.initialize_session([("purpose", "snakepit-bridge start-up check")])
            .await?;
        let verified = ctx.verify::<D>().await;
        // Best effort, as the host's own cleanup is.
        let _ = ctx.cleanup().await;
        verified
    }

    /// Checks `D` against the tools the host exposes to session `id`.
    pub async fn verify_in<D: DeclaredTools>(
        &self,
        id: &str,
    ) -> Result<(), snakepit_bridge_runtime::Error> {
        self.session(id)?.verify::<D>().await
    }
}

/// A handle on a worker: stop it, see what it holds. Take it with [`Worker::handle`] before
/// running the worker.
#[derive(Clone, Debug)]
pub struct WorkerHandle {
    inner: Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    stop: StopSwitch,
    link: std::sync::OnceLock<Arc<HostLink>>,
}

impl WorkerHandle {
    fn new() -> WorkerHandle {
        WorkerHandle {
            inner: Arc::new(HandleInner {
                stop: StopSwitch::new(),
                link: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Stops the worker as SIGTERM does: calls in flight finish, shutdown hooks run.
    pub fn stop(&self) {
        self.inner.stop.stop(StopReason::Requested);
    }

    /// Sessions the worker holds resources for now.
    pub fn sessions(&self) -> usize {
        self.inner.link.get().map_or(0, |link| link.session_count())
    }

    /// Sessions the worker sends heartbeats for now (each session held, when heartbeats are
    /// on). One task sends them all, whatever their number.
    pub fn heartbeat_loops(&self) -> usize {
        self.inner
            .link
            .get()
            .map_or(0, |link| link.heartbeat_session_count())
    }
}

/// One line on stdout, ignoring failure (a closed pipe must not stop the worker).
fn announce_ready(address: SocketAddr) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "snakepit worker ready on {address}");
    let _ = stdout.flush();
}

fn announce_listening(address: SocketAddr, tools: usize) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "snakepit-bridge worker: {tools} tools listening on {address} (gRPC); no \
         SNAKEPIT_READY_FILE, so no snakepit pool started it; SIGTERM or Ctrl-C stops it"
    );
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
