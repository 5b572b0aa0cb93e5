//! Calls to a launched worker, encoded as the host encodes them and answered as the host decodes
//! them (`lib/snakepit/grpc/client_impl.ex` in snakepit v0.13.0).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};
use snakepit_bridge_runtime::{json_any, proto, CORRELATION_HEADER};
use snakepit_bridge_spec::CORRELATION_METADATA_KEY;
use tokio_stream::StreamExt;

use super::connect::with_deadline;
use super::decode::{chunk_payload, Reply, ToolFailure};
use super::error::{raw_status_error, status_error, CallError};
use super::options::{CallOptions, ChunkControl, DEFAULT_EXECUTE_TIMEOUT, DEFAULT_STREAM_TIMEOUT};
use super::spawn::correlation_id;
use super::worker::LaunchedWorker;

impl LaunchedWorker {
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
                let payload = chunk_payload(&chunk).map_err(|wide| CallError::WideInteger {
                    tool: tool.to_owned(),
                    wide,
                })?;
                match on_chunk(payload) {
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
                args.get(CORRELATION_METADATA_KEY)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(correlation_id);
        let parameters = args
            .into_iter()
            .filter(|(key, _)| key != CORRELATION_METADATA_KEY)
            .map(|(key, value)| (key, json_any(value.to_string().into_bytes())))
            .collect();
        let mut metadata =
            HashMap::from([(CORRELATION_METADATA_KEY.to_owned(), correlation.clone())]);
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
}
