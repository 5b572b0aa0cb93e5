//! `#[elixir_tools]` traits against the embedded host over TCP, async and blocking, and
//! against a fake caller with no host at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::common::{demo_host_and_context, SESSION};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use snakepit_bridge::schemars::JsonSchema;
use snakepit_bridge::testkit::host::{ElixirTool, ElixirToolOutput, EmbeddedHost};
use snakepit_bridge::{
    elixir_tools, DeclaredTools, Error, MismatchKind, Parameters, SessionContext, ToolCaller,
    ToolResponse, ValueKind,
};

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct Fibonacci {
    pub n: u32,
    pub sequence: Vec<u64>,
    pub sum: u64,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct ListResult {
    pub list: Vec<f64>,
    pub operation: String,
    pub result: Value,
}

/// Tools the Elixir host exposes to this worker.
#[elixir_tools]
pub trait DemoTools {
    /// Calculate the first `n` Fibonacci numbers.
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;

    async fn parse_json(&self, json_string: &str) -> Result<serde_json::Value, Error>;

    #[tool(name = "process_list")]
    async fn sum(&self, list: &[i64], operation: Option<&str>) -> Result<ListResult, Error>;
}

#[tokio::test]
async fn the_issue_example_calls_the_demo_tools_with_typed_results() {
    let (_host, ctx) = demo_host_and_context().await;
    let fib = ctx.calculate_fibonacci(12).await.unwrap();
    assert_eq!(fib.sequence, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
    assert_eq!(fib.sum, 232);
    let parsed = ctx.parse_json(r#"{"a": 1}"#).await.unwrap();
    assert_eq!(parsed["keys"], json!(["a"]));
    let max = ctx.sum(&[3, 9, 4], Some("max")).await.unwrap();
    assert_eq!((max.operation.as_str(), &max.result), ("max", &json!(9)));
    let default = ctx.sum(&[3, 9, 4], None).await.unwrap();
    assert_eq!(
        (default.operation.as_str(), &default.result),
        ("sum", &json!(16))
    );
}

#[tokio::test]
async fn none_leaves_the_parameter_out_of_the_request() {
    let (host, ctx) = demo_host_and_context().await;
    ctx.sum(&[1], None).await.unwrap();
    ctx.sum(&[1], Some("min")).await.unwrap();
    let calls = host.recorded_calls();
    assert_eq!(calls[0].parameters.keys().collect::<Vec<_>>(), ["list"]);
    assert_eq!(
        calls[1].parameters.keys().collect::<Vec<_>>(),
        ["list", "operation"]
    );
    assert_eq!(calls[1].parameters["operation"].value, b"\"min\"");
}

#[test]
fn the_blocking_twin_calls_the_same_tools() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let host = runtime
        .block_on(
            EmbeddedHost::builder()
                .tools(snakepit_bridge::testkit::host::demo_tools())
                .session(SESSION)
                .start(),
        )
        .unwrap();
    let ctx =
        snakepit_bridge::blocking::SessionContext::connect(host.grpc_address(), SESSION).unwrap();
    assert_eq!(
        DemoToolsBlocking::calculate_fibonacci(&ctx, 5).unwrap().sum,
        7
    );
    assert_eq!(ctx.sum(&[1, 2], Some("mean")).unwrap().result, json!(1.5));
    ctx.verify::<DemoToolsDeclaration>().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_can_be_spawned_from_generic_code() {
    async fn fan_out<T: DemoTools + Clone + Send + Sync + 'static>(tools: T) -> u64 {
        let tasks: Vec<_> = (1..=10)
            .map(|n| {
                let tools = tools.clone();
                tokio::spawn(async move { tools.calculate_fibonacci(n).await.unwrap().sum })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    }
    let (_host, ctx) = demo_host_and_context().await;
    // Sums of the first 1..=10 Fibonacci numbers: F(n+1) - 1.
    assert_eq!(
        fan_out(ctx).await,
        [0, 1, 2, 4, 7, 12, 20, 33, 54, 88].iter().sum::<u64>()
    );
}

// Every argument and result shape, against an echo tool that returns its parameters.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug)]
pub enum AppError {
    Bridge(Error),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Bridge(error)
    }
}

pub type EchoResult = Result<Value, Error>;

#[elixir_tools]
pub trait ShapeTools {
    #[tool(name = "echo_owned")]
    async fn owned(&self, text: String, count: u64, ratio: f64, flag: bool)
        -> Result<Value, Error>;

    #[tool(name = "echo_borrowed")]
    async fn borrowed(&self, text: &str, items: &[u8], point: &Point) -> Result<Value, Error>;

    #[tool(name = "echo_collections")]
    async fn collections(
        &self,
        list: Vec<String>,
        map: HashMap<String, i32>,
        sorted: &BTreeMap<String, bool>,
        anything: Value,
    ) -> Result<Value, Error>;

    #[tool(name = "echo_renamed")]
    async fn renamed(&self, #[param(rename = "type")] kind: &str, r#in: Option<u8>) -> EchoResult;

    #[tool(name = "echo_nothing")]
    async fn nothing(&self) -> Result<(), AppError>;

    #[tool(name = "echo_raw")]
    async fn raw(&self, tag: &str) -> Result<snakepit_bridge::ToolResponse, Error>;

    #[tool(name = "echo_typed_point")]
    async fn typed_point(&self, x: f64, y: f64) -> Result<Point, AppError>;

    #[tool(name = "echo_wrong_shape")]
    async fn wrong_shape(&self, x: &str) -> Result<Vec<u8>, Error>;
}

const SHAPES: [&str; 8] = [
    "owned",
    "borrowed",
    "collections",
    "renamed",
    "nothing",
    "raw",
    "typed_point",
    "wrong_shape",
];

/// A host whose `echo_<shape>` tools answer with their parameters (`raw`'s with bytes too).
fn echo_host() -> EmbeddedHost {
    let tools = SHAPES.map(|shape| {
        ElixirTool::new(format!("echo_{shape}"), move |params| {
            if shape == "raw" {
                return Ok(ElixirToolOutput::Binary {
                    data: vec![1, 2, 3].into(),
                    info: Value::Object(params),
                });
            }
            Ok(ElixirToolOutput::Json(Value::Object(params)))
        })
    });
    futures_block_on(
        EmbeddedHost::builder()
            .tools(tools)
            .session(SESSION)
            .start(),
    )
    .unwrap()
}

fn futures_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_argument_shape_travels_as_json() {
    let host = echo_host();
    // The echo tools declare no parameters: every argument shape is sent unchecked.
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .check_parameters(false)
        .connect()
        .await
        .unwrap();

    assert_eq!(
        ctx.owned("héllo".into(), u64::MAX, 0.25, true)
            .await
            .unwrap(),
        json!({"text": "héllo", "count": u64::MAX, "ratio": 0.25, "flag": true})
    );
    assert_eq!(
        ctx.borrowed("t", &[1, 2], &Point { x: 1.5, y: -2.0 })
            .await
            .unwrap(),
        json!({"text": "t", "items": [1, 2], "point": {"x": 1.5, "y": -2.0}})
    );
    assert_eq!(
        ctx.collections(
            vec!["a".into()],
            [("k".to_owned(), -1)].into(),
            &[("b".to_owned(), true)].into(),
            json!([null])
        )
        .await
        .unwrap(),
        json!({"list": ["a"], "map": {"k": -1}, "sorted": {"b": true}, "anything": [null]})
    );
    assert_eq!(
        ctx.renamed("x", Some(7)).await.unwrap(),
        json!({"type": "x", "in": 7})
    );
    assert_eq!(ctx.renamed("x", None).await.unwrap(), json!({"type": "x"}));
    ctx.nothing().await.unwrap();
    let raw = ctx.raw("t").await.unwrap();
    assert_eq!(&raw.binary_result()[..], &[1, 2, 3]);
    assert_eq!(raw.value().unwrap(), json!({"tag": "t"}));
    assert_eq!(
        ctx.typed_point(1.0, 2.0).await.unwrap(),
        Point { x: 1.0, y: 2.0 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_convert_into_the_declared_error_type() {
    let host = echo_host();
    // The echo tools declare no parameters: every argument shape is sent unchecked.
    let ctx = SessionContext::builder(host.grpc_address(), SESSION)
        .check_parameters(false)
        .connect()
        .await
        .unwrap();
    let error = ctx.wrong_shape("x").await.unwrap_err();
    assert!(
        matches!(&error, Error::UnexpectedResult { tool, .. } if tool == "echo_wrong_shape"),
        "{error:?}"
    );
    let error = ctx.typed_point(f64::NAN, 0.0).await.unwrap_err();
    assert!(
        matches!(&error, AppError::Bridge(Error::InvalidParameters { parameter: Some(p), .. }) if p == "x"),
        "{error:?}"
    );
    assert!(
        host.recorded_calls().len() == 1,
        "the NaN call is never sent"
    );
}

// A worker's logic, tested against a fake caller: no host, no network.

/// Finds the largest Fibonacci sum below `limit` using the tools.
async fn largest_sum_below(tools: &impl DemoTools, limit: u64) -> Result<u32, Error> {
    let mut n = 0;
    while tools.calculate_fibonacci(n + 1).await?.sum < limit {
        n += 1;
    }
    Ok(n)
}

#[derive(Default)]
struct FakeHost {
    calls: Mutex<Vec<(String, Value)>>,
}

impl ToolCaller for FakeHost {
    async fn call_tool(&self, tool: &str, parameters: Parameters) -> Result<ToolResponse, Error> {
        let params = Value::Object(parameters.to_json_object().unwrap());
        self.calls
            .lock()
            .unwrap()
            .push((tool.to_owned(), params.clone()));
        match tool {
            "calculate_fibonacci" => {
                let n: u32 = parameters.decode("n").unwrap();
                let mut seq = vec![0u64, 1];
                while seq.len() < n as usize {
                    seq.push(seq[seq.len() - 1] + seq[seq.len() - 2]);
                }
                seq.truncate(n as usize);
                let sum = seq.iter().sum::<u64>();
                ToolResponse::from_json(tool, &json!({"n": n, "sequence": seq, "sum": sum}))
            }
            other => Err(Error::ToolFailed {
                tool: other.to_owned(),
                message: "not faked".into(),
            }),
        }
    }
}

#[tokio::test]
async fn worker_logic_runs_against_a_fake_caller() {
    let fake = FakeHost::default();
    assert_eq!(largest_sum_below(&fake, 20).await.unwrap(), 6);
    {
        let calls = fake.calls.lock().unwrap();
        assert_eq!(calls.len(), 7);
        assert_eq!(
            calls[0],
            ("calculate_fibonacci".to_owned(), json!({"n": 1}))
        );
    }
    let error = fake.parse_json("{}").await.unwrap_err();
    assert!(matches!(error, Error::ToolFailed { .. }));
}

// The declared tools as data, verified against the host, and documented.

#[test]
fn the_declaration_describes_each_tool() {
    let tools = DemoToolsDeclaration::tools();
    assert_eq!(DemoToolsDeclaration::TRAIT_NAME, "DemoTools");
    let names: Vec<_> = tools
        .iter()
        .map(|t| (t.name.as_str(), t.method.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("calculate_fibonacci", "calculate_fibonacci"),
            ("parse_json", "parse_json"),
            ("process_list", "sum")
        ]
    );
    let fib = &tools[0];
    assert_eq!(
        fib.description,
        "Calculate the first `n` Fibonacci numbers."
    );
    assert_eq!(fib.parameters[0].kind, ValueKind::Integer);
    assert_eq!(fib.parameters[0].schema["type"], "integer");
    assert_eq!(fib.result_type, "Fibonacci");
    assert_eq!(fib.result_schema["properties"]["sequence"]["type"], "array");
    let sum = &tools[2];
    assert_eq!(sum.parameters[0].rust_type, "&[i64]");
    assert_eq!(sum.parameters[0].kind, ValueKind::List);
    assert!(!sum.parameters[1].required);
    assert_eq!(sum.parameters[1].rust_type, "&str");

    let shapes = ShapeToolsDeclaration::tools();
    let renamed = shapes.iter().find(|t| t.method == "renamed").unwrap();
    assert_eq!(renamed.parameters[0].name, "type");
    assert_eq!(renamed.parameters[0].argument, "kind");
    assert_eq!(renamed.result_type, "EchoResult");
    let raw = shapes.iter().find(|t| t.method == "raw").unwrap();
    assert_eq!(raw.result_schema, json!(true));
}

#[tokio::test]
async fn verify_passes_against_the_demo_host_and_lists_every_mismatch_otherwise() {
    let (_host, ctx) = demo_host_and_context().await;
    ctx.verify::<DemoToolsDeclaration>().await.unwrap();

    let error = ctx.verify::<ShapeToolsDeclaration>().await.unwrap_err();
    let Error::Mismatch {
        declaration,
        mismatches,
    } = &error
    else {
        panic!("expected a mismatch, got {error:?}");
    };
    assert_eq!(declaration, "ShapeTools");
    assert_eq!(
        mismatches.len(),
        ShapeToolsDeclaration::tools().len(),
        "one missing tool per method"
    );
    assert!(mismatches
        .iter()
        .all(|m| matches!(m.kind, MismatchKind::MissingTool { .. })));
    assert!(
        error
            .to_string()
            .contains("method `owned`: the host exposes no tool `echo_owned`"),
        "{error}"
    );
}

/// In a module of its own: its `calculate_fibonacci` would make `DemoTools`' ambiguous.
mod drifted {
    use serde_json::Value;
    use snakepit_bridge::{elixir_tools, Error};

    #[elixir_tools]
    pub trait DriftedTools {
        async fn calculate_fibonacci(&self, n: &str) -> Result<Value, Error>;
        #[tool(name = "process_list")]
        async fn process(&self, items: Vec<i64>) -> Result<Value, Error>;
    }
}

#[tokio::test]
async fn verify_reports_parameter_and_type_drift() {
    let (_host, ctx) = demo_host_and_context().await;
    let Err(Error::Mismatch { mismatches, .. }) =
        ctx.verify::<drifted::DriftedToolsDeclaration>().await
    else {
        panic!("expected mismatches");
    };
    let kinds: Vec<_> = mismatches
        .iter()
        .map(|m| (m.method.as_str(), &m.kind))
        .collect();
    assert!(
        matches!(
            kinds[0],
            (
                "calculate_fibonacci",
                MismatchKind::IncompatibleType {
                    declared: ValueKind::String,
                    ..
                }
            )
        ),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds[1], ("process", MismatchKind::UnknownParameter { .. })),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds[2], ("process", MismatchKind::MissingParameter { parameter, .. }) if parameter == "list"),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3);
}

#[test]
fn the_markdown_reference_documents_each_tool() {
    let text = DemoToolsDeclaration::markdown();
    assert!(text.starts_with("# DemoTools\n"), "{text}");
    assert!(
        text.contains("## `process_list`\n\nRust method: `sum`"),
        "{text}"
    );
    assert!(text.contains("| `n` | integer | yes | `u32` |"), "{text}");
    assert!(
        text.contains("| `operation` | string | no | `&str` |"),
        "{text}"
    );
    assert!(text.contains("Result: `Fibonacci`"), "{text}");
}
