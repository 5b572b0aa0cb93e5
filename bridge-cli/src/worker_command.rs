//! `snakepit-tools worker` and `snakepit-tools describe`: launch a worker as snakepit would,
//! with an embedded host that exposes the demo Elixir tools to the worker's session, then call,
//! stream or list its tools, or write its tool manifest.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use snakepit_bridge_spec::{read_error_json, HostTool, Manifest};
use snakepit_bridge_testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge_testkit::launcher::{
    CallError, CallOptions, ChunkControl, Decoded, LaunchedWorker, Launcher, Reply, ToolFailure,
};

/// What to do with the worker.
pub(crate) struct WorkerJob {
    pub(crate) command: Vec<String>,
    pub(crate) call: Option<String>,
    pub(crate) params: Option<String>,
    pub(crate) stream: bool,
    pub(crate) binary: Vec<String>,
    pub(crate) repeat: usize,
    pub(crate) list: bool,
    pub(crate) json: bool,
    pub(crate) out: Option<PathBuf>,
    pub(crate) timeout: Duration,
    pub(crate) ready_timeout: Duration,
    pub(crate) echo: bool,
}

/// The outcome: lines for stdout, lines for stderr, and the exit code.
pub(crate) struct Outcome {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: u8,
}

/// A tool that does not exist, called to make a lazily registering worker (snakepit's Python
/// worker registers its tools on its first call) register them.
const LIST_PROBE: &str = "__snakepit_tools_list_probe";

pub(crate) fn run(job: WorkerJob) -> Outcome {
    on_runtime(run_async(job))
}

/// What `snakepit-tools describe` does.
pub(crate) struct DescribeJob {
    pub(crate) command: Vec<String>,
    pub(crate) output: Option<PathBuf>,
    pub(crate) name: Option<String>,
    pub(crate) ready_timeout: Duration,
    pub(crate) echo: bool,
}

/// Runs `job` on a runtime of its own.
fn on_runtime(job: impl std::future::Future<Output = Outcome>) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return failure(2, format!("cannot start the runtime: {error}")),
    };
    let outcome = runtime.block_on(job);
    runtime.shutdown_timeout(Duration::from_secs(1));
    outcome
}

/// Writes the manifest of the tools the worker registers with the host.
pub(crate) fn describe(job: DescribeJob) -> Outcome {
    on_runtime(describe_async(job))
}

async fn describe_async(job: DescribeJob) -> Outcome {
    let (host, worker) = match launch(&job.command, job.ready_timeout, job.echo, "describe").await {
        Ok(launched) => launched,
        Err(outcome) => return outcome,
    };
    let tools = registered_tools(&host, &worker).await;
    let mut outcome = if tools.is_empty() {
        failure(
            2,
            format!(
                "the worker registered no tools with the host, even when called once (with the \
                 missing tool `{LIST_PROBE}`) as a worker that registers lazily needs; a worker \
                 that never calls RegisterTools cannot be described this way"
            ),
        )
    } else {
        let name = job
            .name
            .clone()
            .unwrap_or_else(|| worker_name(&job.command));
        let text = Manifest::for_worker(name, tools).to_json();
        match &job.output {
            None => Outcome {
                stdout: text,
                stderr: String::new(),
                code: 0,
            },
            Some(path) => match std::fs::write(path, text) {
                Ok(()) => Outcome {
                    stdout: String::new(),
                    stderr: String::new(),
                    code: 0,
                },
                Err(error) => failure(2, format!("cannot write {}: {error}", path.display())),
            },
        }
    };
    stop(worker, &mut outcome).await;
    outcome
}

/// The manifest's `worker`: the program's file name, or the script's when the program is a
/// Python interpreter (`python3 my_worker.py` is `my_worker`).
fn worker_name(command: &[String]) -> String {
    let stem = |path: &str| {
        Path::new(path)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_owned())
    };
    match command {
        [program, script, ..]
            if stem(program).starts_with("python") && !script.starts_with('-') =>
        {
            stem(script)
        }
        [program, ..] => stem(program),
        [] => String::new(),
    }
}

/// Starts the embedded host and launches the worker `command` against it.
async fn launch(
    command: &[String],
    ready_timeout: Duration,
    echo: bool,
    subcommand: &str,
) -> Result<(EmbeddedHost, LaunchedWorker), Outcome> {
    let Some((program, args)) = command.split_first() else {
        return Err(failure(2, format!("give the worker's command after `--`, e.g. `snakepit-tools {subcommand} -- ./my_worker`")));
    };
    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .map_err(|error| failure(2, format!("cannot start the embedded host: {error}")))?;
    let launcher = Launcher::new(program)
        .args(args.iter().cloned())
        .ready_timeout(ready_timeout)
        .echo_output(echo);
    let worker = launcher
        .launch(&host)
        .await
        .map_err(|error| failure(2, error.to_string()))?;
    Ok((host, worker))
}

/// Stops the worker; a worker that will not stop is an error.
async fn stop(worker: LaunchedWorker, outcome: &mut Outcome) {
    if let Err(error) = worker.shutdown().await {
        outcome.stderr.push_str(&format!("error: {error}\n"));
        outcome.code = outcome.code.max(2);
    }
}

async fn run_async(job: WorkerJob) -> Outcome {
    let params = match parse_params(job.params.as_deref()) {
        Ok(params) => params,
        Err(message) => return failure(2, message),
    };
    let binary_parameters = match read_binaries(&job.binary) {
        Ok(binaries) => binaries,
        Err(message) => return failure(2, message),
    };
    let (host, worker) = match launch(
        &job.command,
        job.ready_timeout,
        job.echo,
        "worker --call ping",
    )
    .await
    {
        Ok(launched) => launched,
        Err(outcome) => return outcome,
    };

    let mut outcome = Outcome {
        stdout: String::new(),
        stderr: String::new(),
        code: 0,
    };
    if job.list {
        let tools = registered_tools(&host, &worker).await;
        if job.json {
            outcome.stdout.push_str(&tools_json(&tools));
        } else {
            outcome.stdout.push_str(&describe_tools(&tools));
        }
    }
    if let Some(tool) = &job.call {
        let mut options = CallOptions::default().timeout(job.timeout);
        options.binary_parameters = binary_parameters;
        let out = job.out.as_deref();
        let result = if job.stream {
            stream(&worker, tool, &params, options, out, &mut outcome).await
        } else if job.repeat > 1 {
            repeat(
                &worker,
                tool,
                &params,
                options,
                job.repeat,
                out,
                &mut outcome,
            )
            .await
        } else {
            match worker
                .execute(tool, Value::Object(params.clone()), options)
                .await
            {
                Ok(reply) => print_reply(&reply, out, &mut outcome),
                Err(error) => Err(describe_call_error(&error) + &stream_hint(&host, &worker, tool)),
            }
        };
        if let Err(message) = result {
            outcome.stderr.push_str(&format!("error: {message}\n"));
            outcome.code = outcome.code.max(1);
        }
    } else if !job.list {
        outcome.stdout.push_str(&format!(
            "ready: pid {}, port {}, ready after {:?}, session {}\n",
            worker.pid(),
            worker.port(),
            worker.ready_after(),
            worker.session_id()
        ));
    }
    stop(worker, &mut outcome).await;
    outcome
}

/// Prints a call's result on stdout as JSON, or with `--out FILE` writes it to the file: a
/// binary result's bytes (any JSON result beside them still on stdout), a result that is not
/// JSON as its bytes, else the JSON.
fn print_reply(reply: &Reply, out: Option<&Path>, outcome: &mut Outcome) -> Result<(), String> {
    let Some(path) = out else {
        outcome.stdout.push_str(&format!("{}\n", reply.to_json()));
        return Ok(());
    };
    let (bytes, what, rest): (Vec<u8>, &str, Option<&Decoded>) = match reply {
        Reply::Binary(bytes) => (bytes.clone(), "the binary result", None),
        Reply::BinaryWith(bytes, decoded) => (bytes.clone(), "the binary result", Some(decoded)),
        Reply::Value(Decoded::Raw(bytes)) => (bytes.clone(), "the result (not JSON)", None),
        Reply::Value(decoded) => (
            format!("{}\n", decoded.to_json()).into_bytes(),
            "the JSON result",
            None,
        ),
        // Reply is non-exhaustive: anything new is written as JSON.
        other => (
            format!("{}\n", other.to_json()).into_bytes(),
            "the result",
            None,
        ),
    };
    write_out(path, &bytes, what, outcome)?;
    if let Some(decoded) = rest {
        outcome.stdout.push_str(&format!("{}\n", decoded.to_json()));
    }
    Ok(())
}

fn write_out(path: &Path, bytes: &[u8], what: &str, outcome: &mut Outcome) -> Result<(), String> {
    std::fs::write(path, bytes)
        .map_err(|error| format!("--out: cannot write {}: {error}", path.display()))?;
    outcome.stderr.push_str(&format!(
        "wrote {what} ({} bytes) to {}\n",
        bytes.len(),
        path.display()
    ));
    Ok(())
}

fn failure(code: u8, message: String) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("error: {message}\n"),
        code,
    }
}

fn parse_params(text: Option<&str>) -> Result<Map<String, Value>, String> {
    match text {
        None => Ok(Map::new()),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!(
                "--params must be a JSON object, one entry per parameter, not {other}"
            )),
            Err(error) => Err(format!("--params is not JSON: {error}")),
        },
    }
}

fn read_binaries(specs: &[String]) -> Result<std::collections::HashMap<String, Vec<u8>>, String> {
    specs
        .iter()
        .map(|spec| {
            let (name, path) = spec
                .split_once('=')
                .ok_or_else(|| format!("--binary {spec:?} is not NAME=FILE"))?;
            let bytes = std::fs::read(PathBuf::from(path))
                .map_err(|error| format!("--binary {name}: cannot read {path}: {error}"))?;
            Ok((name.to_owned(), bytes))
        })
        .collect()
}

async fn stream(
    worker: &LaunchedWorker,
    tool: &str,
    params: &Map<String, Value>,
    options: CallOptions,
    out: Option<&Path>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let mut lines = String::new();
    let result = worker
        .execute_stream(tool, Value::Object(params.clone()), options, |chunk| {
            lines.push_str(&format!("{}\n", Value::Object(chunk)));
            ChunkControl::Continue
        })
        .await;
    // The chunks that came before a failure are kept.
    match out {
        None => outcome.stdout.push_str(&lines),
        Some(path) => write_out(path, lines.as_bytes(), "the chunks", outcome)?,
    }
    result.map_err(|error| describe_call_error(&error))
}

/// Makes `count` calls; prints the last result as a single call does, and the median and p99
/// latency on stderr.
async fn repeat(
    worker: &LaunchedWorker,
    tool: &str,
    params: &Map<String, Value>,
    options: CallOptions,
    count: usize,
    out: Option<&Path>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    let mut latencies = Vec::with_capacity(count);
    let mut last = None;
    for call in 1..=count {
        let started = Instant::now();
        let reply = worker
            .execute(tool, Value::Object(params.clone()), options.clone())
            .await
            .map_err(|error| format!("call {call} of {count}: {}", describe_call_error(&error)))?;
        latencies.push(started.elapsed());
        last = Some(reply);
    }
    latencies.sort();
    let percentile = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    outcome.stderr.push_str(&format!(
        "{count} calls of {tool}: median {:.3} ms, p99 {:.3} ms\n",
        percentile(0.5).as_secs_f64() * 1000.0,
        percentile(0.99).as_secs_f64() * 1000.0,
    ));
    match &last {
        Some(reply) => print_reply(reply, out, outcome),
        None => Ok(()),
    }
}

/// The tools the worker registered, as its manifest holds them; a worker that registers
/// lazily is called once first.
async fn registered_tools(host: &EmbeddedHost, worker: &LaunchedWorker) -> Vec<HostTool> {
    let mut tools = host.worker_tools(worker.session_id());
    if tools.is_empty() {
        let _ = worker
            .execute(
                LIST_PROBE,
                Value::Object(Map::new()),
                CallOptions::default().timeout(Duration::from_secs(10)),
            )
            .await;
        let deadline = Instant::now() + Duration::from_secs(2);
        while tools.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tools = host.worker_tools(worker.session_id());
        }
    }
    tools
        .into_iter()
        .map(|registered| HostTool::from_registration(registered.tool))
        .collect()
}

/// `--list --json`: the tools as the worker's manifest holds them.
fn tools_json(tools: &[HostTool]) -> String {
    let mut text = serde_json::to_string_pretty(tools).expect("tools always serialize");
    text.push('\n');
    text
}

fn describe_tools(tools: &[HostTool]) -> String {
    if tools.is_empty() {
        return "the worker registered no tools with the host\n".to_owned();
    }
    let mut text = String::new();
    for tool in tools {
        text.push_str(&tool.signature());
        text.push('\n');
        if !tool.description.is_empty() {
            text.push_str(&format!(
                "    {}\n",
                tool.description.replace('\n', "\n    ")
            ));
        }
    }
    text
}

/// For a call without `--stream` of a tool the worker registered as streaming: how to call it
/// from here (the worker's own message names the Elixir call, `Snakepit.execute_stream/4`).
fn stream_hint(host: &EmbeddedHost, worker: &LaunchedWorker, tool: &str) -> String {
    let streams = host
        .worker_tools(worker.session_id())
        .iter()
        .any(|registered| registered.tool.name == tool && registered.tool.supports_streaming);
    if streams {
        format!("\n(`{tool}` streams its answer: add --stream to this command)")
    } else {
        String::new()
    }
}

/// A failed call as the host would hand it to Elixir: a translated error as `Type (Module):
/// message`, the error JSON a worker ends a stream with included (the host hands streams the
/// raw gRPC status).
fn describe_call_error(error: &CallError) -> String {
    match error {
        CallError::Tool {
            failure: ToolFailure::Translated(error),
            ..
        } => {
            format!("{} ({}): {}", error.type_name, error.module, error.message)
        }
        CallError::Status { message, .. } => match read_error_json(message) {
            Some(error) => format!("{} ({}): {}", error.type_name, error.module, error.message),
            None => error.to_string(),
        },
        other => other.to_string(),
    }
}
