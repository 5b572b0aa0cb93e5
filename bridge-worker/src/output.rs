//! What a tool answers: a JSON result, binary data, or a stream of chunks.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use snakepit_bridge_spec::{to_finite_json, FiniteJsonError};

use crate::stream::ChunkStream;
use crate::ToolError;

/// The outcome of one tool call: what an [`Invocation`] ends with.
pub type Outcome = Result<Answer, ToolError>;

/// A tool's answer: what a call's [`Outcome`] holds when it succeeds.
///
/// The names of a call's way back, from the tool to the wire: an [`Invocation`] (the call,
/// running) ends with an [`Outcome`], `Result<Answer, ToolError>`; an `Answer` is a
/// [`UnaryAnswer`] (JSON and binary result, made from a tool's value by [`IntoUnaryAnswer`]:
/// anything `Serialize`, or a [`BinaryResult`]) or a [`ChunkStream`] of
/// [`StreamChunk`](crate::StreamChunk)s (made by [`IntoChunk`](crate::IntoChunk)).
pub enum Answer {
    /// A unary answer.
    Unary(UnaryAnswer),
    /// A stream of chunks (a streaming tool).
    Stream(ChunkStream),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Unary(output) => f.debug_tuple("Unary").field(output).finish(),
            Answer::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

/// A unary answer as it goes on the wire: the result's JSON bytes and the binary result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnaryAnswer {
    /// The result as JSON text.
    pub json: Vec<u8>,
    /// `binary_result` (empty when none).
    pub binary: Bytes,
}

/// An answer in `binary_result`, with a JSON result describing it (`{}` by default), which
/// snakepit hands to Elixir as `{:binary, bytes}` (or `{:binary, bytes, info}` when the info is
/// not empty).
///
/// ```
/// use snakepit_bridge::worker::BinaryResult;
/// let answer = BinaryResult::new(vec![1, 2, 3]).with_info(serde_json::json!({"format": "raw"}));
/// assert_eq!(answer.data().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryResult {
    data: Bytes,
    info: Value,
}

impl BinaryResult {
    /// `data` as the binary result, with `{}` as the JSON result.
    pub fn new(data: impl Into<Bytes>) -> Self {
        BinaryResult {
            data: data.into(),
            info: Value::Object(Default::default()),
        }
    }

    /// Sets the JSON result that goes with the data.
    pub fn with_info(mut self, info: impl Into<Value>) -> Self {
        self.info = info.into();
        self
    }

    /// The data.
    pub fn data(&self) -> &Bytes {
        &self.data
    }
}

/// A value a tool can answer with: anything `Serialize` (sent as JSON), or a [`BinaryResult`].
#[diagnostic::on_unimplemented(
    message = "a tool cannot answer with `{Self}`",
    note = "a tool answers `Result<T, E>` where `T` implements `serde::Serialize` or is `BinaryResult`"
)]
pub trait IntoUnaryAnswer {
    /// The answer on the wire.
    fn into_unary_answer(self) -> Result<UnaryAnswer, ToolError>;
}

/// Written by the rule of every side of the wire
/// ([`to_finite_json`](snakepit_bridge_spec::to_finite_json)): a NaN or infinite float fails the
/// call with its path (serde_json would send `null`).
impl<T: Serialize> IntoUnaryAnswer for T {
    fn into_unary_answer(self) -> Result<UnaryAnswer, ToolError> {
        let json = answer_json(&self, "the result", "result")?;
        Ok(UnaryAnswer {
            json,
            binary: Bytes::new(),
        })
    }
}

impl IntoUnaryAnswer for BinaryResult {
    fn into_unary_answer(self) -> Result<UnaryAnswer, ToolError> {
        Ok(UnaryAnswer {
            json: self.info.to_string().into_bytes(),
            binary: self.data,
        })
    }
}

/// `value` as JSON for the host, or the failure of the call: `what` (`the result`, `a chunk`)
/// holds a non-finite float at a path below `root`, or cannot be written as JSON.
pub(crate) fn answer_json<T: Serialize + ?Sized>(
    value: &T,
    what: &str,
    root: &str,
) -> Result<Vec<u8>, ToolError> {
    to_finite_json(value).map_err(|error| {
        match error {
            FiniteJsonError::NonFinite(found) => {
                let what_float = found.describe();
                let article = if what_float.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                ToolError::value_error(format!(
                    "{what} holds {article} {what_float} float at `{}`, which JSON cannot carry \
                     (it would reach the host as null); answer a finite number, or an Option \
                     set to None",
                    found.path.under(root)
                ))
            }
            FiniteJsonError::Json(error) => {
                ToolError::runtime_error(format!("{what} cannot be written as JSON: {error}"))
            }
        }
        .outside_the_tool()
    })
}

/// What a unary tool method returns: `Result<T, E>` (or an alias of it), `T` an
/// [`IntoUnaryAnswer`] and `E` convertible into [`ToolError`].
#[diagnostic::on_unimplemented(
    message = "a tool method cannot return `{Self}`",
    note = "tool methods return `Result<T, E>` where `T: serde::Serialize` (or `BinaryResult`) and `E: Into<ToolError>`, since a call can fail"
)]
pub trait IntoOutcome {
    /// The call's outcome.
    fn into_outcome(self) -> Outcome;
}

impl<T: IntoUnaryAnswer, E: Into<ToolError>> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        self.map_err(Into::into)?
            .into_unary_answer()
            .map(Answer::Unary)
    }
}

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How a tool call runs: an `async fn` tool as a task, a plain `fn` tool on a blocking thread
/// (so that it never holds up heartbeats or other calls). [`ToolSet::invoke`](crate::ToolSet::invoke)
/// returns it, once the call's parameters are decoded; the worker runs it under the call's
/// deadline.
#[non_exhaustive]
pub enum Invocation {
    /// An `async fn` tool.
    Async(Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>),
    /// A plain `fn` tool.
    Blocking(Box<dyn FnOnce() -> Outcome + Send + 'static>),
}

impl Invocation {
    /// An `async fn` tool's call.
    pub fn future(future: impl Future<Output = Outcome> + Send + 'static) -> Self {
        Invocation::Async(Box::pin(future))
    }

    /// A plain `fn` tool's call.
    pub fn blocking(work: impl FnOnce() -> Outcome + Send + 'static) -> Self {
        Invocation::Blocking(Box::new(work))
    }
}

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Invocation::Async(_) => "Invocation::Async",
            Invocation::Blocking(_) => "Invocation::Blocking",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_json_and_binary_results() {
        let Ok(Answer::Unary(output)) =
            Ok::<_, ToolError>(serde_json::json!({"a": 1})).into_outcome()
        else {
            panic!("a value")
        };
        assert_eq!(output.json, br#"{"a":1}"#);
        assert!(output.binary.is_empty());

        let Ok(Answer::Unary(output)) =
            Ok::<_, ToolError>(BinaryResult::new(vec![9])).into_outcome()
        else {
            panic!("a value")
        };
        assert_eq!(output.json, b"{}");
        assert_eq!(&output.binary[..], &[9]);

        let error = Err::<u8, _>("boom").into_outcome().unwrap_err();
        assert_eq!(error.type_name(), "RuntimeError");
    }

    #[test]
    fn a_non_finite_result_fails_the_call_with_its_path() {
        let error = Ok::<_, ToolError>(vec![1.0, f64::NAN])
            .into_outcome()
            .unwrap_err();
        assert_eq!(error.type_name(), "ValueError");
        assert!(
            error
                .message()
                .starts_with("the result holds a NaN float at `result[1]`"),
            "{}",
            error.message()
        );
        // `None` is a real null, and passes.
        let Ok(Answer::Unary(output)) = Ok::<_, ToolError>(None::<f64>).into_outcome() else {
            panic!("a value")
        };
        assert_eq!(output.json, b"null");
    }
}
