//! The lane's server: a Unix socket in the BEAM's lane directory, whose calls run through the
//! worker's own `BridgeService` methods (span, deadline, telemetry, error JSON: all as on
//! gRPC).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{AbortHandle, AbortRegistration, Abortable};
use futures_util::FutureExt;
use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
use snakepit_bridge_spec::lane::{
    lane_socket_name, CALL_ID_BYTES, FRAME_LENGTH_BYTES, HELLO_CALL_ID, LANE_VERSION,
};
use snakepit_bridge_spec::{encode_grpc_timeout, parse_grpc_timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;
use tokio_stream::StreamExt;
use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

use super::codec::{self, Inbound, LaneCall};
use crate::heartbeat::StopSwitch;
use crate::service::WorkerService;
use crate::toolset::ToolSet;

/// The lane's socket, removed when the worker stops.
pub(crate) struct LaneSocket {
    listener: UnixListener,
    path: PathBuf,
    /// The socket file's device and inode: the file is removed only while it is still this
    /// one, not a socket a later worker on the same port has put there.
    file: Option<(u64, u64)>,
}

impl Drop for LaneSocket {
    fn drop(&mut self) {
        if self.file.is_some() && file_id(&self.path) == self.file {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|metadata| (metadata.dev(), metadata.ino()))
}

impl LaneSocket {
    /// Listens on the lane socket for `port` in `dir`, which must be a directory of this user
    /// that no one else may enter (mode 0700): the socket's only access control. A socket left
    /// there by a killed worker is replaced.
    pub(crate) fn bind(dir: &Path, port: u16) -> Result<LaneSocket, String> {
        check_private_dir(dir)?;
        let path = dir.join(lane_socket_name(port));
        match std::fs::symlink_metadata(&path) {
            Ok(metadata) if is_socket(&metadata) => {
                std::fs::remove_file(&path).map_err(|error| {
                    format!("cannot remove the stale socket {}: {error}", path.display())
                })?
            }
            Ok(_) => {
                return Err(format!(
                    "{} exists and is not a socket; remove it",
                    path.display()
                ))
            }
            Err(_) => {}
        }
        let listener = UnixListener::bind(&path)
            .map_err(|error| format!("cannot listen on {}: {error}", path.display()))?;
        let file = file_id(&path);
        Ok(LaneSocket {
            listener,
            path,
            file,
        })
    }

    /// The socket's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn is_socket(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    metadata.file_type().is_socket()
}

fn check_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::symlink_metadata(dir).map_err(|error| {
        format!(
            "the lane directory {} cannot be read: {error}",
            dir.display()
        )
    })?;
    if !metadata.is_dir() {
        return Err(format!(
            "the lane directory {} is not a directory",
            dir.display()
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let user = unsafe { libc::geteuid() };
    if metadata.uid() != user {
        return Err(format!(
            "the lane directory {} belongs to user {}, not to this worker's user {user}",
            dir.display(),
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o077 != 0 {
        return Err(format!(
            "the lane directory {} has mode {:o}; only its owner may enter it (0700)",
            dir.display(),
            metadata.mode() & 0o777
        ));
    }
    Ok(())
}

/// The lane while the worker offers it. Its socket file goes as soon as the worker is told
/// to stop (when the gRPC port is still the worker's, so no later worker's socket is touched).
pub(crate) struct Lane {
    accepting: tokio::task::AbortHandle,
    in_flight: Arc<InFlight>,
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Lane {
    /// Waits, at most `grace`, for the calls under way on the lane to finish (the worker takes
    /// no new ones once it is stopping), as the gRPC server drains its own.
    pub(crate) async fn drain(&self, grace: Duration) {
        let drained = async {
            loop {
                let idle = self.in_flight.idle.notified();
                if self.in_flight.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        if tokio::time::timeout(grace, drained).await.is_err() {
            tracing::warn!(
                ?grace,
                "lane calls still in flight after the grace period; stopping anyway"
            );
        }
    }
}

/// The lane's calls under way, across its connections.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One call under way: counted from its start to its end (or abort).
struct InFlightCall(Arc<InFlight>);

impl InFlightCall {
    fn start(in_flight: &Arc<InFlight>) -> InFlightCall {
        in_flight.count.fetch_add(1, Ordering::AcqRel);
        InFlightCall(in_flight.clone())
    }
}

impl Drop for InFlightCall {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What every connection of the lane shares.
struct Shared<T> {
    service: Arc<WorkerService<T>>,
    port: u16,
    max_frame: usize,
    stop: StopSwitch,
    in_flight: Arc<InFlight>,
}

/// Offers the lane in `dir` for the worker on `port`. A directory that will not do is logged
/// and the worker serves on gRPC alone, as a worker without the lane does.
pub(crate) fn offer<T: ToolSet>(
    dir: &Path,
    port: u16,
    service: Arc<WorkerService<T>>,
    max_frame: usize,
    stop: StopSwitch,
) -> Option<Lane> {
    match LaneSocket::bind(dir, port) {
        Ok(socket) => {
            tracing::debug!(path = %socket.path().display(), "lane offered");
            let in_flight = Arc::new(InFlight::default());
            let shared = Arc::new(Shared {
                service,
                port,
                max_frame,
                stop,
                in_flight: in_flight.clone(),
            });
            let accepting = tokio::spawn(serve(socket, shared));
            Some(Lane {
                accepting: accepting.abort_handle(),
                in_flight,
            })
        }
        Err(reason) => {
            tracing::warn!(%reason, "the worker does not offer the Unix-socket lane; its calls come over gRPC");
            None
        }
    }
}

/// Serves the lane until the worker stops: one task per connection, one per call.
async fn serve<T: ToolSet>(socket: LaneSocket, shared: Arc<Shared<T>>) {
    loop {
        let accepted = tokio::select! {
            accepted = socket.listener.accept() => accepted,
            _ = shared.stop.stopped() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
            Err(error) => {
                tracing::warn!(%error, "the lane could not accept a connection");
                // Out of file descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The calls under way on one connection, to cancel one or all of them. A cancel stops a
/// call between its frames, never in the middle of writing one.
#[derive(Default)]
struct Calls {
    running: Mutex<HashMap<u64, (u64, AbortHandle)>>,
    /// Tells two calls of one id apart (the first's end must not forget the second).
    generation: AtomicU64,
}

impl Calls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (u64, AbortHandle)>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records call `id` and returns its generation, unless a call of that id is under way.
    fn insert(&self, id: u64, handle: AbortHandle) -> Option<u64> {
        match self.lock().entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => None,
            std::collections::hash_map::Entry::Vacant(entry) => {
                let generation = self.generation.fetch_add(1, Ordering::Relaxed);
                entry.insert((generation, handle));
                Some(generation)
            }
        }
    }

    fn contains(&self, id: u64) -> bool {
        self.lock().contains_key(&id)
    }

    fn cancel(&self, id: u64) {
        if let Some((_, handle)) = self.lock().remove(&id) {
            handle.abort();
        }
    }

    /// Forgets call `id` once it has ended, if it is still that call.
    fn ended(&self, id: u64, generation: u64) {
        let mut running = self.lock();
        if running
            .get(&id)
            .is_some_and(|(entry, _)| *entry == generation)
        {
            running.remove(&id);
        }
    }

    fn cancel_all(&self) {
        for (_, (_, handle)) in self.lock().drain() {
            handle.abort();
        }
    }
}

/// The connection's writing half. The task that has a frame writes it, whole (no hop through
/// a writer task); a call that streams waits while the socket is full, so what the BEAM has
/// not read yet stays within the socket's buffer.
struct Frames(tokio::sync::Mutex<OwnedWriteHalf>);

impl Frames {
    /// Writes `frame`; `false` once the BEAM's side is gone.
    async fn send(&self, frame: &[u8]) -> bool {
        self.0.lock().await.write_all(frame).await.is_ok()
    }

    /// Writes `frame` from a task of its own, so that the connection's reader never waits for
    /// the socket (and always reads the next cancel).
    fn send_later(self: &Arc<Self>, frame: Vec<u8>) {
        let frames = self.clone();
        tokio::spawn(async move { frames.send(&frame).await });
    }
}

async fn serve_connection<T: ToolSet>(stream: UnixStream, shared: Arc<Shared<T>>) {
    let (reader, writer) = stream.into_split();
    let frames = Arc::new(Frames(tokio::sync::Mutex::new(writer)));
    let calls = Arc::new(Calls::default());
    if let Err(error) = read_frames(reader, &shared, &calls, &frames).await {
        tracing::debug!(%error, "lane connection closed");
    }
    // The BEAM's side is gone: its calls are dropped, as a gRPC connection's would be.
    calls.cancel_all();
}

/// Frames larger than this are decoded off the runtime's threads.
const DECODE_INLINE_LIMIT: usize = 64 * 1024;

/// What the connection reads at once: a frame's length, id and a small term in one read.
const READ_BUFFER: usize = 64 * 1024;

async fn read_frames<T: ToolSet>(
    reader: OwnedReadHalf,
    shared: &Arc<Shared<T>>,
    calls: &Arc<Calls>,
    frames: &Arc<Frames>,
) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(READ_BUFFER, reader);
    let max_frame = shared.max_frame;
    loop {
        let length = reader.read_u32().await? as usize;
        if length < CALL_ID_BYTES {
            return Err(std::io::Error::other(format!(
                "a frame of {length} bytes has no call id; the connection is closed"
            )));
        }
        let call_id = reader.read_u64().await?;
        let term_length = length - CALL_ID_BYTES;
        if term_length > max_frame {
            // Read past it, so that the next frame is found; only this call fails, with what
            // the gRPC server answers a message over its limit.
            tokio::io::copy(
                &mut (&mut reader).take(term_length as u64),
                &mut tokio::io::sink(),
            )
            .await?;
            let status = Status::out_of_range(format!(
                "Error, decoded message length too large: found {term_length} bytes, the limit is: {max_frame} bytes"
            ));
            frames.send_later(codec::status_frame(call_id, &status));
            continue;
        }
        let mut term = vec![0; term_length];
        reader.read_exact(&mut term).await?;
        let inbound = if term_length > DECODE_INLINE_LIMIT {
            tokio::task::spawn_blocking(move || codec::read_inbound(&term))
                .await
                .unwrap_or_else(|_| Err("the frame's decoding failed".to_owned()))
        } else {
            codec::read_inbound(&term)
        };
        let refused = match inbound {
            Ok(Inbound::Hello { version }) if call_id == HELLO_CALL_ID => {
                // The connection's first frame: nothing else is being written.
                let answer = codec::hello_frame(call_id, LANE_VERSION.min(version), shared.port);
                frames.send(&answer).await;
                continue;
            }
            Ok(Inbound::Hello { .. }) => Status::invalid_argument(format!(
                "a hello has call id {HELLO_CALL_ID}, not {call_id}"
            )),
            Ok(Inbound::Execute(call)) => {
                // Counted before the stop is looked at, so that a drain that finds no call
                // under way cannot miss one starting.
                let counted = InFlightCall::start(&shared.in_flight);
                if shared.stop.is_stopping() {
                    // As the gRPC server refuses new calls while it drains.
                    Status::unavailable(
                        "the worker is stopping and takes no new calls; snakepit starts another",
                    )
                } else if calls.contains(call_id) {
                    Status::invalid_argument(format!(
                        "call id {call_id} is already in use on this lane connection"
                    ))
                } else {
                    start_call(*call, call_id, counted, shared, calls, frames);
                    continue;
                }
            }
            Ok(Inbound::Cancel) => {
                calls.cancel(call_id);
                continue;
            }
            Err(reason) => Status::invalid_argument(format!(
                "the lane frame of call {call_id} was refused: {reason}"
            )),
        };
        frames.send_later(codec::status_frame(call_id, &refused));
    }
}

/// Runs one call in a task of its own, which writes its answer (or its chunks) itself.
fn start_call<T: ToolSet>(
    call: LaneCall,
    call_id: u64,
    counted: InFlightCall,
    shared: &Arc<Shared<T>>,
    calls: &Arc<Calls>,
    frames: &Arc<Frames>,
) {
    let tool = call.request.tool_name.clone();
    let stream = call.request.stream;
    // The limit tonic's server would enforce: the timeout as `grpc-timeout` spells it (whole
    // seconds from 1 s up, as snakepit's client writes it).
    let timeout = call
        .timeout
        .and_then(|timeout| parse_grpc_timeout(&encode_grpc_timeout(timeout)));
    let request = grpc_request(call);
    let (abort, registration) = AbortHandle::new_pair();
    let Some(generation) = calls.insert(call_id, abort.clone()) else {
        return; // The reader has checked that the id is free; it alone inserts.
    };
    let call = Call {
        id: call_id,
        max_frame: shared.max_frame,
        abort,
        frames: frames.clone(),
    };
    let (service, calls) = (shared.service.clone(), calls.clone());
    tokio::spawn(async move {
        let _counted = counted;
        let frames = call.frames.clone();
        let ran = if stream {
            AssertUnwindSafe(run_stream(&*service, request, timeout, call, registration))
                .catch_unwind()
                .await
        } else {
            AssertUnwindSafe(run_unary(&*service, request, timeout, call, registration))
                .catch_unwind()
                .await
        };
        // A panic outside the tool's own polling (which the service catches) answers the
        // caller instead of leaving it waiting.
        if let Err(panic) = ran {
            let message = snakepit_bridge_runtime::support::panic_message(&*panic);
            let status = Status::internal(format!(
                "the worker panicked while it ran tool `{tool}`: {message}"
            ));
            frames.send(&codec::status_frame(call_id, &status)).await;
        }
        calls.ended(call_id, generation);
    });
}

/// One call's way back to the BEAM, and its cancel.
struct Call {
    id: u64,
    max_frame: usize,
    abort: AbortHandle,
    frames: Arc<Frames>,
}

impl Call {
    /// Writes `frame` unless the call has been cancelled; `false` when the call is over.
    async fn send(&self, frame: &[u8]) -> bool {
        !self.abort.is_aborted() && self.frames.send(frame).await
    }

    /// `frame` if its message is within the limit, else the status frame of what tonic's
    /// server answers a message over its limit (as `Err`).
    fn within_limit(&self, frame: Vec<u8>) -> Result<Vec<u8>, Vec<u8>> {
        let length = frame.len() - FRAME_LENGTH_BYTES - CALL_ID_BYTES;
        if length <= self.max_frame {
            return Ok(frame);
        }
        Err(codec::status_frame(
            self.id,
            &Status::out_of_range(format!(
            "Error, encoded message length too large: found {length} bytes, the limit is: {} bytes",
            self.max_frame
        )),
        ))
    }
}

/// The request as tonic would have handed it to the service: the caller's timeout as
/// `grpc-timeout`, the correlation id as snakepit's header.
fn grpc_request(call: LaneCall) -> Request<snakepit_bridge_runtime::proto::ExecuteToolRequest> {
    let mut request = Request::new(call.request);
    let metadata = request.metadata_mut();
    if let Some(timeout) = call.timeout {
        if let Ok(value) = MetadataValue::try_from(encode_grpc_timeout(timeout)) {
            metadata.insert(snakepit_bridge_spec::GRPC_TIMEOUT_HEADER, value);
        }
    }
    if let Some(id) = call.correlation_id {
        if let Ok(value) = MetadataValue::try_from(id) {
            metadata.insert(snakepit_bridge_spec::CORRELATION_HEADER, value);
        }
    }
    request
}

/// `future` with the deadline tonic's server enforces (CANCELLED "Timeout expired").
async fn within_deadline<R>(
    timeout: Option<Duration>,
    future: impl std::future::Future<Output = Result<R, Status>>,
) -> Result<R, Status> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, future)
            .await
            .unwrap_or_else(|_| Err(Status::cancelled("Timeout expired"))),
        None => future.await,
    }
}

/// A unary call: its answer, unless it is cancelled first.
async fn run_unary<T: ToolSet>(
    service: &WorkerService<T>,
    request: Request<snakepit_bridge_runtime::proto::ExecuteToolRequest>,
    timeout: Option<Duration>,
    call: Call,
    cancel: AbortRegistration,
) {
    let answer = within_deadline(timeout, service.execute_tool(request));
    let Ok(answer) = Abortable::new(answer, cancel).await else {
        return; // Cancelled: nothing is answered.
    };
    let frame = match answer {
        Ok(response) => {
            match call.within_limit(codec::response_frame(call.id, response.into_inner())) {
                Ok(frame) | Err(frame) => frame,
            }
        }
        Err(status) => codec::status_frame(call.id, &status),
    };
    call.frames.send(&frame).await;
}

/// A streaming call: its chunks, then `{:end}` or the status that ended it; a cancel stops it
/// between two chunks.
async fn run_stream<T: ToolSet>(
    service: &WorkerService<T>,
    request: Request<snakepit_bridge_runtime::proto::ExecuteToolRequest>,
    timeout: Option<Duration>,
    call: Call,
    cancel: AbortRegistration,
) {
    // tonic enforces the deadline until the answer starts; the service the rest.
    let started = within_deadline(timeout, service.execute_streaming_tool(request));
    let mut chunks = match started.await {
        Ok(response) => Abortable::new(response.into_inner(), cancel),
        Err(status) => {
            call.send(&codec::status_frame(call.id, &status)).await;
            return;
        }
    };
    while let Some(item) = chunks.next().await {
        let frame = match item.map(|chunk| call.within_limit(codec::chunk_frame(call.id, chunk))) {
            Ok(Ok(frame)) => frame,
            // A chunk over the limit ends the stream with its status, as on gRPC.
            Ok(Err(status)) => {
                call.send(&status).await;
                return;
            }
            Err(status) => {
                call.send(&codec::status_frame(call.id, &status)).await;
                return;
            }
        };
        if !call.send(&frame).await {
            // Cancelled, or the connection is gone: dropping the stream stops the tool, as
            // on gRPC.
            return;
        }
    }
    // The stream ends on its own or by a cancel (which answers nothing).
    if !chunks.is_aborted() {
        call.send(&codec::end_frame(call.id)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::ToolCall;
    use crate::heartbeat::{Heartbeats, StopReason};
    use crate::host_link::HostLink;
    use crate::output::{Answer, Invocation, UnaryAnswer};
    use crate::telemetry::TelemetryHub;
    use crate::toolset::ToolDefinition;
    use crate::ToolError;
    use eetf::{Map, Term};
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The chunks `flood` has made.
    static FLOODED: AtomicUsize = AtomicUsize::new(0);

    /// `echo` answers `"hi"`, `slow` takes 30 s, `panics` panics in `invoke` (outside the
    /// tool's polling, where the service catches panics).
    struct Tools;

    impl ToolSet for Tools {
        fn tool_definitions() -> Vec<ToolDefinition> {
            Vec::new()
        }

        fn type_name() -> &'static str {
            "LaneTestTools"
        }

        fn invoke(self: &Arc<Self>, call: ToolCall) -> Result<Invocation, ToolError> {
            let answer = || {
                Ok(Answer::Unary(UnaryAnswer {
                    json: b"\"hi\"".to_vec(),
                    binary: Default::default(),
                }))
            };
            match call.tool_name() {
                "echo" => Ok(Invocation::Async(Box::pin(async move { answer() }))),
                "slow" => Ok(Invocation::Async(Box::pin(async move {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    answer()
                }))),
                "panics" => panic!("invoke blew up"),
                "big" => Ok(Invocation::Async(Box::pin(async move {
                    Ok(Answer::Unary(UnaryAnswer {
                        json: format!("\"{}\"", "x".repeat(8192)).into_bytes(),
                        binary: Default::default(),
                    }))
                }))),
                // 1, 2, 3; then, for `count_forever`, nothing more until cancelled.
                "count" | "count_forever" => {
                    let forever = call.tool_name() == "count_forever";
                    Ok(Invocation::Async(Box::pin(async move {
                        let numbers = tokio_stream::iter([1, 2, 3].map(Ok::<_, ToolError>));
                        let rest = tokio_stream::iter(Vec::<Result<i32, ToolError>>::new());
                        Ok(match forever {
                            false => crate::stream::stream_outcome(numbers.chain(rest))?,
                            true => crate::stream::stream_outcome(
                                numbers.chain(futures_util::stream::pending()),
                            )?,
                        })
                    })))
                }
                // 64 KiB chunks until cancelled, counted as they are made.
                "flood" => Ok(Invocation::Async(Box::pin(async move {
                    let chunks = futures_util::stream::repeat_with(|| {
                        FLOODED.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, ToolError>("x".repeat(64 * 1024))
                    });
                    crate::stream::stream_outcome(chunks)
                }))),
                // One chunk within the limit, one over it.
                "big_chunk" => Ok(Invocation::Async(Box::pin(async move {
                    let chunks = ["small".to_owned(), "x".repeat(8192)].map(Ok::<_, ToolError>);
                    crate::stream::stream_outcome(tokio_stream::iter(chunks))
                }))),
                other => Err(ToolError::value_error(format!("no tool {other}"))),
            }
        }
    }

    struct Harness {
        _dir: tempfile::TempDir,
        lane: Lane,
        stop: StopSwitch,
        client: UnixStream,
    }

    async fn harness(max_frame: usize) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let stop = StopSwitch::new();
        let link = Arc::new(HostLink::standalone());
        let service = Arc::new(WorkerService {
            tools: Arc::new(Tools),
            link: link.clone(),
            heartbeats: Arc::new(Heartbeats::start(Default::default(), link, stop.clone())),
            worker_id: "lane-test".into(),
            stop: stop.clone(),
            telemetry: Arc::new(TelemetryHub::new()),
        });
        let lane = offer(dir.path(), 4242, service, max_frame, stop.clone()).unwrap();
        let client = UnixStream::connect(dir.path().join("4242.sock"))
            .await
            .unwrap();
        Harness {
            _dir: dir,
            lane,
            stop,
            client,
        }
    }

    fn execute(tool: &str, timeout: Option<i64>) -> Term {
        execute_as(tool, timeout, false)
    }

    fn execute_stream(tool: &str) -> Term {
        execute_as(tool, None, true)
    }

    fn execute_as(tool: &str, timeout: Option<i64>, stream: bool) -> Term {
        let empty = || {
            Term::from(Map {
                map: HashMap::new(),
            })
        };
        codec::tuple(vec![
            codec::atom("execute"),
            codec::binary(""),
            codec::binary(tool),
            empty(),
            empty(),
            empty(),
            codec::atom("nil"),
            timeout.map_or_else(|| codec::atom("infinity"), codec::int),
            codec::boolean(stream),
        ])
    }

    impl Harness {
        async fn send_bytes(&mut self, id: u64, term: &[u8]) {
            let length = u32::try_from(term.len() + CALL_ID_BYTES).unwrap();
            self.client.write_u32(length).await.unwrap();
            self.client.write_u64(id).await.unwrap();
            self.client.write_all(term).await.unwrap();
        }

        async fn send(&mut self, id: u64, term: Term) {
            let mut bytes = Vec::new();
            term.encode(&mut bytes).unwrap();
            self.send_bytes(id, &bytes).await;
        }

        /// The next frame: its call id and its term, printed.
        async fn receive(&mut self) -> (u64, String) {
            let next = async {
                let length = self.client.read_u32().await.unwrap() as usize;
                let id = self.client.read_u64().await.unwrap();
                let mut term = vec![0; length - CALL_ID_BYTES];
                self.client.read_exact(&mut term).await.unwrap();
                (id, Term::decode(&term[..]).unwrap().to_string())
            };
            tokio::time::timeout(Duration::from_secs(10), next)
                .await
                .expect("the lane answers within 10 s")
        }

        /// The next frame's call id, its term left unread.
        async fn receive_id(&mut self) -> u64 {
            let next = async {
                let length = self.client.read_u32().await.unwrap() as usize;
                let id = self.client.read_u64().await.unwrap();
                let mut term = vec![0; length - CALL_ID_BYTES];
                self.client.read_exact(&mut term).await.unwrap();
                id
            };
            tokio::time::timeout(Duration::from_secs(10), next)
                .await
                .expect("the lane answers within 10 s")
        }

        async fn idle(&self) {
            let idle = async {
                while self.lane.in_flight.count.load(Ordering::Acquire) != 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(10), idle)
                .await
                .expect("no lane call left in flight");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_calls_and_every_failure_of_one_call_is_that_calls_answer() {
        let mut lane = harness(1024 * 1024).await;
        lane.send(0, codec::tuple(vec![codec::atom("hello"), codec::int(1)]))
            .await;
        assert_eq!(lane.receive().await, (0, "{'hello',1,4242}".to_owned()));

        lane.send(1, execute("echo", Some(5_000))).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 1);
        assert!(answer.starts_with("{'response','true',{<<"), "{answer}");
        assert!(
            answer.contains(",<<34,104,105,34>>},<<>>,<<>>,"),
            "{answer}"
        );

        // A panic outside the tool's own polling answers the caller; the worker goes on.
        lane.send(2, execute("panics", None)).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 2);
        assert!(answer.starts_with("{'status',13,"), "{answer}");
        let text: String = answer
            .split(['<', '>', ',', '}'])
            .filter_map(|byte| byte.parse::<u8>().ok())
            .map(char::from)
            .collect();
        assert!(
            text.contains("the worker panicked while it ran tool `panics`: invoke blew up"),
            "{text}"
        );

        // The caller's deadline, as tonic's server enforces it.
        lane.send(3, execute("slow", Some(50))).await;
        assert_eq!(
            lane.receive().await,
            (
                3,
                "{'status',1,<<84,105,109,101,111,117,116,32,101,120,112,105,114,101,100>>}"
                    .to_owned()
            )
        );

        // Not a term; over the limit: that call's answer, and the connection reads on.
        lane.send_bytes(4, b"not a term").await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 4);
        assert!(answer.starts_with("{'status',3,"), "{answer}");
        lane.send_bytes(5, &vec![0; 1024 * 1024 + 1]).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 5);
        assert!(answer.starts_with("{'status',11,"), "{answer}");
        lane.send(6, execute("echo", None)).await;
        assert_eq!(lane.receive().await.0, 6);
        lane.idle().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_call_ends_a_reused_id_is_refused_and_a_stopping_worker_takes_no_calls() {
        let mut lane = harness(1024 * 1024).await;
        lane.send(7, execute("slow", None)).await;
        lane.send(7, execute("echo", None)).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 7);
        assert!(answer.starts_with("{'status',3,"), "{answer}");

        lane.send(7, codec::tuple(vec![codec::atom("cancel")]))
            .await;
        lane.idle().await;
        lane.send(8, execute("echo", None)).await;
        assert_eq!(
            lane.receive().await.0,
            8,
            "the cancelled call answers nothing"
        );

        lane.stop.stop(StopReason::Requested);
        lane.send(9, execute("echo", None)).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 9);
        assert!(answer.starts_with("{'status',14,"), "{answer}");
        lane.lane.drain(Duration::from_secs(5)).await;
    }

    /// The data of a chunk frame's term as printed: `{'chunk',<<id>>,<<data>>,...}`.
    fn chunk_data(answer: &str) -> String {
        assert!(answer.starts_with("{'chunk',<<"), "{answer}");
        let after_id = &answer[answer.find(">>,<<").unwrap() + ">>,<<".len()..];
        let bytes = &after_id[..after_id.find(">>").unwrap()];
        bytes
            .split(',')
            .filter(|byte| !byte.is_empty())
            .map(|byte| char::from(byte.parse::<u8>().unwrap()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streams_chunks_in_order_then_the_end_and_a_cancel_stops_a_stream_between_chunks() {
        let mut lane = harness(1024 * 1024).await;
        lane.send(1, execute_stream("count")).await;
        for expected in ["1", "2", "3"] {
            let (id, answer) = lane.receive().await;
            assert_eq!((id, chunk_data(&answer)), (1, expected.to_owned()));
        }
        let (id, last) = lane.receive().await;
        assert_eq!((id, chunk_data(&last)), (1, String::new()));
        assert!(
            last.contains(",'true',"),
            "the service's final chunk: {last}"
        );
        assert_eq!(lane.receive().await, (1, "{'end'}".to_owned()));

        lane.send(2, execute_stream("count_forever")).await;
        for expected in ["1", "2", "3"] {
            assert_eq!(chunk_data(&lane.receive().await.1), expected);
        }
        lane.send(2, codec::tuple(vec![codec::atom("cancel")]))
            .await;
        lane.idle().await;
        lane.send(3, execute("echo", None)).await;
        assert_eq!(
            lane.receive().await.0,
            3,
            "the cancelled stream sends no end"
        );
        lane.idle().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_waits_while_the_beam_does_not_read() {
        let mut lane = harness(1024 * 1024).await;
        lane.send(1, execute_stream("flood")).await;
        assert_eq!(lane.receive_id().await, 1);
        // Unread, the chunks stop at the service's backlog (as on gRPC) and what the socket
        // holds (a few of 64 KiB), however long the BEAM takes; without the wait they would
        // pile up in the worker's memory.
        let bound = crate::service::CHUNK_BACKLOG + 12;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let made = FLOODED.load(Ordering::SeqCst);
            assert!(made <= bound, "{made} chunks made while none was read");
        }
        for _ in 0..bound + 20 {
            assert_eq!(lane.receive_id().await, 1);
        }
        assert!(
            FLOODED.load(Ordering::SeqCst) > bound + 20,
            "reading lets the stream go on"
        );
        // As the BEAM does after a cancel: the next call's reader skips what is left of it.
        lane.send(1, codec::tuple(vec![codec::atom("cancel")]))
            .await;
        lane.send(2, execute("echo", None)).await;
        while lane.receive_id().await != 2 {}
        lane.idle().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_or_a_chunk_over_the_limit_is_refused_as_tonic_refuses_it() {
        let mut lane = harness(4096).await;
        lane.send(1, execute("big", None)).await;
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 1);
        assert!(answer.starts_with("{'status',11,"), "{answer}");

        lane.send(2, execute_stream("big_chunk")).await;
        assert_eq!(chunk_data(&lane.receive().await.1), "\"small\"");
        let (id, answer) = lane.receive().await;
        assert_eq!(id, 2);
        assert!(
            answer.starts_with("{'status',11,"),
            "the stream ends with the status: {answer}"
        );
        lane.send(3, execute("echo", None)).await;
        assert_eq!(lane.receive().await.0, 3, "the connection reads on");
        lane.idle().await;
    }

    #[test]
    fn binds_only_in_a_private_directory_and_replaces_a_stale_socket() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = LaneSocket::bind(dir.path(), 4000).err().unwrap();
        assert!(
            error.contains("has mode 755; only its owner may enter it (0700)"),
            "{error}"
        );

        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let first = LaneSocket::bind(dir.path(), 4000).unwrap();
        assert_eq!(first.path(), dir.path().join("4000.sock"));
        // A killed worker leaves its socket file behind: the next one on the port replaces it,
        // and the first one's end (a worker told to stop late) leaves the second's file alone.
        let second = LaneSocket::bind(dir.path(), 4000).unwrap();
        drop(first);
        assert!(
            second.path().exists(),
            "a later worker's socket is not removed"
        );
        drop(second);
        assert!(
            !dir.path().join("4000.sock").exists(),
            "removed when the worker stops"
        );

        std::fs::write(dir.path().join("4001.sock"), b"not a socket").unwrap();
        let error = LaneSocket::bind(dir.path(), 4001).err().unwrap();
        assert!(error.contains("is not a socket; remove it"), "{error}");

        let error = LaneSocket::bind(&dir.path().join("missing"), 1)
            .err()
            .unwrap();
        assert!(error.contains("cannot be read"), "{error}");
    }
}
