//! The embedded host follows the one set of wire rules: integers exact at any width or refused
//! naming them (never rounded), non-finite floats in what its tools return refused with their
//! path (never sent as `null`).

use crate::common::host_and_context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use snakepit_bridge::testkit::host::{demo_tools, ElixirTool};

#[derive(Serialize)]
struct Stats {
    count: u32,
    points: Vec<f64>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Wide {
    big: u128,
}

#[tokio::test]
async fn a_non_finite_float_in_a_tool_result_fails_the_call_naming_the_tool_and_path() {
    let stats = ElixirTool::new("stats", |_| {
        Ok(Stats {
            count: 2,
            points: vec![1.0, f64::INFINITY],
        })
    });
    let (_host, ctx) = host_and_context(vec![stats]).await;
    let error = ctx
        .call_elixir_tool("stats", json!({}))
        .await
        .expect_err("refused, not sent as null")
        .to_string();
    assert!(
        error.contains(
            "tool `stats` returned a result the host cannot send: the result holds a infinite \
             (inf) float at `points[1]`"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn integers_wider_than_64_bits_in_a_tool_result_are_sent_exactly() {
    let wide = ElixirTool::new("wide", |_| Ok(Wide { big: 1 << 70 }));
    let (_host, ctx) = host_and_context(vec![wide]).await;
    let exact: Wide = ctx
        .call_elixir_tool_as("wide", &json!({}))
        .await
        .expect("exact into u128");
    assert_eq!(exact, Wide { big: 1 << 70 });
}

#[tokio::test]
async fn a_wide_integer_parameter_is_refused_naming_it_never_rounded() {
    let (host, ctx) = host_and_context(demo_tools()).await;
    #[derive(Serialize)]
    struct Params {
        list: Vec<u128>,
    }
    let error = ctx
        .call_elixir_tool_as::<Value, _>(
            "process_list",
            &Params {
                list: vec![1, 1 << 70],
            },
        )
        .await
        .expect_err("refused by the embedded host")
        .to_string();
    assert!(
        error.contains(
            "Invalid parameter list: the integer 1180591620717411303424 at `list[1]` is wider \
             than 64 bits"
        ),
        "{error}"
    );
    drop(host);
}

#[tokio::test]
async fn the_demo_tools_compute_as_elixir_does_past_64_bits() {
    let (_host, ctx) = host_and_context(demo_tools()).await;
    // Enum.sum/1 of two u64::MAX: exact, past 64 bits.
    #[derive(Deserialize)]
    struct Answer {
        result: u128,
    }
    let answer: Answer = ctx
        .call_elixir_tool_as(
            "process_list",
            &json!({"list": [u64::MAX, u64::MAX], "operation": "sum"}),
        )
        .await
        .expect("exact sum");
    assert_eq!(answer.result, 2 * u128::from(u64::MAX));
    // A float sum past the largest float raises in Erlang; it is never `null` or infinite.
    let error = ctx
        .call_elixir_tool("process_list", json!({"list": [1e308, 1e308]}))
        .await
        .expect_err("an arithmetic error")
        .to_string();
    assert!(
        error.contains("bad argument in arithmetic expression"),
        "{error}"
    );
}
