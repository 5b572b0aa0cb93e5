//! A Rust worker between the floor of the wire and a Python worker, side by side in one run.
//!
//! ```text
//! bench/run.sh                                    # builds the workers, runs this and the rest
//! cargo build --release --examples && cargo bench --bench worker
//! SNAKEPIT_BENCH=latency,throughput cargo bench --bench worker    # some sections only
//! SNAKEPIT_BENCH=telemetry cargo bench --bench worker             # telemetry on vs off
//! ```
//!
//! Three workers, each launched exactly as snakepit launches one (the launcher is the caller,
//! encoding and decoding as the host does): the showcase worker's typed `ping`
//! (`examples/showcase_worker.rs`), the floor (`bench/raw_worker.rs`, a hand-written tonic
//! `ExecuteTool` that answers a constant, with no JSON work), and a Python grpcio worker
//! following the same wire rules (`bench/python_worker.py`). Variants run in interleaved rounds,
//! so drift on the machine hits them all alike. Worker and caller share the machine's cores.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::testkit::launcher::{CallOptions, HeartbeatConfig, LaunchedWorker, Launcher};

fn examples_dir() -> PathBuf {
    let mut path = std::env::current_exe().expect("the bench binary's path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Typed,
    Floor,
    Python,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Typed => "Rust, typed tool (showcase `ping`)",
            Kind::Floor => "Rust, `ping` hand-written on raw tonic (floor)",
            Kind::Python => "Python grpcio worker",
        }
    }

    fn launcher(self) -> Launcher {
        let launcher = match self {
            Kind::Typed => Launcher::new(examples_dir().join("showcase_worker")),
            Kind::Floor => Launcher::new(examples_dir().join("raw_worker")),
            Kind::Python => Launcher::new("python3").args([concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/bench/python_worker.py"
            )]),
        };
        launcher.ready_timeout(Duration::from_secs(60))
    }
}

fn wanted(section: &str) -> bool {
    match std::env::var("SNAKEPIT_BENCH") {
        Ok(list) => list.split(',').any(|s| s.trim() == section),
        Err(_) => true,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ping() -> Value {
    json!({"message": "hello"})
}

async fn call(worker: &LaunchedWorker) {
    worker
        .execute("ping", ping(), CallOptions::default())
        .await
        .expect("ping answers");
}

/// RSS and its high-water mark, in bytes, from /proc.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn launch_all(host: &EmbeddedHost) -> Vec<(Kind, Arc<LaunchedWorker>)> {
    let mut workers = Vec::new();
    for kind in [Kind::Floor, Kind::Typed, Kind::Python] {
        let worker = kind.launcher().launch(host).await.unwrap_or_else(|error| {
            panic!("{} does not launch (cargo build --release --examples; pip install grpcio grpcio-tools): {error}", kind.label())
        });
        workers.push((kind, Arc::new(worker)));
    }
    workers
}

async fn latency(workers: &[(Kind, Arc<LaunchedWorker>)]) {
    const CALLS: usize = 5000;
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(CALLS); workers.len()];
    for (_, worker) in workers {
        for _ in 0..200 {
            call(worker).await;
        }
    }
    // Interleaved call by call, the order rotating, so that whatever the machine does meanwhile
    // (and whoever ran just before) hits every worker alike.
    for round in 0..CALLS {
        for offset in 0..workers.len() {
            let index = (round + offset) % workers.len();
            let worker = &workers[index].1;
            let started = Instant::now();
            call(worker).await;
            samples[index].push(started.elapsed());
        }
    }
    println!("## 1. `ExecuteTool` round trip of `ping`, one call in flight ({CALLS} calls each, interleaved call by call)\n");
    println!("| worker | median | p99 | median / floor |");
    println!("|---|---|---|---|");
    let floor = {
        let mut sorted = samples[0].clone();
        sorted.sort();
        percentile(&sorted, 0.5)
    };
    for (index, (kind, _)) in workers.iter().enumerate() {
        let mut sorted = samples[index].clone();
        sorted.sort();
        let median = percentile(&sorted, 0.5);
        println!(
            "| {} | {} | {} | {:.3} |",
            kind.label(),
            micros(median),
            micros(percentile(&sorted, 0.99)),
            median.as_secs_f64() / floor.as_secs_f64()
        );
    }
    println!();
}

/// Calls per second with `in_flight` callers for `length`.
async fn throughput_of(worker: &Arc<LaunchedWorker>, in_flight: usize, length: Duration) -> f64 {
    let deadline = Instant::now() + length;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let worker = worker.clone();
        tasks.spawn(async move {
            let mut calls = 0u64;
            while Instant::now() < deadline {
                call(&worker).await;
                calls += 1;
            }
            calls
        });
    }
    let started = Instant::now();
    let mut total = 0;
    while let Some(calls) = tasks.join_next().await {
        total += calls.expect("a caller task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

async fn throughput(workers: &[(Kind, Arc<LaunchedWorker>)]) {
    const ROUNDS: usize = 7;
    let length = Duration::from_millis(300);
    println!("## 2. Throughput: calls per second of `ping` ({ROUNDS} interleaved rounds of {length:?} per level, median)\n");
    println!("| in flight | floor | Rust typed | Python | typed / floor | typed / Python |");
    println!("|---|---|---|---|---|---|");
    for in_flight in [1, 16, 64] {
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); workers.len()];
        for _ in 0..ROUNDS {
            for (index, (_, worker)) in workers.iter().enumerate() {
                rates[index].push(throughput_of(worker, in_flight, length).await);
            }
        }
        let median = |mut values: Vec<f64>| {
            values.sort_by(|a, b| a.total_cmp(b));
            values[values.len() / 2]
        };
        let [floor, typed, python]: [f64; 3] = [
            median(rates[0].clone()),
            median(rates[1].clone()),
            median(rates[2].clone()),
        ];
        println!(
            "| {in_flight} | {floor:.0} | {typed:.0} | {python:.0} | {:.3} | {:.2}x |",
            typed / floor,
            typed / python
        );
    }
    println!();
}

/// The cost of telemetry into Elixir on the `ping` round trip: one typed worker, its telemetry
/// turned on and off by the host's toggle between interleaved rounds (every call then sends
/// its `tool.execution.stop` on a stream that the bench reads, as snakepit does).
async fn telemetry(host: &EmbeddedHost) {
    use snakepit_bridge::proto::{telemetry_control::Control, TelemetryControl, TelemetryToggle};
    const ROUNDS: usize = 20;
    const CALLS: usize = 500;
    let worker = Kind::Typed
        .launcher()
        .launch(host)
        .await
        .expect("the showcase worker launches");
    let (controls, receiver) = tokio::sync::mpsc::channel(4);
    let toggle = |enabled| TelemetryControl {
        control: Some(Control::Toggle(TelemetryToggle { enabled })),
    };
    controls.send(toggle(true)).await.unwrap();
    let mut events = worker
        .client()
        .stream_telemetry(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .expect("the telemetry stream opens")
        .into_inner();
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Some(Ok(_event)) = tokio_stream::StreamExt::next(&mut events).await {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    for _ in 0..500 {
        call(&worker).await;
    }
    let mut samples: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for offset in 0..2 {
            let on = (round + offset) % 2 == 0;
            controls.send(toggle(on)).await.unwrap();
            // The toggle travels on its own stream: let it land before measuring.
            tokio::time::sleep(Duration::from_millis(20)).await;
            for _ in 0..CALLS {
                let started = Instant::now();
                call(&worker).await;
                samples[usize::from(on)].push(started.elapsed());
            }
        }
    }
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        percentile(samples, 0.5)
    };
    let off = median(&mut samples[0]);
    let on = median(&mut samples[1]);
    // The last batch of events is still on its way.
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!("## 8. Telemetry into Elixir: `ping` round trip with the host's toggle on and off ({ROUNDS} interleaved rounds of {CALLS} calls each)\n");
    println!("| telemetry | median | p99 | events received |");
    println!("|---|---|---|---|");
    println!(
        "| off | {} | {} | |",
        micros(off),
        micros(percentile(&samples[0], 0.99))
    );
    println!(
        "| on | {} | {} | {} |",
        micros(on),
        micros(percentile(&samples[1], 0.99)),
        received.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "\non / off: {:.3} (target: at most 1.03)\n",
        on.as_secs_f64() / off.as_secs_f64()
    );
    drop(controls);
    worker.shutdown().await.expect("stops");
}

async fn heartbeats(host: &EmbeddedHost) {
    let worker = Arc::new(
        Kind::Typed
            .launcher()
            .heartbeat(HeartbeatConfig::default().with_interval(Duration::from_millis(10)))
            .launch(host)
            .await
            .expect("the showcase worker launches"),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = worker.heartbeat_stats();
    let rate = throughput_of(&worker, 64, Duration::from_secs(3)).await;
    let after = worker.heartbeat_stats();
    println!("## 4. Heartbeats while 64 calls are in flight (3 s, a heartbeat every 10 ms)\n");
    println!("| heartbeats answered | failed | slowest answer | calls/s meanwhile |");
    println!("|---|---|---|---|");
    println!(
        "| {} | {} | {} | {rate:.0} |\n",
        after.answered - before.answered,
        after.failed - before.failed,
        micros(after.max_latency)
    );
    Arc::into_inner(worker)
        .expect("one owner")
        .shutdown()
        .await
        .expect("stops");
}

async fn streaming(workers: &[(Kind, Arc<LaunchedWorker>)]) {
    const CHUNKS: u32 = 20_000;
    println!("## 3. Streaming `stream_data`, {CHUNKS} chunks, no delay (median of 3)\n");
    println!("| worker | chunks/s | MB/s of chunk data |");
    println!("|---|---|---|");
    for (kind, worker) in workers.iter().filter(|(kind, _)| *kind != Kind::Floor) {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let mut client = worker.client();
            let request = snakepit_bridge::proto::ExecuteToolRequest {
                session_id: worker.session_id().to_owned(),
                tool_name: "stream_data".to_owned(),
                parameters: [
                    (
                        "count".to_owned(),
                        snakepit_bridge::json_any(CHUNKS.to_string().into_bytes()),
                    ),
                    ("delay".to_owned(), snakepit_bridge::json_any(b"0".to_vec())),
                ]
                .into(),
                stream: true,
                ..Default::default()
            };
            let started = Instant::now();
            let mut stream = client
                .execute_streaming_tool(request)
                .await
                .expect("the stream opens")
                .into_inner();
            let (mut chunks, mut bytes) = (0u64, 0u64);
            while let Some(chunk) = tokio_stream::StreamExt::next(&mut stream).await {
                let chunk = chunk.expect("a chunk");
                chunks += 1;
                bytes += chunk.data.len() as u64;
            }
            let seconds = started.elapsed().as_secs_f64();
            runs.push((chunks as f64 / seconds, bytes as f64 / seconds / 1e6));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (rate, throughput) = runs[1];
        println!("| {} | {rate:.0} | {throughput:.2} |", kind.label());
    }
    println!();
}

async fn startup(host: &EmbeddedHost) {
    const LAUNCHES: usize = 10;
    println!("## 5. Start-up, {LAUNCHES} launches each (median)\n");
    println!("| worker | launch to ready (port read from the ready file, polled as the host polls) | launch to first answered call |");
    println!("|---|---|---|");
    for kind in [Kind::Typed, Kind::Python] {
        let mut ready = Vec::new();
        let mut first = Vec::new();
        for _ in 0..LAUNCHES {
            let started = Instant::now();
            let worker = kind.launcher().launch(host).await.expect("launches");
            call(&worker).await;
            first.push(started.elapsed());
            ready.push(worker.ready_after());
            worker.shutdown().await.expect("stops");
        }
        ready.sort();
        first.sort();
        println!(
            "| {} | {:.1} ms | {:.1} ms |",
            kind.label(),
            percentile(&ready, 0.5).as_secs_f64() * 1e3,
            percentile(&first, 0.5).as_secs_f64() * 1e3
        );
    }
    println!();
}

async fn resident(host: &EmbeddedHost) {
    println!("## 6. Resident memory of the worker process\n");
    println!("| worker | idle | after 10,000 calls |");
    println!("|---|---|---|");
    for kind in [Kind::Typed, Kind::Python] {
        let worker = kind.launcher().launch(host).await.expect("launches");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (idle, _) = memory(worker.pid());
        for _ in 0..10_000 {
            call(&worker).await;
        }
        let (busy, _) = memory(worker.pid());
        println!("| {} | {} | {} |", kind.label(), mib(idle), mib(busy));
        worker.shutdown().await.expect("stops");
    }
    println!();
}

async fn payloads(host: &EmbeddedHost) {
    const MIB: usize = 1024 * 1024;
    println!("## 7. Payloads: the worker's peak memory over its resident size before the call\n");
    println!("| call | payload | peak growth | growth / payload |");
    println!("|---|---|---|---|");
    let cases: [(&str, usize, &str); 5] = [
        ("payload", MIB, "1 MiB JSON result"),
        ("payload", 8 * MIB, "8 MiB JSON result"),
        ("blob", 8 * MIB, "8 MiB binary result"),
        ("consume", 8 * MIB, "8 MiB binary parameter"),
        ("consume", MIB, "1 MiB binary parameter"),
    ];
    for (tool, size, label) in cases {
        // A fresh worker per case: the high-water mark covers its whole life.
        let worker = Launcher::new(examples_dir().join("payload_worker"))
            .launch(host)
            .await
            .expect("the payload worker launches");
        worker
            .execute("payload", json!({"size": 10}), CallOptions::default())
            .await
            .expect("warm-up");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (before, _) = memory(worker.pid());
        let options = if tool == "consume" {
            CallOptions::default().binary_parameter("data", vec![1u8; size])
        } else {
            CallOptions::default()
        };
        let args = if tool == "consume" {
            json!({})
        } else {
            json!({"size": size})
        };
        worker
            .execute(tool, args, options)
            .await
            .expect("the payload call answers");
        let (_, peak) = memory(worker.pid());
        let growth = peak.saturating_sub(before);
        println!(
            "| `{tool}` | {label} | {} | {:.2}x |",
            mib(growth),
            growth as f64 / size as f64
        );
        worker.shutdown().await.expect("stops");
    }
    println!();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let host = EmbeddedHost::builder()
            .tools(demo_tools())
            .start()
            .await
            .expect("the host starts");
        println!("# Worker benchmarks\n");
        if wanted("latency") || wanted("throughput") || wanted("stream") {
            let workers = launch_all(&host).await;
            if wanted("latency") {
                latency(&workers).await;
            }
            if wanted("throughput") {
                throughput(&workers).await;
            }
            if wanted("stream") {
                streaming(&workers).await;
            }
            for (_, worker) in workers {
                if let Some(worker) = Arc::into_inner(worker) {
                    let _ = worker.shutdown().await;
                }
            }
        }
        if wanted("heartbeat") {
            heartbeats(&host).await;
        }
        if wanted("telemetry") {
            telemetry(&host).await;
        }
        if wanted("startup") {
            startup(&host).await;
        }
        if wanted("memory") {
            resident(&host).await;
        }
        if wanted("payload") {
            payloads(&host).await;
        }
    });
}
