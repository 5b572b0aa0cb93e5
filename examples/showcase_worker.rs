//! snakepit's reference worker (`grpc_server.py` with `ShowcaseAdapter`), in Rust: the same
//! tools with the same names, parameters and result shapes, so Elixir code written against the
//! Python showcase runs unchanged against it.
//!
//! ```text
//! cargo build --release --example showcase_worker
//! # a snakepit pool launches target/release/examples/showcase_worker (see elixir/README.md);
//! # without Elixir:
//! cargo run -p snakepit-bridge-cli -- worker --call ping -- target/release/examples/showcase_worker
//! ```
//!
//! Unlike the Python reference on snakepit v0.13, `call_elixir_demo` works (it calls back into
//! the host from inside the tool) and `process_binary` exists. `elixir_fibonacci` shows the
//! typed way to call back: the `DemoTools` trait on the tool's context.

#[path = "support/demo_tools.rs"]
mod demo_tools;

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use snakepit_bridge::worker::{BinaryResult, StreamChunk, ToolContext, ToolError, Worker};
use snakepit_bridge::worker_tools;
use tokio_stream::Stream;

use demo_tools::DemoTools;

/// The answer of `ping` (its JSON Schema goes into the worker's manifest).
#[derive(Serialize, snakepit_bridge::schemars::JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
struct Pong {
    message: String,
    /// Unix time in seconds, as decimal text.
    timestamp: String,
}

/// The showcase tools.
///
/// Tools that only compute a little are `async fn`: they run right in the call's task. A plain
/// `fn` tool runs on a blocking thread (a hand-off of some tens of microseconds), which is what
/// a tool that blocks or computes for long wants: here `process_binary`, which hashes its input.
struct ShowcaseAdapter;

const TEXT_OPERATIONS: [&str; 4] = ["upper", "lower", "reverse", "length"];

#[worker_tools]
impl ShowcaseAdapter {
    /// Echo back a message with a timestamp.
    pub async fn ping(
        &self,
        #[param(default = "pong")] message: String,
    ) -> Result<Pong, ToolError> {
        Ok(Pong {
            message,
            timestamp: unix_time_text(),
        })
    }

    /// Echo back every parameter received.
    pub async fn echo(
        &self,
        #[param(rest)] kwargs: Map<String, Value>,
    ) -> Result<Value, ToolError> {
        Ok(json!({ "echoed": kwargs }))
    }

    /// Echo back a message.
    pub async fn basic_echo(&self, message: String) -> Result<Value, ToolError> {
        Ok(json!({ "echoed": { "message": message } }))
    }

    /// Add two numbers.
    pub async fn basic_add(&self, a: f64, b: f64) -> Result<f64, ToolError> {
        Ok(a + b)
    }

    /// Always fail, with the error type asked for: `value`, `runtime`, or anything else.
    pub async fn error_demo(
        &self,
        #[param(default = "generic")] error_type: String,
    ) -> Result<Value, ToolError> {
        Err(match error_type.as_str() {
            "value" => ToolError::value_error("This is a demonstration ValueError"),
            "runtime" => ToolError::runtime_error("This is a demonstration RuntimeError"),
            _ => ToolError::new("Exception", "This is a generic exception"),
        })
    }

    /// Transform text: upper, lower, reverse or length.
    pub async fn process_text(
        &self,
        text: String,
        #[param(default = "upper", description = "upper, lower, reverse or length")]
        operation: String,
    ) -> Result<Value, ToolError> {
        let result = match operation.as_str() {
            "upper" => json!(text.to_uppercase()),
            "lower" => json!(text.to_lowercase()),
            "reverse" => json!(text.chars().rev().collect::<String>()),
            "length" => json!(text.chars().count()),
            _ => {
                return Ok(json!({
                    "original": text,
                    "operation": operation,
                    "error": format!("Unknown operation: {operation}"),
                    "available_operations": TEXT_OPERATIONS,
                    "success": false,
                }))
            }
        };
        Ok(json!({ "original": text, "operation": operation, "result": result, "success": true }))
    }

    /// Stream `count` chunks, `delay` seconds apart.
    pub async fn stream_data(
        &self,
        #[param(default = 5)] count: u32,
        #[param(default = 1.0)] delay: f64,
    ) -> Result<impl Stream<Item = Result<StreamChunk, ToolError>>, ToolError> {
        if !delay.is_finite() || delay < 0.0 {
            return Err(ToolError::value_error(format!(
                "tool `stream_data`: delay must be a number of seconds >= 0, got {delay}"
            )));
        }
        let pause = Duration::from_secs_f64(delay);
        Ok(async_stream(count, pause))
    }

    /// Describe this worker.
    pub async fn adapter_info(&self) -> Result<Value, ToolError> {
        use snakepit_bridge::worker::ToolSet;
        let handlers: Vec<String> = Self::tool_definitions()
            .into_iter()
            .map(|t| t.name)
            .collect();
        Ok(json!({
            "adapter_name": "ShowcaseAdapter",
            "version": env!("CARGO_PKG_VERSION"),
            "language": "rust",
            "capabilities": ["basic", "streaming", "binary", "elixir_callbacks"],
            "handlers": handlers,
        }))
    }

    /// Call the Elixir tool `tool_name` of this session with the other parameters.
    pub async fn call_elixir_demo(
        &self,
        ctx: &ToolContext,
        tool_name: String,
        #[param(rest)] kwargs: Map<String, Value>,
    ) -> Result<Value, ToolError> {
        let elixir = ctx.elixir()?;
        let tools = elixir.elixir_tools().await?;
        if !tools.contains_key(&tool_name) {
            return Ok(json!({
                "error": format!("Elixir tool {tool_name} not found"),
                "available_tools": tools.keys().collect::<Vec<_>>(),
                "hint": "Make sure the tool is registered in Elixir with exposed_to_python: true",
            }));
        }
        let result = elixir
            .call_elixir_tool(&tool_name, Value::Object(kwargs))
            .await?;
        Ok(json!({
            "tool": tool_name,
            "result": result,
            "source": "elixir",
            "message": format!("Successfully called Elixir tool: {tool_name}"),
        }))
    }

    /// The first `n` Fibonacci numbers, computed by the Elixir host (a typed call back).
    pub async fn elixir_fibonacci(&self, ctx: &ToolContext, n: u32) -> Result<Value, ToolError> {
        let fibonacci = ctx.calculate_fibonacci(n).await?;
        Ok(json!({ "n": fibonacci.n, "sequence": fibonacci.sequence, "sum": fibonacci.sum }))
    }

    /// Process the binary parameter `data`: `checksum` (SHA-256) or `reverse` (answered in
    /// `binary_result`).
    pub fn process_binary(
        &self,
        #[param(binary, description = "The bytes to process")] data: Vec<u8>,
        #[param(default = "checksum")] operation: String,
    ) -> Result<BinaryResult, ToolError> {
        match operation.as_str() {
            "checksum" => {
                let digest = Sha256::digest(&data);
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                Ok(BinaryResult::new(Vec::new()).with_info(json!({
                    "operation": "checksum",
                    "bytes": data.len(),
                    "sha256": hex,
                })))
            }
            "reverse" => {
                let bytes = data.len();
                let reversed: Vec<u8> = data.into_iter().rev().collect();
                Ok(BinaryResult::new(reversed)
                    .with_info(json!({ "operation": "reverse", "bytes": bytes })))
            }
            other => Err(ToolError::value_error(format!(
                "tool `process_binary`: unknown operation `{other}`; use `checksum` or `reverse`"
            ))),
        }
    }
}

/// Chunks `{"index", "total", "message"}` for 1..=count, the last marked final, `pause` apart.
fn async_stream(count: u32, pause: Duration) -> impl Stream<Item = Result<StreamChunk, ToolError>> {
    let (sender, chunks) = snakepit_bridge::worker::chunk_channel(16);
    tokio::spawn(async move {
        for index in 1..=count {
            let chunk = StreamChunk::json(&json!({
                "index": index,
                "total": count,
                "message": format!("Chunk {index}/{count}"),
            }))
            .map(|chunk| chunk.with_final(index == count));
            let sent = match chunk {
                Ok(chunk) => sender.send(chunk).await,
                Err(error) => sender.fail(error).await,
            };
            if sent.is_err() {
                return; // the caller went away
            }
            if index < count && !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    });
    chunks
}

/// Unix time in seconds as decimal text, as Python's `str(time.time())`.
fn unix_time_text() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}", now.as_secs_f64())
}

fn main() -> ExitCode {
    Worker::new(ShowcaseAdapter).run()
}
