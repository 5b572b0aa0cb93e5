//! The cost of the typed layer over raw gRPC, measured side by side in one run.
//!
//! ```text
//! cargo bench --bench bridge            # or bench/run.sh, which adds compile times
//! ```
//!
//! The host runs in a separate process (this binary, re-run with `--serve`), so client and host
//! never share an executor, and the counting allocator below sees only the client. Variants are
//! measured in interleaved rounds so that drift on the machine hits them all alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::ExecuteElixirToolRequest;
use snakepit_bridge::testkit::host::{demo_tools, ElixirTool, EmbeddedHost};
use snakepit_bridge::{elixir_tools, json_any, Error, SessionContext};
use tonic::transport::Channel;

// ---- allocation accounting (client process only) ----

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            if new_size > layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes allocated at the peak of `work`, above what was allocated when it started.
async fn peak_during<F: std::future::Future>(work: F) -> (F::Output, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let output = work.await;
    (output, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

// ---- the tools, the host process ----

const SESSION: &str = "bench";
const SIZES: [(usize, &str); 4] = [
    (1 << 10, "1 KiB"),
    (64 << 10, "64 KiB"),
    (1 << 20, "1 MiB"),
    (8 << 20, "8 MiB"),
];

fn bench_tools() -> Vec<ElixirTool> {
    // Payloads are made once, so the host's cost per call stays small and the same for all.
    let payloads: Arc<HashMap<u64, Value>> = Arc::new(
        SIZES
            .iter()
            .map(|(size, _)| (*size as u64, Value::String("x".repeat(*size - 2))))
            .collect(),
    );
    let mut tools = demo_tools();
    tools.push(
        ElixirTool::new("add", |params| {
            let a = params
                .get("a")
                .and_then(Value::as_i64)
                .ok_or("a must be an integer")?;
            let b = params
                .get("b")
                .and_then(Value::as_i64)
                .ok_or("b must be an integer")?;
            Ok(json!(a + b))
        })
        .required("a", "integer")
        .required("b", "integer"),
    );
    tools.push(
        ElixirTool::new("payload", move |params| {
            let bytes = params
                .get("bytes")
                .and_then(Value::as_u64)
                .ok_or("bytes must be an integer")?;
            payloads
                .get(&bytes)
                .cloned()
                .ok_or_else(|| format!("no payload of {bytes} bytes"))
        })
        .required("bytes", "integer"),
    );
    tools
}

fn serve() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let host = EmbeddedHost::builder()
            .tools(bench_tools())
            .session(SESSION)
            .start()
            .await
            .expect("host");
        println!("{}", host.address());
        std::io::stdout().flush().ok();
        // Serve until the parent closes our stdin.
        let _ =
            tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
        host.shutdown().await;
    });
}

struct HostProcess(Child);

impl HostProcess {
    fn start() -> (HostProcess, String) {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the host process starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the host prints its address");
        (HostProcess(child), line.trim().to_owned())
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

// ---- the typed trait ----

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Fibonacci {
    n: u32,
    sequence: Vec<u64>,
    sum: u64,
}

#[elixir_tools]
trait BenchTools {
    async fn add(&self, a: i64, b: i64) -> Result<i64, Error>;
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;
    async fn payload(&self, bytes: u64) -> Result<String, Error>;
}

// ---- statistics ----

#[derive(Clone, Copy)]
struct Summary {
    median: Duration,
    p99: Duration,
}

fn summarize(samples: &mut [Duration]) -> Summary {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Summary {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

// ---- the raw floor ----

fn raw_request(tool: &str, params: &[(&str, &[u8])]) -> ExecuteElixirToolRequest {
    ExecuteElixirToolRequest {
        session_id: SESSION.to_owned(),
        tool_name: tool.to_owned(),
        parameters: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json_any(v.to_vec())))
            .collect(),
        metadata: Default::default(),
    }
}

async fn raw_call(
    client: &BridgeServiceClient<Channel>,
    request: ExecuteElixirToolRequest,
) -> usize {
    let response = client
        .clone()
        .execute_elixir_tool(request)
        .await
        .expect("raw call")
        .into_inner();
    assert!(response.success, "{}", response.error_message);
    response.result.map(|any| any.value.len()).unwrap_or(0)
}

// ---- 1. latency, one call in flight ----

// Fine-grained interleaving with a rotating order: drift on the machine, and whichever variant
// ran just before, hit every variant alike.
const ROUNDS: usize = 500;
const PER_ROUND: usize = 10;

async fn latency(address: &str, ctx: &SessionContext, raw: &BridgeServiceClient<Channel>) {
    println!(
        "## 1. Latency, one call in flight ({} calls per variant, interleaved)\n",
        ROUNDS * PER_ROUND
    );
    println!("| call | variant | median | p99 | median / raw |");
    println!("|---|---|---|---|---|");
    let blocking_ctx = {
        let address = address.to_owned();
        tokio::task::spawn_blocking(move || {
            let ctx = snakepit_bridge::blocking::SessionContext::connect(address, SESSION)
                .expect("blocking connect");
            ctx.elixir_tools().expect("tool list");
            ctx
        })
        .await
        .unwrap()
    };

    for (label, tool) in [
        ("`add`", "add"),
        ("`calculate_fibonacci` n=12", "calculate_fibonacci"),
    ] {
        let mut samples: [Vec<Duration>; 4] = Default::default();
        for round in 0..ROUNDS {
            for offset in 0..4 {
                let variant = (round + offset) % 4;
                let bucket = &mut samples[variant];
                match variant {
                    0 => {
                        for _ in 0..PER_ROUND {
                            let request = match tool {
                                "add" => raw_request("add", &[("a", b"2"), ("b", b"40")]),
                                _ => raw_request("calculate_fibonacci", &[("n", b"12")]),
                            };
                            let started = Instant::now();
                            raw_call(raw, request).await;
                            bucket.push(started.elapsed());
                        }
                    }
                    1 => {
                        for _ in 0..PER_ROUND {
                            let started = Instant::now();
                            let value = match tool {
                                "add" => {
                                    ctx.call_elixir_tool("add", json!({"a": 2, "b": 40})).await
                                }
                                _ => {
                                    ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 12}))
                                        .await
                                }
                            };
                            value.expect("dynamic call");
                            bucket.push(started.elapsed());
                        }
                    }
                    2 => {
                        for _ in 0..PER_ROUND {
                            let started = Instant::now();
                            match tool {
                                "add" => drop(ctx.add(2, 40).await.expect("typed call")),
                                _ => drop(ctx.calculate_fibonacci(12).await.expect("typed call")),
                            }
                            bucket.push(started.elapsed());
                        }
                    }
                    _ => {
                        let ctx = blocking_ctx.clone();
                        let tool = tool.to_owned();
                        let batch = tokio::task::spawn_blocking(move || {
                            (0..PER_ROUND)
                                .map(|_| {
                                    let started = Instant::now();
                                    match tool.as_str() {
                                        "add" => drop(
                                            BenchToolsBlocking::add(&ctx, 2, 40)
                                                .expect("blocking call"),
                                        ),
                                        _ => drop(
                                            BenchToolsBlocking::calculate_fibonacci(&ctx, 12)
                                                .expect("blocking call"),
                                        ),
                                    }
                                    started.elapsed()
                                })
                                .collect::<Vec<_>>()
                        })
                        .await
                        .unwrap();
                        bucket.extend(batch);
                    }
                }
            }
        }
        let summaries: Vec<Summary> = samples.iter_mut().map(|s| summarize(s)).collect();
        let floor = summaries[0].median.as_secs_f64();
        for (name, summary) in [
            "raw tonic",
            "call_elixir_tool",
            "#[elixir_tools]",
            "blocking #[elixir_tools]",
        ]
        .iter()
        .zip(&summaries)
        {
            println!(
                "| {label} | {name} | {} | {} | {:.3} |",
                micros(summary.median),
                micros(summary.p99),
                summary.median.as_secs_f64() / floor
            );
        }
    }
    println!();
}

// ---- 2. throughput over one context ----

async fn throughput(ctx: &SessionContext, raw: &BridgeServiceClient<Channel>) {
    const WINDOW: Duration = Duration::from_secs(2);
    println!(
        "## 2. Throughput over one context (`add`, {} s per level, raw and typed alternating)\n",
        WINDOW.as_secs()
    );
    println!("| in flight | raw calls/s | raw p99 | typed calls/s | typed p99 | typed / raw |");
    println!("|---|---|---|---|---|---|");
    for in_flight in [1usize, 16, 64, 256] {
        let mut results = Vec::new();
        for typed in [false, true] {
            let deadline = Instant::now() + WINDOW;
            let workers: Vec<_> = (0..in_flight)
                .map(|_| {
                    let ctx = ctx.clone();
                    let raw = raw.clone();
                    tokio::spawn(async move {
                        let mut samples = Vec::new();
                        while Instant::now() < deadline {
                            let started = Instant::now();
                            if typed {
                                ctx.add(2, 40).await.expect("typed call");
                            } else {
                                raw_call(&raw, raw_request("add", &[("a", b"2"), ("b", b"40")]))
                                    .await;
                            }
                            samples.push(started.elapsed());
                        }
                        samples
                    })
                })
                .collect();
            let started = Instant::now();
            let mut samples = Vec::new();
            for worker in workers {
                samples.extend(worker.await.unwrap());
            }
            let elapsed = started.elapsed().as_secs_f64();
            let rate = samples.len() as f64 / elapsed;
            results.push((rate, summarize(&mut samples).p99));
        }
        println!(
            "| {in_flight} | {:.0} | {} | {:.0} | {} | {:.3} |",
            results[0].0,
            micros(results[0].1),
            results[1].0,
            micros(results[1].1),
            results[1].0 / results[0].0
        );
    }
    println!();
}

// ---- 3. payload scaling ----

async fn payloads(ctx: &SessionContext, raw: &BridgeServiceClient<Channel>) {
    println!("## 3. Payload scaling (a JSON string result; median of 15 calls)\n");
    println!("| result | raw tonic | typed `String` | typed MB/s | typed / raw | client peak / payload |");
    println!("|---|---|---|---|---|---|");
    for (size, label) in SIZES {
        let size_json = size.to_string();
        let mut raw_times = Vec::new();
        let mut typed_times = Vec::new();
        let mut peak_ratio: f64 = 0.0;
        for _ in 0..15 {
            let started = Instant::now();
            let received = raw_call(
                raw,
                raw_request("payload", &[("bytes", size_json.as_bytes())]),
            )
            .await;
            raw_times.push(started.elapsed());
            assert_eq!(received, size);

            let started = Instant::now();
            let (text, peak) = peak_during(ctx.payload(size as u64)).await;
            typed_times.push(started.elapsed());
            assert_eq!(text.expect("typed payload").len(), size - 2);
            peak_ratio = peak_ratio.max(peak as f64 / size as f64);
        }
        let raw = summarize(&mut raw_times).median;
        let typed = summarize(&mut typed_times).median;
        println!(
            "| {label} | {} | {} | {:.0} | {:.3} | {:.2}x |",
            micros(raw),
            micros(typed),
            size as f64 / typed.as_secs_f64() / 1e6,
            typed.as_secs_f64() / raw.as_secs_f64(),
            peak_ratio
        );
    }
    println!();
}

// ---- 4. the cached tool list ----

async fn tool_list_cache(ctx: &SessionContext) {
    const CALLS: u32 = 100_000;
    ctx.elixir_tools().await.expect("tool list");
    let started = Instant::now();
    for _ in 0..CALLS {
        std::hint::black_box(ctx.elixir_tools().await.expect("cached list"));
    }
    let cached = started.elapsed() / CALLS;
    let started = Instant::now();
    for _ in 0..100 {
        ctx.refresh_elixir_tools().await.expect("fetched list");
    }
    let fetched = started.elapsed() / 100;
    println!("## 4. `elixir_tools()` after the first fetch\n");
    println!("| call | time per call |");
    println!("|---|---|");
    println!(
        "| `elixir_tools()` (cached, no RPC) | {:.0} ns |",
        cached.as_secs_f64() * 1e9
    );
    println!(
        "| `refresh_elixir_tools()` (one RPC) | {} |",
        micros(fetched)
    );
    println!();
}

// ---- 6. the Python client of today ----

fn python_comparison(address: &str) {
    println!("## 6. Python grpcio client (what workers use today), `calculate_fibonacci` n=12\n");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/python_client.py");
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/proto");
    let available = Command::new("python3")
        .args(["-c", "import grpc, grpc_tools"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        println!("Skipped: python3 with `grpcio` and `grpcio-tools` is not available (`pip install grpcio grpcio-tools`).\n");
        return;
    }
    match Command::new("python3")
        .args([script, address, SESSION, proto_dir])
        .output()
    {
        Ok(output) if output.status.success() => {
            print!("{}", String::from_utf8_lossy(&output.stdout))
        }
        Ok(output) => println!(
            "The Python client failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => println!("The Python client could not run: {error}"),
    }
    println!();
}

/// Whether a section runs: all of them, unless `SNAKEPIT_BENCH` names some (`latency,payload`).
fn selected(section: &str) -> bool {
    std::env::var("SNAKEPIT_BENCH").map_or(true, |only| {
        only.split(',').any(|name| name.trim() == section)
    })
}

fn main() {
    if std::env::args().any(|arg| arg == "--serve") {
        return serve();
    }
    let (_host, address) = HostProcess::start();
    // The client's own executor, one worker thread per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let ctx = SessionContext::connect(address.clone(), SESSION)
            .await
            .expect("connect");
        let raw = BridgeServiceClient::connect(format!("http://{address}"))
            .await
            .expect("raw connect")
            .max_decoding_message_size(64 << 20);
        ctx.elixir_tools().await.expect("tool list");
        // Warm both paths up.
        for _ in 0..500 {
            ctx.add(1, 1).await.expect("warm-up");
            raw_call(&raw, raw_request("add", &[("a", b"1"), ("b", b"1")])).await;
        }
        println!("# snakepit-bridge benchmarks\n");
        if selected("latency") {
            latency(&address, &ctx, &raw).await;
        }
        if selected("throughput") {
            throughput(&ctx, &raw).await;
        }
        if selected("payload") {
            payloads(&ctx, &raw).await;
        }
        if selected("cache") {
            tool_list_cache(&ctx).await;
        }
    });
    if selected("python") {
        python_comparison(&address);
    }
}
