//! Property tests: any JSON parameter value survives encoding, the host's decoding, the host's
//! re-encoding and the client's decoding unchanged: integers across the whole i64/u64 range,
//! finite floats exactly, any Unicode text.

use crate::common;

use proptest::prelude::*;
use serde_json::{Map, Value};
use snakepit_bridge::testkit::host::{ElixirTool, EmbeddedHost};
use snakepit_bridge::{Parameters, SessionContext};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON carries finite floats", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn parameters() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-z_]{1,12}", json_value(), 0..6)
        .prop_map(|map| map.into_iter().collect())
}

proptest! {
    #[test]
    fn each_parameter_encodes_to_json_that_decodes_to_itself(params in parameters()) {
        let encoded = Parameters::from_serialize(&params).unwrap();
        prop_assert_eq!(encoded.len(), params.len());
        for (name, value) in &params {
            let decoded: Value = serde_json::from_slice(encoded.json(name).unwrap()).unwrap();
            prop_assert_eq!(&decoded, value);
        }
        let mut one_by_one = Parameters::new();
        for (name, value) in &params {
            one_by_one.insert(name, value).unwrap();
        }
        prop_assert_eq!(one_by_one, encoded);
    }
}

#[test]
fn parameters_round_trip_through_the_host_unchanged() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let echo = ElixirTool::new("echo", |params| Ok(Value::Object(params)));
    let host = runtime
        .block_on(
            EmbeddedHost::builder()
                .tool(echo)
                .session(common::SESSION)
                .start(),
        )
        .unwrap();
    let ctx = runtime
        .block_on(
            // Random parameter names: the tool declares none, so the names are not checked.
            SessionContext::builder(host.grpc_address(), common::SESSION)
                .check_parameters(false)
                .connect(),
        )
        .unwrap();

    let config = ProptestConfig {
        cases: 64,
        // The saved failures beside this file (round_trip_properties.proptest-regressions).
        // Proptest's default looks for them in tests/proptest-regressions/ instead, since this
        // folder holds a main.rs.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    };
    proptest!(config, |(params in parameters())| {
        let echoed = runtime.block_on(ctx.call_elixir_tool("echo", &params)).unwrap();
        prop_assert_eq!(echoed, Value::Object(params));
    });
}
