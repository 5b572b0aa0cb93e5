//! The lane's server: a Unix socket in the BEAM's lane directory, whose calls run through the
//! worker's own `BridgeService` methods (span, deadline, telemetry, error JSON: all as on
//! gRPC).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snakepit_bridge_runtime::proto::bridge_service_server::BridgeService;
use snakepit_bridge_spec::lane::{lane_socket_name, CALL_ID_BYTES, HELLO_CALL_ID, LANE_VERSION};
use snakepit_bridge_spec::{encode_grpc_timeout, parse_grpc_timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_stream::StreamExt;
use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

use super::codec::{self, Inbound, LaneCall};
use crate::heartbeat::StopSwitch;
use crate::service::WorkerService;
use crate::toolset::ToolSet;

/// Frames waiting to be written on one connection before the calls producing them wait.
const OUTBOUND_BACKLOG: usize = 256;

/// The lane's socket, removed when the worker stops.
pub(crate) struct LaneSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for LaneSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
        Ok(LaneSocket { listener, path })
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

/// The lane while the worker offers it: its socket file goes when this is dropped.
pub(crate) struct Lane {
    path: PathBuf,
    accepting: AbortHandle,
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.accepting.abort();
        let _ = std::fs::remove_file(&self.path);
    }
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
            let path = socket.path().to_owned();
            let accepting = tokio::spawn(serve(socket, service, port, max_frame, stop));
            Some(Lane {
                path,
                accepting: accepting.abort_handle(),
            })
        }
        Err(reason) => {
            tracing::warn!(%reason, "the worker does not offer the Unix-socket lane; its calls come over gRPC");
            None
        }
    }
}

/// Serves the lane until the worker stops: one task per connection, one per call.
async fn serve<T: ToolSet>(
    socket: LaneSocket,
    service: Arc<WorkerService<T>>,
    port: u16,
    max_frame: usize,
    stop: StopSwitch,
) {
    loop {
        let accepted = tokio::select! {
            accepted = socket.listener.accept() => accepted,
            _ = stop.stopped() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, service.clone(), port, max_frame));
            }
            Err(error) => {
                tracing::warn!(%error, "the lane could not accept a connection");
                // Out of file descriptors, say: wait rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The calls under way on one connection, to cancel one or all of them.
#[derive(Default)]
struct Calls(Mutex<HashMap<u64, AbortHandle>>);

impl Calls {
    fn insert(&self, id: u64, handle: AbortHandle) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, handle);
    }

    fn remove(&self, id: u64) -> Option<AbortHandle> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id)
    }

    fn abort_all(&self) {
        for (_, handle) in self.0.lock().unwrap_or_else(|e| e.into_inner()).drain() {
            handle.abort();
        }
    }
}

async fn serve_connection<T: ToolSet>(
    stream: UnixStream,
    service: Arc<WorkerService<T>>,
    port: u16,
    max_frame: usize,
) {
    let (reader, writer) = stream.into_split();
    let (outbound, frames) = mpsc::channel(OUTBOUND_BACKLOG);
    let writing = tokio::spawn(write_frames(writer, frames));
    let calls = Arc::new(Calls::default());
    if let Err(error) = read_frames(reader, &service, &calls, &outbound, port, max_frame).await {
        tracing::debug!(%error, "lane connection closed");
    }
    // The BEAM's side is gone: its calls are dropped, as a gRPC connection's would be.
    calls.abort_all();
    drop(outbound);
    let _ = writing.await;
}

async fn read_frames<T: ToolSet>(
    mut reader: OwnedReadHalf,
    service: &Arc<WorkerService<T>>,
    calls: &Arc<Calls>,
    outbound: &mpsc::Sender<Vec<u8>>,
    port: u16,
    max_frame: usize,
) -> std::io::Result<()> {
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
            let _ = outbound.send(codec::status_frame(call_id, &status)).await;
            continue;
        }
        let mut term = vec![0; term_length];
        reader.read_exact(&mut term).await?;
        match codec::read_inbound(&term) {
            Ok(Inbound::Hello { version }) if call_id == HELLO_CALL_ID => {
                let answer = codec::hello_frame(call_id, LANE_VERSION.min(version), port);
                let _ = outbound.send(answer).await;
            }
            Ok(Inbound::Hello { .. }) => {
                let status = Status::invalid_argument(format!(
                    "a hello has call id {HELLO_CALL_ID}, not {call_id}"
                ));
                let _ = outbound.send(codec::status_frame(call_id, &status)).await;
            }
            Ok(Inbound::Execute(call)) => start_call(
                *call,
                call_id,
                service.clone(),
                calls.clone(),
                outbound.clone(),
            ),
            Ok(Inbound::Cancel) => {
                if let Some(handle) = calls.remove(call_id) {
                    handle.abort();
                }
            }
            Err(reason) => {
                let status = Status::invalid_argument(format!(
                    "the lane frame of call {call_id} was refused: {reason}"
                ));
                let _ = outbound.send(codec::status_frame(call_id, &status)).await;
            }
        }
    }
}

/// Writes frames as they come, flushing once no more are waiting.
async fn write_frames(writer: OwnedWriteHalf, mut frames: mpsc::Receiver<Vec<u8>>) {
    let mut writer = BufWriter::with_capacity(64 * 1024, writer);
    while let Some(frame) = frames.recv().await {
        if writer.write_all(&frame).await.is_err() {
            return;
        }
        while let Ok(frame) = frames.try_recv() {
            if writer.write_all(&frame).await.is_err() {
                return;
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
}

fn start_call<T: ToolSet>(
    call: LaneCall,
    call_id: u64,
    service: Arc<WorkerService<T>>,
    calls: Arc<Calls>,
    outbound: mpsc::Sender<Vec<u8>>,
) {
    let finished = calls.clone();
    let task = tokio::spawn(async move {
        let stream = call.request.stream;
        // The limit tonic's server would enforce: the timeout as `grpc-timeout` spells it
        // (whole seconds from 1 s up, as snakepit's client writes it).
        let timeout = call
            .timeout
            .and_then(|timeout| parse_grpc_timeout(&encode_grpc_timeout(timeout)));
        let request = grpc_request(call);
        if stream {
            run_stream(&*service, request, timeout, call_id, &outbound).await;
        } else {
            let frame = match run_unary(&*service, request, timeout).await {
                Ok(response) => codec::response_frame(call_id, response),
                Err(status) => codec::status_frame(call_id, &status),
            };
            let _ = outbound.send(frame).await;
        }
        finished.remove(call_id);
    });
    calls.insert(call_id, task.abort_handle());
    if task.is_finished() {
        calls.remove(call_id);
    }
}

/// The request as tonic would have handed it to the service: the caller's timeout as
/// `grpc-timeout`, the correlation id as snakepit's header.
fn grpc_request(call: LaneCall) -> Request<snakepit_bridge_runtime::proto::ExecuteToolRequest> {
    let mut request = Request::new(call.request);
    let metadata = request.metadata_mut();
    if let Some(timeout) = call.timeout {
        if let Ok(value) = MetadataValue::try_from(encode_grpc_timeout(timeout)) {
            metadata.insert("grpc-timeout", value);
        }
    }
    if let Some(id) = call.correlation_id {
        if let Ok(value) = MetadataValue::try_from(id) {
            metadata.insert("x-snakepit-correlation-id", value);
        }
    }
    request
}

/// A unary call, with the deadline tonic's server enforces on it.
async fn run_unary<T: ToolSet>(
    service: &WorkerService<T>,
    request: Request<snakepit_bridge_runtime::proto::ExecuteToolRequest>,
    timeout: Option<Duration>,
) -> Result<snakepit_bridge_runtime::proto::ExecuteToolResponse, Status> {
    let call = service.execute_tool(request);
    let answer = match timeout {
        Some(limit) => tokio::time::timeout(limit, call)
            .await
            .unwrap_or_else(|_| Err(Status::cancelled("Timeout expired"))),
        None => call.await,
    };
    answer.map(tonic::Response::into_inner)
}

/// A streaming call: its chunks, then `{:end}` or the status that ended it.
async fn run_stream<T: ToolSet>(
    service: &WorkerService<T>,
    request: Request<snakepit_bridge_runtime::proto::ExecuteToolRequest>,
    timeout: Option<Duration>,
    call_id: u64,
    outbound: &mpsc::Sender<Vec<u8>>,
) {
    // tonic enforces the deadline until the answer starts; the service the rest.
    let started = service.execute_streaming_tool(request);
    let started = match timeout {
        Some(limit) => tokio::time::timeout(limit, started)
            .await
            .unwrap_or_else(|_| Err(Status::cancelled("Timeout expired"))),
        None => started.await,
    };
    let mut chunks = match started {
        Ok(response) => response.into_inner(),
        Err(status) => {
            let _ = outbound.send(codec::status_frame(call_id, &status)).await;
            return;
        }
    };
    while let Some(item) = chunks.next().await {
        let frame = match item {
            Ok(chunk) => codec::chunk_frame(call_id, chunk),
            Err(status) => {
                let _ = outbound.send(codec::status_frame(call_id, &status)).await;
                return;
            }
        };
        if outbound.send(frame).await.is_err() {
            // The connection is gone: dropping the stream stops the tool, as on gRPC.
            return;
        }
    }
    let _ = outbound.send(codec::end_frame(call_id)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
        // A killed worker leaves its socket file behind: the next one on the port replaces it.
        std::mem::forget(first);
        let second = LaneSocket::bind(dir.path(), 4000).unwrap();
        assert!(second.path().exists());
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
