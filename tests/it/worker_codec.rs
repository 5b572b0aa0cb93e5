//! The worker follows the client's value rules: a parameter's integer wider than 64 bits is
//! exact where the tool's type can hold it and refused (naming the tool, the parameter and the
//! path) where it cannot, never rounded; a result or a chunk holding NaN or an infinite float
//! fails the call (naming the tool and the path), never reaches the host as `null`.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use snakepit_bridge::worker::Answer;
use snakepit_bridge::worker::{run_tool, ToolCall, ToolError};
use snakepit_bridge::worker_tools;
use tokio_stream::{Stream, StreamExt};

type Res<T> = Result<T, ToolError>;

/// 2^70: wider than 64 bits.
const WIDE: &str = "1180591620717411303424";

#[derive(Serialize)]
struct Shape {
    points: Vec<f64>,
}

struct Tools;

#[worker_tools]
impl Tools {
    /// The showcase's `echo`: every parameter back.
    pub async fn echo(&self, #[param(rest)] kwargs: Map<String, Value>) -> Res<Value> {
        Ok(serde_json::json!({ "echoed": kwargs }))
    }

    pub fn value(&self, x: Value) -> Res<Value> {
        Ok(x)
    }

    pub fn values(&self, list: Vec<Value>, maybe: Option<Value>) -> Res<Value> {
        Ok(serde_json::json!([list, maybe]))
    }

    pub fn exact(&self, x: i128, list: Vec<u128>) -> Res<(i128, Vec<u128>)> {
        Ok((x, list))
    }

    pub fn float(&self, x: f64) -> Res<f64> {
        Ok(x)
    }

    /// The showcase's `basic_add`.
    pub async fn basic_add(&self, a: f64, b: f64) -> Res<f64> {
        Ok(a + b)
    }

    pub fn shape(&self, nan_at: usize) -> Res<Shape> {
        let mut points = vec![0.5; 3];
        points[nan_at] = f64::NAN;
        Ok(Shape { points })
    }

    pub fn shapes(&self) -> Result<impl Stream<Item = Res<Shape>>, ToolError> {
        Ok(tokio_stream::iter([
            Ok(Shape { points: vec![1.0] }),
            Ok(Shape {
                points: vec![1.0, f64::NEG_INFINITY],
            }),
        ]))
    }
}

async fn call(tool: &str, parameters: &[(&str, &str)]) -> Result<Answer, ToolError> {
    let call = ToolCall::for_test_wire(tool, parameters.iter().copied(), []);
    run_tool(&Arc::new(Tools), call).await
}

/// The answer's JSON text, exactly as it goes on the wire.
fn wire_text(answer: Answer) -> String {
    match answer {
        Answer::Unary(output) => String::from_utf8(output.json).unwrap(),
        Answer::Stream(_) => panic!("a stream"),
    }
}

fn refused(outcome: Result<Answer, ToolError>) -> ToolError {
    match outcome {
        Ok(answer) => panic!("expected a failed call, got {:?}", wire_text(answer)),
        Err(error) => error,
    }
}

#[tokio::test]
async fn a_wide_integer_in_a_json_value_parameter_is_refused_naming_tool_parameter_and_path() {
    // The showcase's `echo` with {"x": 2^70}: today the tool would answer 1.1805916207174113e21.
    let error = refused(call("echo", &[("x", WIDE)]).await);
    assert_eq!(error.type_name(), "ValueError");
    assert!(
        error.message().starts_with(&format!(
            "tool `echo`: parameter `x` holds the integer {WIDE}, wider than 64 bits"
        )),
        "{}",
        error.message()
    );

    let nested = format!(r#"{{"a":[1,{WIDE}]}}"#);
    for (tool, parameters, path) in [
        ("value", vec![("x", nested.as_str())], "x.a[1]"),
        (
            "values",
            vec![("list", "[1,2]"), ("maybe", nested.as_str())],
            "maybe.a[1]",
        ),
        ("values", vec![("list", &format!("[0,{WIDE}]"))], "list[1]"),
        ("echo", vec![("y", "1"), ("kw", nested.as_str())], "kw.a[1]"),
        // An f64 would round it just the same.
        ("float", vec![("x", WIDE)], "x"),
    ] {
        let error = refused(call(tool, &parameters).await);
        let message = error.message();
        assert!(
            message.starts_with(&format!("tool `{tool}`: parameter `")),
            "{message}"
        );
        assert!(
            message.contains(&format!("the integer {WIDE}")),
            "{message}"
        );
        if path.contains(['.', '[']) {
            assert!(message.contains(&format!("at `{path}`")), "{message}");
        }
        assert!(!message.contains("e21"), "{message}");
    }
}

#[tokio::test]
async fn a_wide_integer_is_exact_where_the_type_holds_it() {
    let list = format!("[{WIDE},340282366920938463463374607431768211455]");
    let answer = call("exact", &[("x", &format!("-{WIDE}")), ("list", &list)])
        .await
        .unwrap();
    assert_eq!(
        wire_text(answer),
        format!("[-{WIDE},[{WIDE},340282366920938463463374607431768211455]]")
    );
    // 64-bit integers and floats still pass through a JSON value untouched.
    let answer = call(
        "value",
        &[(
            "x",
            "[18446744073709551615,-9223372036854775808,1.0e21,0.1]",
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        wire_text(answer),
        "[18446744073709551615,-9223372036854775808,1e+21,0.1]"
    );
}

#[tokio::test]
async fn a_wrong_type_names_the_parameter_without_serdes_position() {
    let error = refused(call("float", &[("x", r#""five""#)]).await);
    assert_eq!(error.type_name(), "TypeError");
    assert_eq!(
        error.message(),
        "tool `float`: parameter `x` has the wrong type: invalid type: string \"five\", expected f64"
    );
}

#[tokio::test]
async fn an_infinite_result_fails_the_call_naming_tool_and_path() {
    // The showcase's `basic_add` with a = b = 1e308: today it answers `null`.
    let error = refused(call("basic_add", &[("a", "1e308"), ("b", "1e308")]).await);
    assert_eq!(error.type_name(), "ValueError");
    assert!(
        error.message().contains("infinite (inf) float at `result`"),
        "{}",
        error.message()
    );
    // On the wire, the message names the tool.
    let wire: Value =
        serde_json::from_str(&error.to_error_message("basic_add", "session_1")).unwrap();
    let message = wire["message"].as_str().unwrap();
    assert!(
        message.starts_with("tool `basic_add`: the result holds an infinite (inf) float"),
        "{message}"
    );
    assert_eq!(wire["context"]["tool_name"], "basic_add");
}

#[tokio::test]
async fn a_nan_inside_a_result_names_its_path() {
    let error = refused(call("shape", &[("nan_at", "1")]).await);
    assert!(
        error.message().contains("NaN float at `result.points[1]`"),
        "{}",
        error.message()
    );
    let wire: Value = serde_json::from_str(&error.to_error_message("shape", "s")).unwrap();
    assert!(
        wire["message"]
            .as_str()
            .unwrap()
            .starts_with("tool `shape`: the result holds a NaN float at `result.points[1]`"),
        "{}",
        wire["message"]
    );
}

#[tokio::test]
async fn a_non_finite_chunk_fails_the_stream_naming_tool_and_path() {
    let Answer::Stream(chunks) = call("shapes", &[]).await.unwrap() else {
        panic!("a stream")
    };
    let chunks: Vec<_> = chunks.collect().await;
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].as_ref().unwrap().data, br#"{"points":[1.0]}"#);
    let error = chunks[1].as_ref().unwrap_err();
    assert_eq!(error.type_name(), "ValueError");
    assert!(
        error
            .message()
            .contains("infinite (-inf) float at `chunk.points[1]`"),
        "{}",
        error.message()
    );
    let wire: Value = serde_json::from_str(&error.to_error_message("shapes", "s")).unwrap();
    assert!(
        wire["message"]
            .as_str()
            .unwrap()
            .starts_with("tool `shapes`: a chunk holds an infinite (-inf) float"),
        "{}",
        wire["message"]
    );
}
