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
//! It registers the tools the Python showcase registers (`showcase_adapter.py`'s `@tool`
//! methods and the legacy `execute_tool`), and also registers the tools Python answers by name
//! only (`ping`, `error_demo`, `telemetry_demo`, from `handlers/basic_ops.py`), plus
//! `elixir_fibonacci`, which shows the typed way to call back: the `DemoTools` trait on the
//! tool's context. Started with `--verify-elixir-tools`, it checks the host's Elixir tools
//! against that trait before it serves, and refuses to start when they differ.
//!
//! Deliberate divergences from the Python reference on snakepit v0.13, each fixing a tool that
//! fails there while keeping its parameters and the result shape its handler intends:
//! `call_elixir_demo` works (it calls back into the host from inside the tool);
//! `process_binary` exists; `ml_analyze_text` and `concurrent_demo` answer (Python fails both
//! with a `KeyError`: their handlers `analyze_text` and `concurrent_demo` do not exist);
//! `get_stats` needs no psutil and reports this process's CPU (see `showcase/system_stats.rs`).
//! `execute_tool` is registered as Python registers it, and a call of it by name says which tool
//! to call instead (Python fails such a call with a `TypeError`).

#[path = "support/demo_tools.rs"]
mod demo_tools;
#[path = "showcase/system_stats.rs"]
mod system_stats;
#[path = "showcase/telemetry.rs"]
mod telemetry;
#[path = "showcase/text_analysis.rs"]
mod text_analysis;

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use snakepit_bridge::worker::{
    BinaryResult, Measurement, Stream, StreamChunk, ToolContext, ToolError, Worker,
};
use snakepit_bridge::worker_tools;

use demo_tools::DemoTools;
use system_stats::CpuMeter;
use telemetry::Span;

/// The answer of `ping` (its JSON Schema goes into the worker's manifest).
#[derive(Serialize, snakepit_bridge::schemars::JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub(crate) struct Pong {
    message: String,
    /// Unix time in seconds, as decimal text.
    timestamp: String,
}

/// The showcase tools.
///
/// Tools that only compute a little are `async fn`: they run right in the call's task. A plain
/// `fn` tool runs on a blocking thread (a hand-off of some tens of microseconds), which is what
/// a tool that blocks or computes for long wants: here `process_binary`, which hashes its input.
pub(crate) struct ShowcaseAdapter {
    /// `get_stats`'s CPU percent since its previous call.
    cpu: CpuMeter,
}

impl ShowcaseAdapter {
    pub(crate) fn new() -> ShowcaseAdapter {
        ShowcaseAdapter {
            cpu: CpuMeter::new(),
        }
    }
}

const TEXT_OPERATIONS: [&str; 4] = ["upper", "lower", "reverse", "length"];

/// The most tasks one `concurrent_demo` call runs.
const MAX_CONCURRENT_TASKS: u32 = 100;

/// The work of one `concurrent_demo` task: iterations per task number.
const ITERATIONS_PER_TASK: u64 = 10_000;

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
        // A tool the session's cached list lacks is looked up once more on the host first, so
        // one registered after an earlier call is found.
        let result = match elixir
            .call_elixir_tool(&tool_name, Value::Object(kwargs))
            .await
        {
            Err(snakepit_bridge::Error::ToolNotFound { available, .. }) => {
                return Ok(json!({
                    "error": format!("Elixir tool {tool_name} not found"),
                    "available_tools": available,
                    "hint": "Make sure the tool is registered in Elixir with exposed_to_python: true",
                }));
            }
            other => other?,
        };
        Ok(json!({
            "tool": tool_name,
            "result": result,
            "source": "elixir",
            "message": format!("Successfully called Elixir tool: {tool_name}"),
        }))
    }

    /// Get basic statistics and system information.
    pub async fn get_stats(&self, ctx: &ToolContext) -> Result<Value, ToolError> {
        use snakepit_bridge::worker::ToolSet;
        let memory_usage_mb = system_stats::resident_bytes()
            .map(|bytes| system_stats::round_to(bytes as f64 / 1024.0 / 1024.0, 2));
        Ok(json!({
            "adapter": {
                "name": "ShowcaseAdapter",
                "version": env!("CARGO_PKG_VERSION"),
                "registered_tools": Self::tool_definitions().len(),
                "session_id": ctx.session_id(),
            },
            "system": {
                "timestamp": unix_time(),
                "pid": std::process::id(),
                "memory_usage_mb": memory_usage_mb,
                "cpu_percent": self.cpu.percent_since_last(),
            },
            "success": true,
        }))
    }

    /// Perform text analysis: counts, the most frequent words and a lexicon-based sentiment.
    pub async fn ml_analyze_text(&self, text: String) -> Result<Value, ToolError> {
        Ok(text_analysis::analyze(&text))
    }

    /// Execute `task_count` CPU-bound tasks concurrently, each on a thread of its own.
    pub async fn concurrent_demo(
        &self,
        #[param(default = 3)] task_count: u32,
    ) -> Result<Value, ToolError> {
        if task_count > MAX_CONCURRENT_TASKS {
            return Err(ToolError::value_error(format!(
                "tool `concurrent_demo`: task_count must be at most {MAX_CONCURRENT_TASKS}, \
                 got {task_count}"
            )));
        }
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for number in 1..=task_count {
            tasks.spawn_blocking(move || cpu_bound_task(number));
        }
        let mut results = Vec::with_capacity(task_count as usize);
        while let Some(joined) = tasks.join_next().await {
            results.push(joined.map_err(|error| {
                ToolError::runtime_error(format!("tool `concurrent_demo`: a task failed: {error}"))
            })?);
        }
        results.sort_by_key(|(number, _)| *number);
        Ok(json!({
            "task_count": task_count,
            "results": results.into_iter().map(|(_, result)| result).collect::<Vec<_>>(),
            "total_duration_ms": milliseconds(started.elapsed()),
            "success": true,
        }))
    }

    /// Emit telemetry events around a simulated operation of `delay_ms` milliseconds.
    ///
    /// The events (as Python's: a `tool.execution.start`, then a span around the work with a
    /// `tool.result_size` inside) go to Elixir `:telemetry` handlers when the host has the
    /// worker's telemetry stream open and on; `telemetry_enabled` says whether it was.
    pub async fn telemetry_demo(
        &self,
        ctx: &ToolContext,
        #[param(default = "compute")] operation: String,
        #[param(default = 100)] delay_ms: u64,
    ) -> Result<Value, ToolError> {
        let telemetry = ctx.telemetry();
        let tool_and_operation = vec![
            ("tool", "telemetry_demo".to_owned()),
            ("operation", operation.clone()),
        ];
        // Example 1 of the Python showcase: an event emitted by hand.
        telemetry.emit_with(
            "tool.execution.start",
            [("system_time", Measurement::system_time())],
            tool_and_operation.clone(),
        )?;
        // Example 2: a span around the work, with an event of its own inside.
        let span = Span::start(&telemetry, "tool.execution", tool_and_operation)?;
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        telemetry.emit_with(
            "tool.result_size",
            [("bytes", 42)],
            [("tool", "telemetry_demo")],
        )?;
        span.stop()?;

        let enabled = telemetry.is_active();
        let message = if enabled {
            "Telemetry events emitted successfully! Check Elixir :telemetry handlers."
        } else {
            "Telemetry is off: the host has no telemetry stream open to this worker, or turned \
             it off; no events were sent."
        };
        Ok(json!({
            "operation": operation,
            "delay_ms": delay_ms,
            "telemetry_enabled": enabled,
            "correlation_id": ctx.correlation_id(),
            // The caller's deadline as the tool sees it (`grpc-timeout`): what is left of it.
            "deadline_remaining_ms": ctx.remaining().map(|left| left.as_millis() as u64),
            "message": message,
        }))
    }

    /// Legacy tool execution method (registered as snakepit's Python adapters register it).
    ///
    /// A call of it by name fails, saying to call `tool_name` by name instead: the worker
    /// dispatches every tool by name itself.
    pub async fn execute_tool(
        &self,
        tool_name: String,
        arguments: Option<Map<String, Value>>,
        context: Option<Value>,
    ) -> Result<Value, ToolError> {
        let _ = (arguments, context);
        Err(ToolError::new(
            "NotImplementedError",
            format!(
                "tool `execute_tool`: the legacy entry point of snakepit's Python adapters is not \
                 served by this worker; call the tool `{tool_name}` by name instead, with the \
                 arguments as its parameters (Snakepit.execute(\"{tool_name}\", arguments))"
            ),
        ))
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

/// One `concurrent_demo` task, as the Python showcase's `cpu_bound_task`
/// (`handlers/concurrent_ops.py`): the sum of `i²` over its iterations, modulo 1,000,000.
fn cpu_bound_task(number: u32) -> (u32, Value) {
    let started = Instant::now();
    let iterations = u64::from(number) * ITERATIONS_PER_TASK;
    let mut sum: u128 = 0;
    for i in 0..iterations {
        // Real work each time: not folded into a closed form by the optimizer.
        let i = u128::from(std::hint::black_box(i));
        sum += i * i;
    }
    let result = json!({
        "task_id": format!("task_{number}"),
        "iterations": iterations,
        "result": (sum % 1_000_000) as u64,
        "actual_duration_ms": milliseconds(started.elapsed()),
    });
    (number, result)
}

/// Milliseconds rounded to 0.01, as the Python showcase reports durations.
fn milliseconds(elapsed: Duration) -> f64 {
    system_stats::round_to(elapsed.as_secs_f64() * 1000.0, 2)
}

fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix time in seconds, as Python's `time.time()`.
fn unix_time() -> f64 {
    since_epoch().as_secs_f64()
}

/// Unix time in seconds as decimal text, as Python's `str(time.time())`.
fn unix_time_text() -> String {
    format!("{}", unix_time())
}

/// Given among the worker's arguments (a pool's `args:`), the worker refuses to start when the
/// host's Elixir tools for its start-up session differ from the `DemoTools` trait, listing each
/// difference (`StartContext::verify`).
const VERIFY_FLAG: &str = "--verify-elixir-tools";

fn main() -> ExitCode {
    let worker = Worker::new(ShowcaseAdapter::new());
    if std::env::args_os().any(|arg| arg == VERIFY_FLAG) {
        worker
            .on_start(
                |start| async move { start.verify::<demo_tools::DemoToolsDeclaration>().await },
            )
            .run()
    } else {
        worker.run()
    }
}
