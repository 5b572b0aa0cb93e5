//! What goes on the wire, byte for byte, and how the embedded host answers raw requests: the
//! contract of snakepit v0.13.0's `priv/proto/snakepit_bridge.proto` and
//! `lib/snakepit/grpc/bridge_server.ex`, checked with the generated client.

use crate::common::{self, demo_host, SESSION};

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::{
    ExecuteElixirToolRequest, ExecuteElixirToolResponse, ParameterSpec, RegisterToolsRequest,
    ToolRegistration,
};
use snakepit_bridge::{json_any, JSON_TYPE_URL};

#[tokio::test]
async fn every_parameter_is_raw_json_bytes_under_the_string_value_type_url() {
    #[derive(Serialize)]
    struct Args<'a> {
        text: &'a str,
        count: u64,
        ratio: f64,
        flag: bool,
        list: Vec<i64>,
        nested: HashMap<&'a str, Option<i32>>,
    }
    let host = common::demo_host().await;
    // Parameters `parse_json` does not declare: sent unchecked, the bytes are what matters.
    let ctx = snakepit_bridge::SessionContext::builder(host.grpc_address(), common::SESSION)
        .check_parameters(false)
        .connect()
        .await
        .unwrap();
    let args = Args {
        text: "héllo \"wörld\" ✓",
        count: u64::MAX,
        ratio: 0.1,
        flag: true,
        list: vec![-1, 0, i64::MAX],
        nested: [("none", None)].into(),
    };
    // The demo tool ignores what it does not know; the bytes are what matters here.
    let _ = ctx.call_elixir_tool("parse_json", &args).await;
    let call = host.recorded_calls().pop().expect("one call recorded");
    let bytes = |name: &str| {
        let any = &call.parameters[name];
        assert_eq!(
            any.type_url,
            "type.googleapis.com/google.protobuf.StringValue"
        );
        String::from_utf8(any.value.clone()).unwrap()
    };
    assert_eq!(bytes("text"), r#""héllo \"wörld\" ✓""#);
    assert_eq!(bytes("count"), "18446744073709551615");
    assert_eq!(bytes("ratio"), "0.1");
    assert_eq!(bytes("flag"), "true");
    assert_eq!(bytes("list"), "[-1,0,9223372036854775807]");
    assert_eq!(bytes("nested"), r#"{"none":null}"#);
    assert_eq!(call.parameters.len(), 6);
    assert_eq!(call.session_id, SESSION);
    assert_eq!(call.tool, "parse_json");
}

fn request(session: &str, tool: &str, params: &[(&str, &str, &[u8])]) -> ExecuteElixirToolRequest {
    ExecuteElixirToolRequest {
        session_id: session.to_owned(),
        tool_name: tool.to_owned(),
        parameters: params
            .iter()
            .map(|(name, type_url, bytes)| {
                (
                    name.to_string(),
                    prost_types::Any {
                        type_url: type_url.to_string(),
                        value: bytes.to_vec(),
                    },
                )
            })
            .collect(),
        metadata: HashMap::new(),
    }
}

async fn execute(
    client: &mut BridgeServiceClient<tonic::transport::Channel>,
    request: ExecuteElixirToolRequest,
) -> ExecuteElixirToolResponse {
    client
        .execute_elixir_tool(request)
        .await
        .expect("failures are never gRPC errors")
        .into_inner()
}

#[tokio::test]
async fn the_host_answers_failures_in_the_response_with_snakepits_texts() {
    let host = demo_host().await;
    let mut client = BridgeServiceClient::connect(format!("http://{}", host.address()))
        .await
        .unwrap();

    let missing_session = execute(&mut client, request("nobody", "parse_json", &[])).await;
    assert!(!missing_session.success);
    assert_eq!(missing_session.error_message, "not_found");

    let unknown_tool = execute(&mut client, request(SESSION, "nope", &[])).await;
    assert_eq!(
        unknown_tool.error_message,
        "Tool nope not found for session test-session"
    );

    let not_json = execute(
        &mut client,
        request(
            SESSION,
            "parse_json",
            &[("json_string", JSON_TYPE_URL, b"\n\x02hi")],
        ),
    )
    .await;
    assert!(
        not_json
            .error_message
            .starts_with("Invalid parameter json_string: \""),
        "{}",
        not_json.error_message
    );

    let other_type = execute(
        &mut client,
        request(
            SESSION,
            "parse_json",
            &[("json_string", "type.example/X", b"hi")],
        ),
    )
    .await;
    assert!(
        other_type
            .error_message
            .starts_with("Invalid parameter json_string (type.example/X): "),
        "{}",
        other_type.error_message
    );

    let raised = execute(
        &mut client,
        request(
            SESSION,
            "calculate_fibonacci",
            &[("n", JSON_TYPE_URL, b"\"ten\"")],
        ),
    )
    .await;
    assert_eq!(
        raised.error_message,
        r#"Tool execution failed: ranges (first..last) expect both sides to be integers, got: 3.."ten""#
    );
}

#[tokio::test]
async fn the_host_json_decodes_parameters_whatever_the_type_url_and_encodes_results_compactly() {
    let host = demo_host().await;
    let mut client = BridgeServiceClient::connect(format!("http://{}", host.address()))
        .await
        .unwrap();
    let response = execute(
        &mut client,
        request(
            SESSION,
            "calculate_fibonacci",
            &[("n", "type.googleapis.com/anything", b"4")],
        ),
    )
    .await;
    assert!(response.success, "{}", response.error_message);
    let result = response.result.unwrap();
    assert_eq!(result.type_url, JSON_TYPE_URL);
    assert_eq!(result.value, br#"{"n":4,"sequence":[0,1,1,2],"sum":4}"#);
    assert_eq!(
        response.metadata["execution_time"],
        response.execution_time_ms.to_string()
    );
}

#[tokio::test]
async fn worker_tools_are_registered_atomically_and_are_not_elixir_tools() {
    let host = demo_host().await;
    let mut client = BridgeServiceClient::connect(format!("http://{}", host.address()))
        .await
        .unwrap();
    let registration = |name: &str| ToolRegistration {
        name: name.to_owned(),
        description: "a worker tool".into(),
        parameters: vec![ParameterSpec {
            name: "x".into(),
            r#type: "integer".into(),
            required: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    let register = |tools: Vec<ToolRegistration>| RegisterToolsRequest {
        session_id: SESSION.into(),
        tools,
        worker_id: "w1".into(),
    };

    // A batch with one bad name registers nothing.
    let refused = client
        .register_tools(register(vec![
            registration("good"),
            registration("bad name"),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert!(!refused.success);
    // snakepit's words: `inspect/1` of its ToolRegistry's reason.
    assert_eq!(
        refused.error_message,
        "{:invalid_tool_name, :invalid_format}"
    );
    let accepted = client
        .register_tools(register(vec![registration("good")]))
        .await
        .unwrap()
        .into_inner();
    assert!(accepted.success, "{}", accepted.error_message);
    assert_eq!(accepted.tool_ids["good"], "test-session:good");
    let duplicate = client
        .register_tools(register(vec![registration("good")]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(duplicate.error_message, r#"{:duplicate_tool, "good"}"#);

    let response = execute(
        &mut client,
        request(SESSION, "good", &[("x", JSON_TYPE_URL, b"1")]),
    )
    .await;
    assert_eq!(response.error_message, "Tool good is not an Elixir tool");

    // Worker tools are not exposed as Elixir tools.
    let listed = client
        .get_exposed_elixir_tools(snakepit_bridge::proto::GetExposedElixirToolsRequest {
            session_id: SESSION.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.tools.iter().all(|tool| tool.name != "good"));
}

#[tokio::test]
async fn parameter_specs_carry_json_defaults_and_validation() {
    // A tool registered with a default (snakepit's example declares none).
    let tool = snakepit_bridge::testkit::host::ElixirTool::new("process_list", |_| Ok(json!(null)))
        .param(snakepit_bridge::HostParameter {
            default: Some(json!("sum")),
            ..snakepit_bridge::HostParameter::new("operation", "string", false)
        });
    let host = snakepit_bridge::testkit::host::EmbeddedHost::builder()
        .tool(tool)
        .session(SESSION)
        .start()
        .await
        .unwrap();
    let mut client = BridgeServiceClient::connect(format!("http://{}", host.address()))
        .await
        .unwrap();
    let listed = client
        .get_exposed_elixir_tools(snakepit_bridge::proto::GetExposedElixirToolsRequest {
            session_id: SESSION.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let operation = &listed.tools[0].parameters[0];
    assert_eq!(operation.default_value, Some(json_any(b"\"sum\"".to_vec())));
    assert_eq!(operation.validation_json, "{}");
    assert_eq!(operation.r#type, "string");
}
