//! The client against a real snakepit v0.13.0 host: snakepit's own BridgeServer
//! (`deps/snakepit/lib/snakepit/grpc/bridge_server.ex` in the bundle) with the demo tools of
//! its `examples/bidirectional_tools_demo.exs`, started once for this test binary by the
//! bundle's `host/start.sh` (see `common/real_host.rs`).
//!
//! Skips, saying so, when `SNAKEPIT_VENDOR` is unset (`source .../snakepit-0.13.0/env.sh`);
//! `SNAKEPIT_REQUIRE_REAL_HOST=1` makes that a failure.

use crate::common::real_host;
use crate::real_host_or_skip;

use real_host::DEMO_SESSION;
use serde::Deserialize;
use serde_json::{json, Value};
use snakepit_bridge::schemars::JsonSchema;
use snakepit_bridge::{elixir_tools, Error, MismatchKind, SessionContext};

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
    pub list: Vec<i64>,
    pub operation: String,
    pub result: Value,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct Parsed {
    pub success: bool,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub size: usize,
    #[serde(default)]
    pub error: Option<String>,
}

/// The demo tools, checked at build time against the committed snapshot of the demo host.
#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait DemoTools {
    /// Calculate the first `n` Fibonacci numbers.
    async fn calculate_fibonacci(&self, n: u32) -> Result<Fibonacci, Error>;

    async fn parse_json(&self, json_string: &str) -> Result<Parsed, Error>;

    #[tool(name = "process_list")]
    async fn list(&self, list: &[i64], operation: Option<&str>) -> Result<ListResult, Error>;
}

/// A trait the demo host does not satisfy: a missing tool, a parameter it does not take, and
/// a wrong type. Declared without a manifest, so that only `verify` catches it; in a module of
/// its own, so that its methods do not clash with `DemoTools`'.
mod wrong {
    use serde_json::Value;
    use snakepit_bridge::{elixir_tools, Error};

    #[elixir_tools]
    pub trait WrongTools {
        async fn calculate_fibonacci(&self, n: u32, memo: bool) -> Result<Value, Error>;

        async fn parse_json(&self, json_string: i64) -> Result<Value, Error>;

        async fn no_such_tool(&self) -> Result<Value, Error>;
    }
}

async fn context(host: &real_host::RealHost) -> SessionContext {
    SessionContext::connect(host.address(), DEMO_SESSION)
        .await
        .unwrap_or_else(|error| panic!("connecting to the real host: {error}"))
}

#[tokio::test]
async fn lists_the_demo_tools_as_the_committed_manifest_says() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;
    let tools = ctx.elixir_tools().await.unwrap();
    let mut names: Vec<_> = tools.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["calculate_fibonacci", "parse_json", "process_list"]);
    let list = &tools["process_list"];
    let params: Vec<_> = list
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.type_name.as_str(), p.required))
        .collect();
    assert_eq!(
        params,
        [("list", "array", true), ("operation", "string", false)]
    );
    assert_eq!(list.description, "Process a list with various operations");
}

#[tokio::test]
async fn calls_every_demo_tool_with_good_parameters() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;

    let fib = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 12}))
        .await
        .unwrap();
    assert_eq!(
        fib,
        json!({"n": 12, "sequence": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89], "sum": 232})
    );

    let parsed = ctx
        .call_elixir_tool(
            "parse_json",
            json!({"json_string": r#"{"a": 1, "b": [true]}"#}),
        )
        .await
        .unwrap();
    assert_eq!(
        parsed,
        json!({"success": true, "data": {"a": 1, "b": [true]}, "keys": ["a", "b"], "size": 2})
    );

    let summed = ctx
        .call_elixir_tool("process_list", json!({"list": [3, 9, 4]}))
        .await
        .unwrap();
    assert_eq!(
        summed,
        json!({"list": [3, 9, 4], "operation": "sum", "result": 16})
    );
    for (operation, result) in [
        ("max", json!(9)),
        ("min", json!(3)),
        ("mean", json!(16.0 / 3.0)),
        ("reverse", json!([4, 9, 3])),
    ] {
        let answer = ctx
            .call_elixir_tool(
                "process_list",
                json!({"list": [3, 9, 4], "operation": operation}),
            )
            .await
            .unwrap();
        assert_eq!(answer["result"], result, "operation {operation}");
        assert_eq!(answer["operation"], operation);
    }

    // The whole answer: the host's execution time comes with the result.
    let raw = ctx
        .call_elixir_tool_raw("calculate_fibonacci", json!({"n": 3}))
        .await
        .unwrap();
    assert_eq!(raw.value().unwrap()["sum"], 2);
}

#[tokio::test]
async fn a_typed_trait_calls_the_real_host() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;
    ctx.verify::<DemoToolsDeclaration>()
        .await
        .expect("the demo trait matches the real host");

    let fib = ctx.calculate_fibonacci(12).await.unwrap();
    assert_eq!(fib.sequence, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
    assert_eq!(fib.sum, 232);
    let parsed = ctx.parse_json(r#"{"k": "v"}"#).await.unwrap();
    assert!(parsed.success);
    assert_eq!(parsed.keys, ["k"]);
    assert_eq!(parsed.data, json!({"k": "v"}));
    let reversed = ctx.list(&[1, 2, 3], Some("reverse")).await.unwrap();
    assert_eq!(reversed.result, json!([3, 2, 1]));
    let summed = ctx.list(&[1, 2, 3], None).await.unwrap();
    assert_eq!(
        (summed.operation.as_str(), summed.result),
        ("sum", json!(6))
    );
}

#[tokio::test]
async fn verify_lists_every_mismatch_with_the_real_host() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;
    let Err(Error::Mismatch { mismatches, .. }) =
        ctx.verify::<wrong::WrongToolsDeclaration>().await
    else {
        panic!("a trait the host does not satisfy must fail verify");
    };
    let kinds: Vec<String> = mismatches
        .iter()
        .map(|m| format!("{} {:?}", m.tool, m.kind))
        .collect();
    let has = |tool: &str, pred: &dyn Fn(&MismatchKind) -> bool| {
        mismatches.iter().any(|m| m.tool == tool && pred(&m.kind))
    };
    assert!(
        has("no_such_tool", &|k| matches!(
            k,
            MismatchKind::MissingTool { .. }
        )),
        "{kinds:#?}"
    );
    assert!(
        has("calculate_fibonacci", &|k| matches!(
            k,
            MismatchKind::UnknownParameter { .. }
        )),
        "{kinds:#?}"
    );
    assert!(
        has("parse_json", &|k| matches!(
            k,
            MismatchKind::IncompatibleType { .. }
        )),
        "{kinds:#?}"
    );
}

#[tokio::test]
async fn parameters_the_host_does_not_take_are_refused_before_sending() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;

    let unknown = ctx
        .call_elixir_tool("calculate_fibonacci", json!({"n": 5, "memo": true}))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, Error::InvalidParameters { tool, parameter: Some(p), .. }
            if tool == "calculate_fibonacci" && p == "memo"),
        "{unknown:?}"
    );
    let missing = ctx
        .call_elixir_tool("calculate_fibonacci", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, Error::InvalidParameters { parameter: Some(p), .. } if p == "n"),
        "{missing:?}"
    );

    // The same calls unchecked reach the host, which runs them (an unknown parameter is
    // ignored, a missing `n` is 10: `Map.get(params, "n", 10)`). So the refusals above came from
    // the client, before anything was sent: the host never answers InvalidParameters.
    let unchecked = SessionContext::builder(host.address(), DEMO_SESSION)
        .check_parameters(false)
        .connect()
        .await
        .unwrap();
    let ran = unchecked
        .call_elixir_tool("calculate_fibonacci", json!({"n": 5, "memo": true}))
        .await
        .unwrap();
    assert_eq!(ran["sum"], 7);
    let defaulted = unchecked
        .call_elixir_tool("calculate_fibonacci", json!({}))
        .await
        .unwrap();
    assert_eq!(defaulted["n"], 10);
}

#[tokio::test]
async fn an_unknown_tool_is_tool_not_found_with_a_suggestion() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;
    let error = ctx
        .call_elixir_tool("calculate_fibonaci", json!({"n": 1}))
        .await
        .unwrap_err();
    let Error::ToolNotFound {
        tool,
        session,
        available,
        suggestion,
    } = &error
    else {
        panic!("expected ToolNotFound, got {error:?}");
    };
    assert_eq!(tool, "calculate_fibonaci");
    assert_eq!(session, DEMO_SESSION);
    assert_eq!(
        available,
        &["calculate_fibonacci", "parse_json", "process_list"]
    );
    assert_eq!(suggestion.as_deref(), Some("calculate_fibonacci"));

    // In a session the host does not know, the list is empty (snakepit answers no error).
    let elsewhere = SessionContext::connect(host.address(), real_host::unique_session("nobody"))
        .await
        .unwrap();
    let error = elsewhere
        .call_elixir_tool("calculate_fibonacci", json!({"n": 1}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ToolNotFound { available, .. } if available.is_empty()),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_tool_failing_on_the_host_is_tool_failed_with_the_hosts_text() {
    let host = real_host_or_skip!();
    let ctx = context(host).await;
    // parse_json answers a JSON error as a result...
    let parsed = ctx.parse_json("not json").await.unwrap();
    assert!(!parsed.success);
    assert_eq!(
        parsed.error.as_deref(),
        Some(
            r#"Failed to parse JSON: %Jason.DecodeError{position: 0, token: nil, data: "not json"}"#
        )
    );
    // ...and raises on valid JSON that is not an object (`Map.keys/1` of a list).
    let error = ctx.parse_json("[1, 2]").await.unwrap_err();
    let Error::ToolFailed { tool, message } = &error else {
        panic!("expected ToolFailed, got {error:?}");
    };
    assert_eq!(tool, "parse_json");
    assert_eq!(
        message,
        "Tool execution failed: expected a map, got: [1, 2]"
    );

    // A list of strings cannot be summed.
    let error = ctx
        .call_elixir_tool("process_list", json!({"list": ["a"]}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ToolFailed { message, .. }
            if message == "Tool execution failed: bad argument in arithmetic expression"),
        "{error:?}"
    );

    // An unknown operation gives a result snakepit cannot encode: its printed term.
    let error = ctx
        .call_elixir_tool("process_list", json!({"list": [1], "operation": "median"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UndecodableResult { raw, .. }
            if raw == r#"%{list: [1], operation: "median", result: {:error, "Unknown operation: median"}}"#),
        "{error:?}"
    );
}

#[tokio::test]
async fn session_rpcs_on_a_session_of_its_own() {
    let host = real_host_or_skip!();
    let id = real_host::unique_session("rpcs");
    let ctx = SessionContext::connect(host.address(), &id).await.unwrap();
    assert_eq!(ctx.ping("hi").await.unwrap(), "pong: hi");
    assert!(!ctx.heartbeat().await.unwrap(), "not created yet");
    let error = ctx.get_session().await.unwrap_err();
    assert!(
        matches!(&error, Error::Status { .. }),
        "an unknown session is a NotFound status: {error:?}"
    );
    let tools = ctx
        .initialize_session([("who", "real_host.rs")])
        .await
        .unwrap();
    assert!(tools.is_empty(), "snakepit lists no tools in its answer");
    assert!(ctx.heartbeat().await.unwrap());
    let info = ctx.get_session().await.unwrap();
    assert_eq!(info.session_id, id);
    assert_eq!(info.metadata["who"], "real_host.rs");
    // A new session holds no Elixir tools: the demo tools are registered in the demo session.
    assert!(ctx.elixir_tools().await.unwrap().is_empty());
}

#[test]
fn the_blocking_context_lists_and_calls_the_real_host() {
    let host = real_host_or_skip!();
    let ctx =
        snakepit_bridge::blocking::SessionContext::connect(host.address(), DEMO_SESSION).unwrap();
    assert_eq!(ctx.elixir_tools().unwrap().len(), 3);
    let result = ctx
        .call_elixir_tool(
            "process_list",
            json!({"list": [4, 9, 2], "operation": "max"}),
        )
        .unwrap();
    assert_eq!(result["result"], json!(9));
    assert_eq!(
        DemoToolsBlocking::calculate_fibonacci(&ctx, 12)
            .unwrap()
            .sum,
        232
    );
    assert_eq!(ctx.list(&[1, 2], Some("mean")).unwrap().result, json!(1.5));
    ctx.verify::<DemoToolsDeclaration>().unwrap();
    let error = ctx.call_elixir_tool("nope", json!({})).unwrap_err();
    assert!(matches!(error, Error::ToolNotFound { .. }), "{error:?}");
    let error = ctx
        .call_elixir_tool("parse_json", json!({"json_string": "{}", "extra": 1}))
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidParameters { parameter: Some(p), .. } if p == "extra"),
        "{error:?}"
    );
}
