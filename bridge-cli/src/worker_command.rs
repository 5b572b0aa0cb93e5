//! `snakepit-tools worker`: launches a worker as snakepit would, with an embedded host that
//! exposes the demo Elixir tools to the worker's session, then calls, streams or lists.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use snakepit_bridge_testkit::host::{demo_tools, EmbeddedHost, RegisteredTool};
use snakepit_bridge_testkit::launcher::{
    CallError, CallOptions, ChunkControl, LaunchedWorker, Launcher, ToolFailure,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return failure(2, format!("cannot start the runtime: {error}")),
    };
    let outcome = runtime.block_on(run_async(job));
    runtime.shutdown_timeout(Duration::from_secs(1));
    outcome
}

async fn run_async(job: WorkerJob) -> Outcome {
    let Some((program, args)) = job.command.split_first() else {
        return failure(2, "give the worker's command after `--`, e.g. `snakepit-tools worker --call ping -- ./my_worker`".to_owned());
    };
    let params = match parse_params(job.params.as_deref()) {
        Ok(params) => params,
        Err(message) => return failure(2, message),
    };
    let binary_parameters = match read_binaries(&job.binary) {
        Ok(binaries) => binaries,
        Err(message) => return failure(2, message),
    };
    let host = match EmbeddedHost::builder().tools(demo_tools()).start().await {
        Ok(host) => host,
        Err(error) => return failure(2, format!("cannot start the embedded host: {error}")),
    };
    let launcher = Launcher::new(program)
        .args(args.iter().cloned())
        .ready_timeout(job.ready_timeout)
        .echo_output(job.echo);
    let worker = match launcher.launch(&host).await {
        Ok(worker) => worker,
        Err(error) => return failure(2, error.to_string()),
    };

    let mut outcome = Outcome {
        stdout: String::new(),
        stderr: String::new(),
        code: 0,
    };
    if job.list {
        let tools = registered_tools(&host, &worker).await;
        outcome.stdout.push_str(&describe_tools(&tools));
    }
    if let Some(tool) = &job.call {
        let mut options = CallOptions::default().timeout(job.timeout);
        options.binary_parameters = binary_parameters;
        let result = if job.stream {
            stream(&worker, tool, &params, options, &mut outcome).await
        } else if job.repeat > 1 {
            repeat(&worker, tool, &params, options, job.repeat, &mut outcome).await
        } else {
            match worker
                .execute(tool, Value::Object(params.clone()), options)
                .await
            {
                Ok(reply) => {
                    outcome.stdout.push_str(&format!("{}\n", reply.to_json()));
                    Ok(())
                }
                Err(error) => Err(error),
            }
        };
        if let Err(error) = result {
            outcome
                .stderr
                .push_str(&format!("error: {}\n", describe_call_error(&error)));
            outcome.code = 1;
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
    if let Err(error) = worker.shutdown().await {
        outcome.stderr.push_str(&format!("error: {error}\n"));
        outcome.code = outcome.code.max(2);
    }
    outcome
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
    outcome: &mut Outcome,
) -> Result<(), CallError> {
    let mut lines = String::new();
    let result = worker
        .execute_stream(tool, Value::Object(params.clone()), options, |chunk| {
            lines.push_str(&format!("{}\n", Value::Object(chunk)));
            ChunkControl::Continue
        })
        .await;
    outcome.stdout.push_str(&lines);
    result
}

async fn repeat(
    worker: &LaunchedWorker,
    tool: &str,
    params: &Map<String, Value>,
    options: CallOptions,
    count: usize,
    outcome: &mut Outcome,
) -> Result<(), CallError> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        worker
            .execute(tool, Value::Object(params.clone()), options.clone())
            .await?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let percentile = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    outcome.stdout.push_str(&format!(
        "{count} calls of {tool}: median {:.3} ms, p99 {:.3} ms\n",
        percentile(0.5).as_secs_f64() * 1000.0,
        percentile(0.99).as_secs_f64() * 1000.0,
    ));
    Ok(())
}

/// The tools the worker registered; a worker that registers lazily is called once first.
async fn registered_tools(host: &EmbeddedHost, worker: &LaunchedWorker) -> Vec<RegisteredTool> {
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
}

fn describe_tools(tools: &[RegisteredTool]) -> String {
    if tools.is_empty() {
        return "the worker registered no tools with the host\n".to_owned();
    }
    let mut text = String::new();
    for registered in tools {
        let tool = &registered.tool;
        let parameters: Vec<String> = tool
            .parameters
            .iter()
            .map(|parameter| {
                let default = parameter
                    .validation
                    .get("default")
                    .map(|value| format!(" = {value}"))
                    .unwrap_or_default();
                let optional = if parameter.required { "" } else { "?" };
                format!(
                    "{}{optional}: {}{default}",
                    parameter.name, parameter.type_name
                )
            })
            .collect();
        let streaming = if tool.supports_streaming {
            " [streaming]"
        } else {
            ""
        };
        text.push_str(&format!(
            "{}({}){streaming}\n",
            tool.name,
            parameters.join(", ")
        ));
        if !tool.description.is_empty() {
            text.push_str(&format!(
                "    {}\n",
                tool.description.replace('\n', "\n    ")
            ));
        }
    }
    text
}

fn describe_call_error(error: &CallError) -> String {
    match error {
        CallError::Tool {
            failure: ToolFailure::Translated(error),
            ..
        } => {
            format!("{} ({}): {}", error.type_name, error.module, error.message)
        }
        other => other.to_string(),
    }
}
