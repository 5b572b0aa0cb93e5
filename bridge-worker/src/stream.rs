//! Streaming tools: a stream of chunks, each sent as one `ToolChunk`.

use std::collections::HashMap;
use std::pin::Pin;

use serde::Serialize;
use tokio_stream::{Stream, StreamExt};

use crate::output::{Answer, Outcome};
use crate::ToolError;

/// The chunks of a streaming tool, as the worker sends them.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<StreamChunk, ToolError>> + Send + 'static>>;

/// One chunk of a streaming tool's answer, when the tool wants to set more than its data.
///
/// A streaming tool yields `Result<T, E>` items where `T` is any `Serialize` value (sent as
/// JSON) or a `StreamChunk`. snakepit hands each chunk to the Elixir callback as a map (a JSON
/// object as is, any other value as `%{"data" => value}`), with `"is_final"` set. If no chunk is
/// marked final, the worker ends the stream with an empty final chunk, as snakepit's Python
/// worker does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamChunk {
    /// The chunk's bytes (JSON for the host to decode, or raw bytes).
    pub data: Vec<u8>,
    /// Whether this is the last chunk.
    pub is_final: bool,
    /// The chunk's metadata (handed to Elixir as `"_metadata"`).
    pub metadata: HashMap<String, String>,
}

impl StreamChunk {
    /// A chunk holding `value` as JSON; a NaN or infinite float in it is an error naming its
    /// path (`chunk.points[1]`), as for a result.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, ToolError> {
        Ok(StreamChunk {
            data: crate::output::answer_json(value, "a chunk", "chunk")?,
            ..Default::default()
        })
    }

    /// A chunk of raw bytes (the host hands non-JSON bytes to Elixir base64-encoded, as
    /// `"raw_data_base64"`).
    pub fn bytes(data: impl Into<Vec<u8>>) -> Self {
        StreamChunk {
            data: data.into(),
            ..Default::default()
        }
    }

    /// Marks the chunk as the last one (or not).
    pub fn with_final(mut self, is_final: bool) -> Self {
        self.is_final = is_final;
        self
    }

    /// Adds a metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// An item a streaming tool can yield: any `Serialize` value, or a [`StreamChunk`].
#[diagnostic::on_unimplemented(
    message = "a streaming tool cannot yield `{Self}`",
    note = "yield `Result<T, E>` items where `T: serde::Serialize` or `T` is `StreamChunk`"
)]
pub trait IntoChunk {
    /// The chunk.
    fn into_chunk(self) -> Result<StreamChunk, ToolError>;
}

impl<T: Serialize> IntoChunk for T {
    fn into_chunk(self) -> Result<StreamChunk, ToolError> {
        StreamChunk::json(&self)
    }
}

impl IntoChunk for StreamChunk {
    fn into_chunk(self) -> Result<StreamChunk, ToolError> {
        Ok(self)
    }
}

/// The answer of a streaming tool that returns a stream.
pub fn stream_outcome<S, T, E>(stream: S) -> Outcome
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: IntoChunk,
    E: Into<ToolError>,
{
    Ok(Answer::Stream(Box::pin(stream.map(|item| {
        item.map_err(Into::into).and_then(IntoChunk::into_chunk)
    }))))
}

/// The answer of a streaming tool that returns `Result<stream, E>`.
pub fn fallible_stream_outcome<S, T, E, F>(result: Result<S, F>) -> Outcome
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: IntoChunk,
    E: Into<ToolError>,
    F: Into<ToolError>,
{
    stream_outcome(result.map_err(Into::into)?)
}

/// A sender a tool writes chunks to, and the stream it returns; see [`chunk_channel`].
#[derive(Debug, Clone)]
pub struct ChunkSender(tokio::sync::mpsc::Sender<Result<StreamChunk, ToolError>>);

/// The chunks a [`ChunkSender`] writes, as a stream to return from a streaming tool.
pub type ChunkReceiver = tokio_stream::wrappers::ReceiverStream<Result<StreamChunk, ToolError>>;

/// A channel for streaming tools that write their chunks from a task of their own:
/// return the receiver, move the sender into the task. At most `capacity` chunks wait to be
/// sent; `send` waits beyond that, so a slow host slows the producer down.
///
/// ```
/// use snakepit_bridge::worker::{chunk_channel, ChunkReceiver, ToolError};
///
/// fn count_to(n: u32) -> ChunkReceiver {
///     let (sender, chunks) = chunk_channel(16);
///     tokio::spawn(async move {
///         for i in 1..=n {
///             if sender.send(serde_json::json!({"i": i})).await.is_err() {
///                 break; // the caller went away
///             }
///         }
///     });
///     chunks
/// }
/// ```
pub fn chunk_channel(capacity: usize) -> (ChunkSender, ChunkReceiver) {
    let (sender, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (
        ChunkSender(sender),
        tokio_stream::wrappers::ReceiverStream::new(receiver),
    )
}

/// The receiver of a [`ChunkSender`] is gone: the call ended or the caller went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stream's caller is gone")]
pub struct StreamClosed;

impl ChunkSender {
    /// Sends one chunk; waits while `capacity` chunks are pending.
    pub async fn send(&self, item: impl IntoChunk) -> Result<(), StreamClosed> {
        let chunk = item.into_chunk();
        self.0.send(chunk).await.map_err(|_| StreamClosed)
    }

    /// Fails the stream with `error`: chunks already sent stay sent.
    pub async fn fail(&self, error: impl Into<ToolError>) -> Result<(), StreamClosed> {
        self.0
            .send(Err(error.into()))
            .await
            .map_err(|_| StreamClosed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_become_chunks_and_errors_stay_errors() {
        let items: Vec<Result<serde_json::Value, ToolError>> = vec![
            Ok(serde_json::json!({"i": 1})),
            Err(ToolError::value_error("bad")),
        ];
        let Ok(Answer::Stream(mut stream)) = stream_outcome(tokio_stream::iter(items)) else {
            panic!("a stream")
        };
        assert_eq!(stream.next().await.unwrap().unwrap().data, br#"{"i":1}"#);
        assert_eq!(
            stream.next().await.unwrap().unwrap_err().type_name(),
            "ValueError"
        );
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_channel_streams_what_is_sent() {
        let (sender, chunks) = chunk_channel(2);
        tokio::spawn(async move {
            sender
                .send(StreamChunk::bytes(b"x".to_vec()).with_final(true))
                .await
                .unwrap();
        });
        let Ok(Answer::Stream(stream)) = stream_outcome(chunks) else {
            panic!("a stream")
        };
        let chunks: Vec<_> = stream.collect().await;
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].as_ref().unwrap().is_final);
    }
}
