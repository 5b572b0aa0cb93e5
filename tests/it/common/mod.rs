//! Helpers shared by the integration tests: hosts, examples, and a worker served in this
//! process with a raw gRPC client of it, as snakepit's host talks to a worker.
//! (`tests/worker_telemetry.rs`, a binary of its own, includes this module too.)
#![allow(dead_code)]

pub mod real_host;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::telemetry_control::Control;
use snakepit_bridge::proto::{
    ExecuteToolRequest, ExecuteToolResponse, TelemetryControl, TelemetryEvent, TelemetryToggle,
};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::worker::tokio_stream::wrappers::ReceiverStream;
use snakepit_bridge::worker::{HeartbeatConfig, StreamExt, ToolSet, Worker, WorkerConfig};
use snakepit_bridge::SessionContext;
use tonic::transport::Channel;

pub const SESSION: &str = "test-session";

/// An embedded host with the demo tools in [`SESSION`], on an ephemeral loopback port.
pub async fn demo_host() -> EmbeddedHost {
    EmbeddedHost::builder()
        .tools(demo_tools())
        .session(SESSION)
        .start()
        .await
        .expect("the embedded host starts")
}

/// A host exposing `tools` in [`SESSION`], and a context connected to it there.
pub async fn host_and_context(
    tools: impl IntoIterator<Item = snakepit_bridge::testkit::host::ElixirTool>,
) -> (EmbeddedHost, SessionContext) {
    let host = EmbeddedHost::builder()
        .tools(tools)
        .session(SESSION)
        .start()
        .await
        .expect("the embedded host starts");
    let ctx = SessionContext::connect(host.grpc_address(), SESSION)
        .await
        .expect("the context connects");
    (host, ctx)
}

/// A demo host and a context connected to it in [`SESSION`].
pub async fn demo_host_and_context() -> (EmbeddedHost, SessionContext) {
    host_and_context(demo_tools()).await
}

/// A loopback address where connecting is refused, for as long as the returned socket lives:
/// its port is bound (so nothing else can take it meanwhile) but never listened on.
pub fn unused_address() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap().to_string();
    (socket, address)
}

/// A host on a runtime of its own, which can be killed as a process would be: all its tasks
/// and connections dropped at once.
pub struct IsolatedHost {
    runtime: Option<tokio::runtime::Runtime>,
    host: Option<EmbeddedHost>,
}

impl IsolatedHost {
    /// Starts `builder` on a new runtime; callable from async code.
    pub async fn start(
        builder: snakepit_bridge::testkit::host::EmbeddedHostBuilder,
    ) -> IsolatedHost {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let host = runtime
            .spawn(builder.start())
            .await
            .unwrap()
            .expect("the host starts");
        IsolatedHost {
            runtime: Some(runtime),
            host: Some(host),
        }
    }

    /// Starts `builder()` bound to `address`, which a host just killed held: its listener
    /// closes on its own runtime's threads after `kill` returns, so a bind that finds the
    /// address still in use is tried again (every 50 ms, for at most 10 s).
    pub async fn restart_on(
        builder: impl Fn() -> snakepit_bridge::testkit::host::EmbeddedHostBuilder,
        address: std::net::SocketAddr,
    ) -> IsolatedHost {
        use snakepit_bridge::testkit::host::HostError;
        for _ in 0..200 {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let error = match runtime
                .spawn(builder().bind(address).start())
                .await
                .unwrap()
            {
                Ok(host) => {
                    return IsolatedHost {
                        runtime: Some(runtime),
                        host: Some(host),
                    }
                }
                Err(error) => error,
            };
            // (a runtime may not be dropped in async code)
            runtime.shutdown_background();
            match error {
                HostError::Bind { source, .. }
                    if source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                other => panic!("the host restarts on {address}: {other}"),
            }
        }
        panic!("{address} was still in use 10 s after its host was killed")
    }

    pub fn host(&self) -> &EmbeddedHost {
        self.host.as_ref().unwrap()
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.host().address()
    }

    /// Drops every task of the host at once, without a graceful shutdown.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        drop(self.host.take());
    }
}

impl Drop for IsolatedHost {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An example binary (`showcase_worker`, `demo_host`, ...), built by `cargo test` next to the
/// test binaries.
pub fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The `demo_host` example running in a process of its own; killed when dropped, even when an
/// assertion fails. Its stdout stays open meanwhile.
pub struct HostProcess(
    std::process::Child,
    #[allow(dead_code)] std::io::BufReader<std::process::ChildStdout>,
);

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `demo_host` with `args` after its address (`127.0.0.1:0`, a port the OS picks) and
/// returns it with the address it prints on its first line.
pub fn start_demo_host(args: &[&str]) -> (HostProcess, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(example("demo_host"))
        .arg("127.0.0.1:0")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("demo_host starts (built by `cargo test`)");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    let address = first_line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line of demo_host: {first_line:?}"))
        .to_owned();
    (HostProcess(child, stdout), address)
}

/// The showcase worker example (`cargo build --example showcase_worker`).
pub fn showcase_worker() -> std::path::PathBuf {
    example("showcase_worker")
}

/// A listener on a loopback port the OS picks, handed to a worker (never released in between).
pub fn loopback_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A worker's settings with `host` as its Elixir host and a heartbeat every
/// `heartbeat_interval`; snakepit's defaults otherwise.
pub fn config_for(host: &EmbeddedHost, heartbeat_interval: Duration) -> WorkerConfig {
    let mut config = WorkerConfig::from_args_and_env(&[], &Default::default()).unwrap();
    config.elixir_address = Some(host.grpc_address());
    config.heartbeat = HeartbeatConfig::default().with_interval(heartbeat_interval);
    config
}

/// A raw gRPC client of the worker listening at `address`.
pub async fn client(address: SocketAddr) -> BridgeServiceClient<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    BridgeServiceClient::new(channel)
}

/// A worker of `tools` served in this process with snakepit's default settings and no host, and
/// a client of it.
pub async fn serve<T: ToolSet>(tools: T) -> BridgeServiceClient<Channel> {
    let listener = loopback_listener();
    let address = listener.local_addr().unwrap();
    let config = WorkerConfig::from_args_and_env(&[], &Default::default()).unwrap();
    tokio::spawn(Worker::new(tools).config(config).listener(listener).serve());
    client(address).await
}

/// `ExecuteTool` of `tool` in `session`: the JSON object `params` as its parameters (each value
/// in a JSON `Any`, as snakepit sends them) and `metadata`.
pub fn execute_request(
    session: &str,
    tool: &str,
    params: Value,
    metadata: &[(&str, &str)],
) -> ExecuteToolRequest {
    let Value::Object(params) = params else {
        panic!("parameters are an object")
    };
    ExecuteToolRequest {
        session_id: session.to_owned(),
        tool_name: tool.to_owned(),
        parameters: params
            .into_iter()
            .map(|(k, v)| (k, snakepit_bridge::json_any(v.to_string().into_bytes())))
            .collect(),
        metadata: metadata
            .iter()
            .map(|&(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        ..Default::default()
    }
}

/// Calls `tool` in `session` with the JSON object `params`; the worker's answer.
pub async fn execute(
    client: &mut BridgeServiceClient<Channel>,
    session: &str,
    tool: &str,
    params: Value,
) -> ExecuteToolResponse {
    client
        .execute_tool(execute_request(session, tool, params, &[]))
        .await
        .expect("ExecuteTool answers")
        .into_inner()
}

/// Waits until `condition` holds (what a worker does in the background), polling; fails after
/// 20 s (a bound for a hang, not a deadline the behaviour must meet).
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The host's control turning telemetry on or off.
pub fn toggle(enabled: bool) -> TelemetryControl {
    TelemetryControl {
        control: Some(Control::Toggle(TelemetryToggle { enabled })),
    }
}

/// Opens `StreamTelemetry` as snakepit does, `first` as its first control (in force once the
/// stream is answered); returns the control sender, which keeps the stream open, and the events.
pub async fn open_telemetry(
    client: &mut BridgeServiceClient<Channel>,
    first: TelemetryControl,
) -> (
    tokio::sync::mpsc::Sender<TelemetryControl>,
    tonic::Streaming<TelemetryEvent>,
) {
    let (controls, receiver) = tokio::sync::mpsc::channel(4);
    controls.send(first).await.unwrap();
    let events = client
        .stream_telemetry(ReceiverStream::new(receiver))
        .await
        .expect("the telemetry stream opens")
        .into_inner();
    (controls, events)
}

/// The next telemetry event, within 10 s.
pub async fn next_event(events: &mut tonic::Streaming<TelemetryEvent>) -> TelemetryEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("an event")
}
