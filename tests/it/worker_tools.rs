//! `#[worker_tools]` and the worker runtime in one process: what a tool can take and answer,
//! panics, deadlines, and heartbeats while plain `fn` tools block.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::{ExecuteToolRequest, HeartbeatRequest};
use snakepit_bridge::worker::{
    run_tool, Answer, BinaryResult, ToolCall, ToolContext, ToolError, ToolSet,
};
use snakepit_bridge::worker_tools;
use tokio_stream::Stream;

use crate::common;

type Res<T> = Result<T, ToolError>;

#[derive(Debug)]
struct NotFound(String);

impl From<NotFound> for ToolError {
    fn from(error: NotFound) -> Self {
        ToolError::key_error(format!("no such key: {}", error.0))
    }
}

#[derive(Deserialize, Serialize)]
struct Point {
    x: i64,
    y: i64,
}

/// Set when a `slow` call is dropped before finishing.
static SLOW_CANCELLED: AtomicBool = AtomicBool::new(false);

struct Guard;
impl Drop for Guard {
    fn drop(&mut self) {
        SLOW_CANCELLED.store(true, Ordering::SeqCst);
    }
}

struct Tools;

#[worker_tools]
impl Tools {
    /// Doubles a point.
    pub fn double(&self, point: Point) -> Res<Point> {
        Ok(Point {
            x: point.x * 2,
            y: point.y * 2,
        })
    }

    pub fn lookup(&self, key: String) -> Result<u32, NotFound> {
        Err(NotFound(key))
    }

    pub fn context(&self, ctx: ToolContext) -> Res<Value> {
        Ok(json!({
            "session": ctx.session_id(),
            "correlation": ctx.correlation_id(),
            "sensitive": ctx.metadata().get("thread_sensitive"),
        }))
    }

    pub fn maybe_bytes(&self, #[param(binary)] data: Option<Vec<u8>>) -> Res<BinaryResult> {
        Ok(BinaryResult::new(data.unwrap_or_default()))
    }

    pub fn r#type(&self, #[param(rename = "in")] value: i32) -> Res<i32> {
        Ok(value)
    }

    pub fn boom(&self) -> Res<()> {
        panic!("the tool broke");
    }

    pub async fn boom_async(&self) -> Res<()> {
        panic!("the async tool broke");
    }

    pub async fn slow(&self, seconds: f64) -> Res<()> {
        let _guard = Guard;
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        std::mem::forget(_guard);
        Ok(())
    }

    /// Blocks its thread, as CPU-bound work does.
    pub fn spin(&self, millis: u64) -> Res<u64> {
        std::thread::sleep(Duration::from_millis(millis));
        Ok(millis)
    }

    /// The time left before the call's deadline, in whole seconds.
    pub fn seconds_left(&self, ctx: &ToolContext) -> Res<Option<u64>> {
        Ok(ctx.remaining().map(|left| left.as_secs()))
    }

    /// Asks Elixir for the Fibonacci numbers up to `n`, and sums them twice.
    pub async fn double_fibonacci(&self, ctx: &ToolContext, n: u32) -> Res<u64> {
        let fib = ctx
            .calculate_fibonacci(n)
            .await
            .map_err(|error| ToolError::runtime_error(error.to_string()))?;
        Ok(fib.sum * 2)
    }

    /// Streams the numbers from 1 to `n`.
    pub fn count(&self, n: u32) -> Result<impl Stream<Item = Res<Value>>, ToolError> {
        Ok(tokio_stream::iter((1..=n).map(|i| Ok(json!({"i": i})))))
    }

    #[tool(skip)]
    pub fn not_a_tool() -> u32 {
        1
    }
}

#[derive(Deserialize)]
pub struct Fibonacci {
    pub sum: u64,
}

/// The Elixir tool the worker calls back.
#[snakepit_bridge::elixir_tools]
pub trait DemoTools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, snakepit_bridge::Error>;
}

/// A fake Elixir: `calculate_fibonacci` answers `sum = n`, and records what it was asked.
#[derive(Default, Clone)]
struct FakeElixir {
    asked: Arc<std::sync::Mutex<Vec<(String, Value)>>>,
}

impl snakepit_bridge::ToolCaller for FakeElixir {
    async fn call_tool(
        &self,
        tool: &str,
        parameters: snakepit_bridge::Parameters,
    ) -> Result<snakepit_bridge::ToolResponse, snakepit_bridge::Error> {
        let parameters = Value::Object(parameters.to_json_object().unwrap());
        self.asked
            .lock()
            .unwrap()
            .push((tool.to_owned(), parameters.clone()));
        snakepit_bridge::ToolResponse::from_json(tool, &json!({"sum": parameters["n"]}))
    }
}

/// A fake Elixir that never answers.
struct NeverAnswers;

impl snakepit_bridge::ToolCaller for NeverAnswers {
    async fn call_tool(
        &self,
        _tool: &str,
        _parameters: snakepit_bridge::Parameters,
    ) -> Result<snakepit_bridge::ToolResponse, snakepit_bridge::Error> {
        std::future::pending().await
    }
}

async fn run(tool: &str, params: Value) -> Result<Answer, ToolError> {
    run_tool(&Arc::new(Tools), ToolCall::for_test(tool, params, [])).await
}

fn json_answer(answer: Answer) -> Value {
    match answer {
        Answer::Unary(output) => serde_json::from_slice(&output.json).unwrap(),
        Answer::Stream(_) => panic!("a stream"),
    }
}

#[tokio::test]
async fn structs_aliases_renames_and_own_error_types() {
    assert_eq!(
        json_answer(
            run("double", json!({"point": {"x": 1, "y": -2}}))
                .await
                .unwrap()
        ),
        json!({"x": 2, "y": -4})
    );
    let error = run("lookup", json!({"key": "k"})).await.unwrap_err();
    assert_eq!(
        (error.type_name(), error.message()),
        ("KeyError", "no such key: k")
    );
    assert_eq!(
        json_answer(run("type", json!({"in": 7})).await.unwrap()),
        json!(7)
    );
    assert_eq!(Tools::not_a_tool(), 1);
    let names: Vec<String> = Tools::tool_definitions()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert!(!names.contains(&"not_a_tool".to_owned()));
}

#[tokio::test]
async fn a_panic_is_one_failed_call() {
    for tool in ["boom", "boom_async"] {
        let error = run(tool, json!({})).await.unwrap_err();
        assert_eq!(error.type_name(), "RuntimeError");
        assert!(
            error
                .message()
                .starts_with(&format!("tool `{tool}` panicked: the")),
            "{}",
            error.message()
        );
    }
    assert!(run("spin", json!({"millis": 0})).await.is_ok());
}

#[tokio::test]
async fn optional_binary_and_context() {
    let Answer::Unary(output) = run("maybe_bytes", json!({})).await.unwrap() else {
        panic!()
    };
    assert!(output.binary.is_empty());
    let call = ToolCall::for_test("maybe_bytes", json!({}), [("data".to_owned(), vec![1, 2])]);
    let Answer::Unary(output) = run_tool(&Arc::new(Tools), call).await.unwrap() else {
        panic!()
    };
    assert_eq!(&output.binary[..], &[1, 2]);
    let context = json_answer(run("context", json!({})).await.unwrap());
    assert_eq!(context["session"], "test-session");
}

/// A worker of [`Tools`] served in this process, and a client of it.
async fn serve() -> BridgeServiceClient<tonic::transport::Channel> {
    common::serve(Tools).await
}

fn request(tool: &str, params: Value) -> ExecuteToolRequest {
    common::execute_request(
        "s",
        tool,
        params,
        &[("correlation_id", "sp-abc"), ("thread_sensitive", "true")],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_context_carries_the_requests_session_correlation_and_metadata() {
    let mut client = serve().await;
    let answer = client
        .execute_tool(request("context", json!({})))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success, "{}", answer.error_message);
    let value: Value = serde_json::from_slice(&answer.result.unwrap().value).unwrap();
    assert_eq!(
        value,
        json!({"session": "s", "correlation": "sp-abc", "sensitive": "true"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_stops_an_async_tool_and_the_worker_carries_on() {
    let mut client = serve().await;
    let mut slow = tonic::Request::new(request("slow", json!({"seconds": 30})));
    slow.set_timeout(Duration::from_millis(100));
    let status = client.execute_tool(slow).await.unwrap_err();
    assert!(
        matches!(
            status.code(),
            tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
        ),
        "{status:?}"
    );
    // The tool's future was dropped (not left running for 30 s).
    for _ in 0..500 {
        if SLOW_CANCELLED.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(SLOW_CANCELLED.load(Ordering::SeqCst));
    let answer = client
        .execute_tool(request("spin", json!({"millis": 0})))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_answered_while_plain_fn_tools_block() {
    let client = serve().await;
    // More blocking calls than the runtime has worker threads.
    let mut spins = Vec::new();
    for _ in 0..4 {
        let mut client = client.clone();
        spins.push(tokio::spawn(async move {
            client
                .execute_tool(request("spin", json!({"millis": 3000})))
                .await
        }));
    }
    // Let the calls reach the worker.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut heartbeat_client = client.clone();
    let heartbeat = heartbeat_client
        .heartbeat(HeartbeatRequest {
            session_id: "s".to_owned(),
            client_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(heartbeat.session_valid);
    // Answered while every blocking call still runs.
    assert!(spins.iter().all(|spin| !spin.is_finished()));
    for spin in spins {
        let answer = spin.await.unwrap().unwrap().into_inner();
        assert!(answer.success);
    }
}

#[tokio::test]
async fn a_tool_that_calls_elixir_is_unit_tested_with_a_fake() {
    let fake = FakeElixir::default();
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 21}), [])
        .with_caller(fake.clone())
        .with_correlation_id("corr-1");
    let answer = run_tool(&Arc::new(Tools), call).await.unwrap();
    assert_eq!(answer.json().unwrap(), json!(42));
    assert_eq!(
        *fake.asked.lock().unwrap(),
        [("calculate_fibonacci".to_owned(), json!({"n": 21}))]
    );
}

#[tokio::test]
async fn without_a_caller_the_error_says_how_to_attach_one() {
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 1}), []);
    let error = run_tool(&Arc::new(Tools), call).await.unwrap_err();
    assert!(
        error
            .message()
            .contains("ToolCall::for_test(..).with_caller(..)"),
        "{}",
        error.message()
    );
}

#[tokio::test]
async fn a_tool_calls_an_embedded_host() {
    let host = snakepit_bridge::testkit::host::EmbeddedHost::builder()
        .tools(snakepit_bridge::testkit::host::demo_tools())
        .session("test-session")
        .start()
        .await
        .unwrap();
    let ctx = snakepit_bridge::SessionContext::connect(host.grpc_address(), "test-session")
        .await
        .unwrap();
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 10}), []).with_host(ctx);
    let answer = run_tool(&Arc::new(Tools), call).await.unwrap();
    assert_eq!(answer.json().unwrap(), json!(176), "2 × 88");
}

#[tokio::test]
async fn a_test_call_takes_the_session_of_the_host_context_it_is_given() {
    let host = snakepit_bridge::testkit::host::EmbeddedHost::builder()
        .tools(snakepit_bridge::testkit::host::demo_tools())
        .session("embedded-session")
        .start()
        .await
        .unwrap();
    let ctx = snakepit_bridge::SessionContext::connect(host.grpc_address(), "embedded-session")
        .await
        .unwrap();
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 10}), []).with_host(ctx.clone());
    assert_eq!(call.context().session_id(), "embedded-session");
    let answer = run_tool(&Arc::new(Tools), call).await.unwrap();
    assert_eq!(answer.json().unwrap(), json!(176), "2 × 88");

    // A session the test chose stays, before or after the host.
    let chosen = ToolCall::for_test("double_fibonacci", json!({"n": 10}), [])
        .with_session("chosen")
        .with_host(ctx);
    assert_eq!(chosen.context().session_id(), "chosen");
}

#[tokio::test]
async fn a_tool_without_a_host_says_so_and_not_that_a_connection_failed() {
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 10}), []);
    let error = call.context().elixir().unwrap_err();
    assert!(
        matches!(error, snakepit_bridge::Error::NoHost { .. }),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(
            "there is no snakepit host to call: the worker was started without --elixir-address"
        ),
        "{text}"
    );
    assert!(
        text.contains(".with_caller(..)") && text.contains(".with_host(..)"),
        "{text}"
    );
    assert!(
        !text.contains("(none)") && !text.contains("check that the host is running"),
        "{text}"
    );
}

#[tokio::test]
async fn a_call_back_into_elixir_inherits_the_calls_deadline() {
    let call = ToolCall::for_test("double_fibonacci", json!({"n": 1}), [])
        .with_caller(NeverAnswers)
        .with_deadline(Duration::from_millis(200));
    let started = tokio::time::Instant::now();
    let error = run_tool(&Arc::new(Tools), call).await.unwrap_err();
    // Elixir never answers: only the deadline ends the call.
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        error.message().contains("the call of tool `calculate_fibonacci` (bounded by the deadline of the call being served"),
        "{}",
        error.message()
    );
}

#[tokio::test]
async fn stream_chunks_read_as_json() {
    let answer = run("count", json!({"n": 3})).await.unwrap();
    assert_eq!(
        answer.chunks_json().await.unwrap(),
        [json!({"i": 1}), json!({"i": 2}), json!({"i": 3})]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_sees_the_callers_grpc_timeout_as_its_deadline() {
    let mut client = serve().await;
    let mut call = tonic::Request::new(request("seconds_left", json!({})));
    call.set_timeout(Duration::from_secs(60));
    let answer = client.execute_tool(call).await.unwrap().into_inner();
    assert!(answer.success, "{}", answer.error_message);
    let left: u64 = serde_json::from_slice(&answer.result.unwrap().value).unwrap();
    assert!((50..60).contains(&left), "{left} s left");
    let answer = client
        .execute_tool(request("seconds_left", json!({})))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        answer.result.unwrap().value,
        b"null",
        "no grpc-timeout, no deadline"
    );
}

#[test]
fn hand_built_definitions_register_as_the_macro_s_do() {
    use snakepit_bridge::worker::{ParameterDefinition, ToolDefinition};

    // The schemas come from schemars through the macro's probes; the rest is the builders'.
    let without_schemas = |mut tool: ToolDefinition| {
        tool.result_schema = None;
        for parameter in &mut tool.parameters {
            parameter.schema = None;
        }
        tool.to_host_tool()
    };
    struct Rest;
    #[worker_tools]
    impl Rest {
        /// Counts the options.
        pub fn options(
            &self,
            label: Option<String>,
            #[param(rest)] options: serde_json::Map<String, Value>,
        ) -> Res<usize> {
            Ok(label.map_or(0, |_| 1) + options.len())
        }
    }
    let by_macro = |name: &str| {
        Tools::tool_definitions()
            .into_iter()
            .chain(Rest::tool_definitions())
            .find(|tool| tool.name == name)
            .map(without_schemas)
            .unwrap()
    };
    let by_hand = [
        ToolDefinition::new("count", "Streams the numbers from 1 to `n`.")
            .streaming()
            .with_parameter(ParameterDefinition::new("n", "integer")),
        ToolDefinition::new("maybe_bytes", "").with_parameter(
            ParameterDefinition::new("data", "bytes")
                .binary()
                .optional(),
        ),
        ToolDefinition::new("options", "Counts the options.")
            .with_parameter(ParameterDefinition::new("label", "string").optional())
            .with_parameter(ParameterDefinition::new("options", "map").rest()),
        ToolDefinition::new("type", "")
            .with_method("r#type")
            .with_parameter(ParameterDefinition::new("in", "integer")),
    ];
    for tool in by_hand {
        let name = tool.name.clone();
        assert_eq!(without_schemas(tool), by_macro(&name), "tool `{name}`");
    }
}

/// A hand-written `ToolSet` whose definitions the host could not take: two tools of one name,
/// one with a name the host refuses.
struct Misdefined;

impl snakepit_bridge::worker::ToolSet for Misdefined {
    fn tool_definitions() -> Vec<snakepit_bridge::worker::ToolDefinition> {
        use snakepit_bridge::worker::ToolDefinition;
        vec![
            ToolDefinition::new("lookup", "Looks up."),
            ToolDefinition::new("lookup", "Looks up again."),
            ToolDefinition::new("look up", "A space."),
        ]
    }

    fn type_name() -> &'static str {
        "Misdefined"
    }

    fn invoke(
        self: &Arc<Self>,
        call: snakepit_bridge::worker::ToolCall,
    ) -> Result<snakepit_bridge::worker::Invocation, ToolError> {
        Err(ToolError::unknown_tool::<Self>(call.tool_name()))
    }
}

#[tokio::test]
async fn a_hand_written_tool_set_the_host_could_not_take_stops_the_worker_naming_each_problem() {
    let error = snakepit_bridge::worker::Worker::new(Misdefined)
        .serve()
        .await
        .expect_err("the worker must not serve these tools");
    assert!(
        matches!(error, snakepit_bridge::worker::WorkerError::InvalidTools(_)),
        "{error:?}"
    );
    let text = error.to_string();
    for expected in [
        "the tool definitions of `Misdefined` cannot be served",
        "two tools are named `lookup`",
        "tool `look up`: a tool name may contain only ASCII letters",
        "fix what its `tool_definitions()` returns",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is missing from: {text}"
        );
    }
}
