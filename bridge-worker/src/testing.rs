//! Unit tests of tools without a network: what a test attaches to a [`ToolCall`] (a fake
//! Elixir, a host, a deadline), and JSON views of an [`Answer`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use snakepit_bridge_runtime::{SessionContext, ToolCaller};
use snakepit_bridge_spec::decode_exact;
use tokio_stream::StreamExt;

use crate::host_link::HostLink;
use crate::{Answer, ToolCall, ToolError};

impl ToolCall {
    /// Calls back into Elixir go to `caller` (any [`ToolCaller`]: a fake that answers as the
    /// Elixir tools would), so a tool that calls Elixir is unit-tested without a host.
    pub fn with_caller(mut self, caller: impl ToolCaller + 'static) -> Self {
        self.context_mut().set_caller(caller);
        self
    }

    /// Calls back into Elixir go to the host `ctx` is connected to (an embedded host, say), in
    /// `ctx`'s session, unless [`with_session`](Self::with_session) chose another.
    pub fn with_host(mut self, ctx: SessionContext) -> Self {
        if !self.session_chosen {
            self.context_mut()
                .set_session_id(ctx.session_id().to_owned());
        }
        self.context_mut()
            .set_link(Arc::new(HostLink::from_context(ctx)));
        self
    }

    /// The call must finish within `limit`, as if its caller had sent that `grpc-timeout`;
    /// calls back into Elixir are bounded by it.
    pub fn with_deadline(mut self, limit: Duration) -> Self {
        self.context_mut()
            .set_deadline(Some(tokio::time::Instant::now() + limit));
        self
    }

    /// The call's correlation id.
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.context_mut().set_correlation_id(Some(id.into()));
        self
    }

    /// The call's session (`"test-session"` unless set here or taken from
    /// [`with_host`](Self::with_host)'s context).
    pub fn with_session(mut self, id: impl Into<String>) -> Self {
        self.session_chosen = true;
        self.context_mut().set_session_id(id.into());
        self
    }
}

impl Answer {
    /// A unary answer's result as JSON (`{}` for a binary result without info); an error for
    /// a stream or a result that is not JSON.
    pub fn json(&self) -> Result<Value, ToolError> {
        match self {
            // The one exact rule: a wide integer is an error here, never a rounded float.
            Answer::Unary(output) => decode_exact(&output.json).map_err(|error| {
                ToolError::runtime_error(format!(
                    "the tool's result is not JSON a `Value` holds exactly: {error}"
                ))
            }),
            Answer::Stream(_) => Err(ToolError::runtime_error(
                "the tool answered a stream; read it with `chunks_json`",
            )),
        }
    }

    /// Every chunk of a streaming answer, each as JSON (a unary answer is one chunk), as the
    /// worker would send them; the first failed chunk, or one that is not JSON, is the error.
    pub async fn chunks_json(self) -> Result<Vec<Value>, ToolError> {
        match self {
            Answer::Unary(_) => Ok(vec![self.json()?]),
            Answer::Stream(mut chunks) => {
                let mut values = Vec::new();
                while let Some(chunk) = chunks.next().await {
                    let chunk = chunk?;
                    values.push(decode_exact(&chunk.data).map_err(|error| {
                        ToolError::runtime_error(format!(
                            "chunk {} is not JSON a `Value` holds exactly: {error}",
                            values.len() + 1
                        ))
                    })?);
                }
                Ok(values)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnaryAnswer;

    fn answer(json: &str) -> Answer {
        Answer::Unary(UnaryAnswer {
            json: json.as_bytes().to_vec(),
            ..UnaryAnswer::default()
        })
    }

    #[test]
    fn a_json_view_never_rounds_a_wide_integer() {
        let error = answer(r#"{"x": 1180591620717411303424}"#)
            .json()
            .unwrap_err();
        assert!(
            error.message().contains("1180591620717411303424"),
            "{}",
            error.message()
        );
        assert_eq!(
            answer(r#"{"x": 18446744073709551615}"#).json().unwrap()["x"],
            u64::MAX
        );
    }
}
