//! The embedded host held to a real snakepit v0.13.0 host: one list of scenarios (raw gRPC
//! requests, in order), each sent to both, and the answers compared field by field and byte for
//! byte (the JSON in `Any` values exactly, type URLs, error texts, success flags, gRPC status
//! codes and messages).
//!
//! The real host is snakepit's own `Snakepit.GRPC.BridgeServer`
//! (`deps/snakepit/lib/snakepit/grpc/bridge_server.ex` in the bundle) with the demo tools of
//! `examples/bidirectional_tools_demo.exs` registered in `demo-session` (the bundle's
//! `host/start.sh`, see `common/real_host.rs`); the embedded host runs `demo_tools()` in the same
//! session. It is configured as the real one is: `expose_in_new_sessions(false)`, because
//! snakepit's `ToolRegistry` holds tools per session (`lib/snakepit/bridge/tool_registry.ex`), so
//! a session created by `InitializeSession` has none. (The embedded host's default, new sessions
//! get its tools, is a convenience for tests and not compared.)
//!
//! What legitimately varies is normalised in one place, [`normalise`]. Where the embedded host
//! deliberately answers otherwise, its scenario says so with the reason and the exact fields
//! that differ, and the test checks that those fields, and only those, still differ so.
//!
//! Skips, saying so, when `SNAKEPIT_VENDOR` is unset; `SNAKEPIT_REQUIRE_REAL_HOST=1` makes that
//! a failure.

use crate::common::real_host;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;
use serde_json::{json, Value};
use snakepit_bridge::proto::bridge_service_client::BridgeServiceClient;
use snakepit_bridge::proto::{self as pb};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::JSON_TYPE_URL;
use tonic::transport::Channel;

const DEMO: &str = real_host::DEMO_SESSION;
/// Sessions the scenarios create (on both hosts, so the same ids appear in both answers).
const FRESH: &str = "conformance-fresh";
const OTHER: &str = "conformance-other";
const UNKNOWN: &str = "conformance-unknown";

/// How long one RPC may take before it counts as no answer.
const RPC_LIMIT: Duration = Duration::from_secs(15);

/// One request.
#[derive(Debug, Clone)]
enum Call {
    Ping(pb::PingRequest),
    InitializeSession(pb::InitializeSessionRequest),
    GetSession(pb::GetSessionRequest),
    Heartbeat(pb::HeartbeatRequest),
    CleanupSession(pb::CleanupSessionRequest),
    RegisterTools(pb::RegisterToolsRequest),
    GetExposedElixirTools(pb::GetExposedElixirToolsRequest),
    ExecuteElixirTool(pb::ExecuteElixirToolRequest),
    ExecuteTool(pb::ExecuteToolRequest),
    ExecuteStreamingTool(pb::ExecuteToolRequest),
}

/// What the two hosts are expected to answer.
enum Expect {
    /// The same, after [`normalise`].
    Same,
    /// Deliberately different in exactly these fields: `(path, real, embedded)`, the values as
    /// JSON text (a path absent on one side is `"<absent>"` there).
    Differs {
        why: &'static str,
        fields: &'static [(&'static str, &'static str, &'static str)],
    },
    /// Deliberately different only in the order of a map's keys in the JSON text at `path`
    /// (object keys, and the `keys` list of parse_json's answer): the same value otherwise.
    KeyOrder {
        why: &'static str,
        path: &'static str,
    },
}

struct Scenario {
    name: &'static str,
    call: Call,
    expect: Expect,
}

fn same(name: &'static str, call: Call) -> Scenario {
    Scenario {
        name,
        call,
        expect: Expect::Same,
    }
}

/// A parameter: JSON bytes under snakepit's type URL.
fn json_param(name: &str, json: &str) -> (String, prost_types::Any) {
    raw_param(name, JSON_TYPE_URL, json.as_bytes().to_vec())
}

fn raw_param(name: &str, type_url: &str, value: Vec<u8>) -> (String, prost_types::Any) {
    (
        name.to_owned(),
        prost_types::Any {
            type_url: type_url.to_owned(),
            value,
        },
    )
}

fn execute(session: &str, tool: &str, params: Vec<(String, prost_types::Any)>) -> Call {
    Call::ExecuteElixirTool(pb::ExecuteElixirToolRequest {
        session_id: session.to_owned(),
        tool_name: tool.to_owned(),
        parameters: params.into_iter().collect(),
        metadata: HashMap::new(),
    })
}

fn call_demo(tool: &str, params: &[(&str, &str)]) -> Call {
    execute(
        DEMO,
        tool,
        params
            .iter()
            .map(|(name, json)| json_param(name, json))
            .collect(),
    )
}

fn list_tools(session: &str) -> Call {
    Call::GetExposedElixirTools(pb::GetExposedElixirToolsRequest {
        session_id: session.to_owned(),
    })
}

fn get_session(session: &str) -> Call {
    Call::GetSession(pb::GetSessionRequest {
        session_id: session.to_owned(),
    })
}

fn heartbeat(session: &str) -> Call {
    Call::Heartbeat(pb::HeartbeatRequest {
        session_id: session.to_owned(),
        client_time: None,
    })
}

fn initialize(session: &str, metadata: &[(&str, &str)]) -> Call {
    Call::InitializeSession(pb::InitializeSessionRequest {
        session_id: session.to_owned(),
        metadata: metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config: None,
    })
}

fn cleanup(session: &str) -> Call {
    Call::CleanupSession(pb::CleanupSessionRequest {
        session_id: session.to_owned(),
        force: false,
    })
}

fn registration(name: &str) -> pb::ToolRegistration {
    pb::ToolRegistration {
        name: name.to_owned(),
        description: "a worker tool".to_owned(),
        parameters: vec![pb::ParameterSpec {
            name: "x".to_owned(),
            r#type: "integer".to_owned(),
            required: true,
            ..Default::default()
        }],
        metadata: [("origin".to_owned(), "conformance".to_owned())].into(),
        supports_streaming: false,
    }
}

fn register(session: &str, tools: Vec<pb::ToolRegistration>) -> Call {
    Call::RegisterTools(pb::RegisterToolsRequest {
        session_id: session.to_owned(),
        tools,
        worker_id: "worker-1".to_owned(),
    })
}

fn worker_call(session: &str, tool: &str, params: &[(&str, &str)], stream: bool) -> Call {
    let request = pb::ExecuteToolRequest {
        session_id: session.to_owned(),
        tool_name: tool.to_owned(),
        parameters: params
            .iter()
            .map(|(name, json)| json_param(name, json))
            .collect(),
        metadata: HashMap::new(),
        stream,
        binary_parameters: HashMap::new(),
    };
    if stream {
        Call::ExecuteStreamingTool(request)
    } else {
        Call::ExecuteTool(request)
    }
}

/// A string packed as snakepit's Python client packs it (`Any.Pack(StringValue(value=...))`):
/// the `Any` holds the serialized `StringValue` message, not JSON.
fn string_value(text: &str) -> Vec<u8> {
    text.to_owned().encode_to_vec()
}

/// The list, in order. Each scenario runs on both hosts; later ones see what earlier ones did.
fn scenarios() -> Vec<Scenario> {
    let forty_keys = {
        let entries: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        format!("{{{}}}", entries.join(", "))
    };
    vec![
        // Health.
        same(
            "ping",
            Call::Ping(pb::PingRequest {
                message: "hello ✓".into(),
            }),
        ),
        same("ping, empty", Call::Ping(pb::PingRequest::default())),
        same(
            "InitializeSession of the demo session (it exists)",
            initialize(DEMO, &[("k", "v")]),
        ),
        same("GetSession of the demo session", get_session(DEMO)),
        // The tool list.
        same("list the demo session's tools", list_tools(DEMO)),
        same(
            "list the tools of an unknown session: empty, no error",
            list_tools(UNKNOWN),
        ),
        same("list the tools of an empty session id", list_tools("")),
        // calculate_fibonacci.
        same(
            "calculate_fibonacci n=12",
            call_demo("calculate_fibonacci", &[("n", "12")]),
        ),
        same(
            "calculate_fibonacci n=0",
            call_demo("calculate_fibonacci", &[("n", "0")]),
        ),
        same(
            "calculate_fibonacci n=1",
            call_demo("calculate_fibonacci", &[("n", "1")]),
        ),
        same(
            "calculate_fibonacci n=-3",
            call_demo("calculate_fibonacci", &[("n", "-3")]),
        ),
        same(
            "calculate_fibonacci n=100, integers beyond 64 bits",
            call_demo("calculate_fibonacci", &[("n", "100")]),
        ),
        same(
            "calculate_fibonacci without n (the tool's default, 10)",
            call_demo("calculate_fibonacci", &[]),
        ),
        same(
            "calculate_fibonacci with an extra parameter",
            call_demo("calculate_fibonacci", &[("n", "3"), ("memo", "true")]),
        ),
        same(
            "calculate_fibonacci n as a string (wrong type)",
            call_demo("calculate_fibonacci", &[("n", "\"5\"")]),
        ),
        same(
            "calculate_fibonacci n=2.5 (wrong type)",
            call_demo("calculate_fibonacci", &[("n", "2.5")]),
        ),
        same(
            "calculate_fibonacci n=null",
            call_demo("calculate_fibonacci", &[("n", "null")]),
        ),
        same(
            "calculate_fibonacci n as non-JSON bytes",
            call_demo("calculate_fibonacci", &[("n", "nope")]),
        ),
        same(
            "calculate_fibonacci n as invalid UTF-8",
            execute(
                DEMO,
                "calculate_fibonacci",
                vec![raw_param("n", JSON_TYPE_URL, vec![0xff, 0xfe])],
            ),
        ),
        same(
            "calculate_fibonacci n as empty bytes",
            execute(
                DEMO,
                "calculate_fibonacci",
                vec![raw_param("n", JSON_TYPE_URL, vec![])],
            ),
        ),
        same(
            "calculate_fibonacci n under another type URL (JSON-decoded all the same)",
            execute(
                DEMO,
                "calculate_fibonacci",
                vec![raw_param(
                    "n",
                    "type.googleapis.com/google.protobuf.Int64Value",
                    b"4".to_vec(),
                )],
            ),
        ),
        same(
            "calculate_fibonacci n, non-JSON under another type URL",
            execute(
                DEMO,
                "calculate_fibonacci",
                vec![raw_param("n", "type.example/X", b"hi".to_vec())],
            ),
        ),
        same(
            "calculate_fibonacci n, non-JSON under an empty type URL",
            execute(
                DEMO,
                "calculate_fibonacci",
                vec![raw_param("n", "", b"hi".to_vec())],
            ),
        ),
        // parse_json.
        same(
            "parse_json of an object",
            call_demo(
                "parse_json",
                &[(
                    "json_string",
                    r#""{\"b\": [true, null], \"a\": 1.5, \"é\": \"✓\"}""#,
                )],
            ),
        ),
        Scenario {
            name: "parse_json of an object of 40 keys",
            call: call_demo(
                "parse_json",
                &[("json_string", &serde_json::to_string(&forty_keys).unwrap())],
            ),
            expect: Expect::KeyOrder {
                why: "an Erlang map of more than 32 keys is a hash trie, which Jason writes (and \
                      Map.keys/1 lists) in the order of Erlang's internal term hash; the \
                      embedded host writes keys sorted, as Erlang orders maps of up to 32 keys",
                path: "/ok/result/utf8",
            },
        },
        same(
            "parse_json of text that is not JSON (a result that says so)",
            call_demo("parse_json", &[("json_string", r#""not json""#)]),
        ),
        same(
            "parse_json of JSON that is not an object (raises)",
            call_demo("parse_json", &[("json_string", r#""[1, 2]""#)]),
        ),
        same(
            "parse_json without json_string (the tool's default, {})",
            call_demo("parse_json", &[]),
        ),
        same(
            "parse_json with a number (wrong type)",
            call_demo("parse_json", &[("json_string", "7")]),
        ),
        same(
            "parse_json with a StringValue-wrapped string, as snakepit's Python client sends it",
            execute(
                DEMO,
                "parse_json",
                vec![raw_param(
                    "json_string",
                    JSON_TYPE_URL,
                    string_value(r#"{"a": 1}"#),
                )],
            ),
        ),
        same(
            "parse_json with a StringValue-wrapped string of 300 bytes (a two-byte length)",
            execute(
                DEMO,
                "parse_json",
                vec![raw_param(
                    "json_string",
                    JSON_TYPE_URL,
                    string_value(&"x".repeat(300)),
                )],
            ),
        ),
        // process_list.
        same(
            "process_list without operation (sum)",
            call_demo("process_list", &[("list", "[3, 1, 2]")]),
        ),
        same(
            "process_list max",
            call_demo(
                "process_list",
                &[("list", "[3, 9, 2]"), ("operation", "\"max\"")],
            ),
        ),
        same(
            "process_list min of mixed terms (Erlang's term order)",
            call_demo(
                "process_list",
                &[
                    ("list", r#"[3, "a", null, [1], {"k": 1}, false]"#),
                    ("operation", "\"min\""),
                ],
            ),
        ),
        same(
            "process_list max of an empty list",
            call_demo("process_list", &[("list", "[]"), ("operation", "\"max\"")]),
        ),
        same(
            "process_list mean",
            call_demo(
                "process_list",
                &[("list", "[1, 2, 4]"), ("operation", "\"mean\"")],
            ),
        ),
        same(
            "process_list mean of an empty list",
            call_demo("process_list", &[("list", "[]"), ("operation", "\"mean\"")]),
        ),
        same(
            "process_list reverse",
            call_demo(
                "process_list",
                &[("list", "[1, \"two\", 3.0]"), ("operation", "\"reverse\"")],
            ),
        ),
        same(
            "process_list sum of floats (Erlang's float text)",
            call_demo("process_list", &[("list", "[0.1, 0.2, 1e21, 1E-7]")]),
        ),
        same(
            "process_list sum beyond 64 bits",
            call_demo(
                "process_list",
                &[("list", "[18446744073709551615, 18446744073709551615]")],
            ),
        ),
        Scenario {
            name: "process_list of an integer wider than 64 bits",
            call: call_demo("process_list", &[("list", "[1180591620717411303424, 1]")]),
            expect: Expect::Differs {
                why: "an Elixir integer has no size limit, but the embedded host's tools take \
                      parameters as serde_json values, which cannot hold one beyond 64 bits: \
                      it refuses the call naming the integer rather than run the tool on a \
                      rounded value",
                fields: &[
                    (
                        "/ok/error_message",
                        r#""""#,
                        r#""Invalid parameter list: the integer 1180591620717411303424 at `list[0]` is wider than 64 bits; a snakepit host keeps it exact (an Elixir integer), but the embedded host's tools take parameters as serde_json values, which cannot hold it: send it as a string, or test this call against a real host""#,
                    ),
                    ("/ok/metadata", r#""<absent>""#, "{}"),
                    ("/ok/metadata/execution_time", r#""<ms>""#, r#""<absent>""#),
                    ("/ok/result", r#""<absent>""#, "null"),
                    (
                        "/ok/result/type_url",
                        r#""type.googleapis.com/google.protobuf.StringValue""#,
                        r#""<absent>""#,
                    ),
                    (
                        "/ok/result/utf8",
                        r#""{\"list\":[1180591620717411303424,1],\"operation\":\"sum\",\"result\":1180591620717411303425}""#,
                        r#""<absent>""#,
                    ),
                    ("/ok/success", "true", "false"),
                ],
            },
        },
        same(
            "process_list of strings (raises)",
            call_demo("process_list", &[("list", "[\"a\"]")]),
        ),
        same(
            "process_list of a non-list (raises)",
            call_demo("process_list", &[("list", "\"abc\"")]),
        ),
        same(
            "process_list with an unknown operation (an unencodable result, printed)",
            call_demo(
                "process_list",
                &[("list", "[1, 2]"), ("operation", "\"median\"")],
            ),
        ),
        same(
            "process_list of an object (Enumerable over a map)",
            call_demo("process_list", &[("list", r#"{"a": 1}"#)]),
        ),
        same(
            "process_list of an empty object, max",
            call_demo("process_list", &[("list", "{}"), ("operation", "\"max\"")]),
        ),
        same(
            "process_list of a number, unknown operation",
            call_demo(
                "process_list",
                &[("list", "5"), ("operation", "\"median\"")],
            ),
        ),
        same(
            "process_list of a number, reverse",
            call_demo(
                "process_list",
                &[("list", "5"), ("operation", "\"reverse\"")],
            ),
        ),
        same(
            "parse_json of iodata: a list of bytes",
            call_demo(
                "parse_json",
                &[("json_string", "[123, \"\\\"a\\\": 1\", 125]")],
            ),
        ),
        same(
            "parse_json of null",
            call_demo("parse_json", &[("json_string", "null")]),
        ),
        same(
            "parse_json of text with a control character",
            call_demo("parse_json", &[("json_string", r#""{\u0005}""#)]),
        ),
        same(
            "process_list of an empty object, mean",
            call_demo("process_list", &[("list", "{}"), ("operation", "\"mean\"")]),
        ),
        same(
            "process_list of an object, reverse",
            call_demo(
                "process_list",
                &[
                    ("list", r#"{"b": 2, "a": [1]}"#),
                    ("operation", "\"reverse\""),
                ],
            ),
        ),
        same(
            "process_list of an object, min",
            call_demo(
                "process_list",
                &[("list", r#"{"b": 2, "a": [1]}"#), ("operation", "\"min\"")],
            ),
        ),
        same(
            "process_list of 60 items, unknown operation (inspect shows 50)",
            call_demo(
                "process_list",
                &[
                    (
                        "list",
                        &serde_json::to_string(&(1..=60).collect::<Vec<_>>()).unwrap(),
                    ),
                    ("operation", "\"median\""),
                ],
            ),
        ),
        same(
            "process_list with a non-string operation",
            call_demo("process_list", &[("list", "[1]"), ("operation", "7")]),
        ),
        same(
            "process_list with a StringValue-wrapped list",
            execute(
                DEMO,
                "process_list",
                vec![raw_param("list", JSON_TYPE_URL, string_value("[1, 2]"))],
            ),
        ),
        // Unknown tools and sessions.
        same("an unknown tool", call_demo("no_such_tool", &[])),
        same("an empty tool name", call_demo("", &[])),
        same(
            "a demo tool in an unknown session",
            execute(UNKNOWN, "calculate_fibonacci", vec![json_param("n", "3")]),
        ),
        same("GetSession of an unknown session", get_session(UNKNOWN)),
        same("Heartbeat of an unknown session", heartbeat(UNKNOWN)),
        same(
            "RegisterTools in an unknown session",
            register(UNKNOWN, vec![registration("good")]),
        ),
        same("CleanupSession of an unknown session", cleanup(UNKNOWN)),
        // A session of the scenarios' own, through its life.
        same(
            "InitializeSession",
            initialize(FRESH, &[("owner", "conformance"), ("n", "1")]),
        ),
        same(
            "InitializeSession again (idempotent)",
            initialize(FRESH, &[("owner", "someone else")]),
        ),
        same("InitializeSession of an empty id", initialize("", &[])),
        same("InitializeSession of a blank id", initialize("  ", &[])),
        same("GetSession", get_session(FRESH)),
        same("Heartbeat", heartbeat(FRESH)),
        same("the new session has no Elixir tools", list_tools(FRESH)),
        same(
            "a demo tool in the new session",
            execute(FRESH, "calculate_fibonacci", vec![json_param("n", "3")]),
        ),
        same(
            "RegisterTools",
            register(
                FRESH,
                vec![registration("good"), registration("other.tool-2")],
            ),
        ),
        same(
            "RegisterTools of a name already registered",
            register(FRESH, vec![registration("good")]),
        ),
        same(
            "RegisterTools of a batch with a bad name",
            register(FRESH, vec![registration("fine"), registration("bad name")]),
        ),
        same("RegisterTools of an empty batch", register(FRESH, vec![])),
        same("GetSession after RegisterTools", get_session(FRESH)),
        same(
            "registered worker tools are not exposed as Elixir tools",
            list_tools(FRESH),
        ),
        same(
            "RegisterTools of a batch: a name taken, then a bad one (names are checked first)",
            register(FRESH, vec![registration("good"), registration("-bad")]),
        ),
        same(
            "RegisterTools of a batch naming one tool twice",
            register(FRESH, vec![registration("twice"), registration("twice")]),
        ),
        same(
            "RegisterTools of an empty name",
            register(FRESH, vec![registration(" ")]),
        ),
        same(
            "RegisterTools of a name of 65 bytes",
            register(FRESH, vec![registration(&"n".repeat(65))]),
        ),
        same(
            "RegisterTools of a padded name (trimmed)",
            register(FRESH, vec![registration("  padded  ")]),
        ),
        same(
            "RegisterTools of a streaming tool",
            register(
                FRESH,
                vec![pb::ToolRegistration {
                    supports_streaming: true,
                    ..registration("streamer")
                }],
            ),
        ),
        same(
            "RegisterTools of a demo tool's name in the demo session",
            register(DEMO, vec![registration("parse_json")]),
        ),
        same(
            "ExecuteTool of a worker's tool (its worker is not in any pool)",
            worker_call(FRESH, "good", &[("x", "1")], false),
        ),
        same(
            "ExecuteTool of a worker's tool with a parameter that is not JSON",
            worker_call(FRESH, "good", &[("x", "nope")], false),
        ),
        same(
            "ExecuteStreamingTool of a worker's tool that does not stream",
            worker_call(FRESH, "good", &[("x", "1")], true),
        ),
        same(
            "ExecuteStreamingTool of a worker's streaming tool (its worker is not in any pool)",
            worker_call(FRESH, "streamer", &[("x", "1")], true),
        ),
        same(
            "ExecuteStreamingTool in an unknown session",
            worker_call(UNKNOWN, "streamer", &[], true),
        ),
        same(
            "ExecuteElixirTool of a worker's tool",
            execute(FRESH, "good", vec![json_param("x", "1")]),
        ),
        same(
            "ExecuteElixirTool of a tool registered in another session",
            execute(OTHER, "good", vec![json_param("x", "1")]),
        ),
        same("CleanupSession", cleanup(FRESH)),
        same("GetSession after CleanupSession", get_session(FRESH)),
        same("Heartbeat after CleanupSession", heartbeat(FRESH)),
        same(
            "ExecuteElixirTool after CleanupSession",
            execute(FRESH, "good", vec![json_param("x", "1")]),
        ),
        same(
            "RegisterTools after CleanupSession",
            register(FRESH, vec![registration("good")]),
        ),
        same(
            "InitializeSession of the cleaned-up session",
            initialize(FRESH, &[]),
        ),
        same(
            "RegisterTools again in the re-created session: its old tools are still there",
            register(FRESH, vec![registration("good")]),
        ),
        same(
            "ExecuteTool of a worker's tool of the re-created session",
            worker_call(FRESH, "good", &[("x", "1")], false),
        ),
        // ExecuteTool and ExecuteStreamingTool, which the host serves too.
        same(
            "ExecuteTool of a demo tool",
            worker_call(DEMO, "calculate_fibonacci", &[("n", "5")], false),
        ),
        same(
            "ExecuteTool of an unknown tool",
            worker_call(DEMO, "no_such_tool", &[], false),
        ),
        same(
            "ExecuteTool in an unknown session",
            worker_call(UNKNOWN, "calculate_fibonacci", &[], false),
        ),
        same(
            "ExecuteStreamingTool of a demo tool",
            worker_call(DEMO, "calculate_fibonacci", &[("n", "5")], true),
        ),
        same(
            "ExecuteStreamingTool of an unknown tool",
            worker_call(DEMO, "no_such_tool", &[], true),
        ),
        // Last, as it ends the demo session.
        same("CleanupSession of the demo session", cleanup(DEMO)),
        same(
            "the tools of the cleaned-up demo session are still listed",
            list_tools(DEMO),
        ),
        same(
            "a demo tool of the cleaned-up demo session",
            call_demo("calculate_fibonacci", &[("n", "3")]),
        ),
        same(
            "InitializeSession of the cleaned-up demo session",
            initialize(DEMO, &[]),
        ),
        same(
            "a demo tool of the re-created demo session",
            call_demo("calculate_fibonacci", &[("n", "3")]),
        ),
        same(
            "GetSession of the re-created demo session",
            get_session(DEMO),
        ),
    ]
}

/// An `Any`, its bytes shown exactly: as text when they are UTF-8, else in hex.
fn any(value: &prost_types::Any) -> Value {
    match std::str::from_utf8(&value.value) {
        Ok(text) => json!({"type_url": value.type_url, "utf8": text}),
        Err(_) => json!({"type_url": value.type_url, "hex": hex(&value.value)}),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn bytes(value: &[u8]) -> Value {
    match std::str::from_utf8(value) {
        Ok(text) => json!({"utf8": text}),
        Err(_) => json!({"hex": hex(value)}),
    }
}

fn opt_any(value: &Option<prost_types::Any>) -> Value {
    value.as_ref().map(any).unwrap_or(Value::Null)
}

fn map<V>(entries: &HashMap<String, V>, f: impl Fn(&V) -> Value) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), f(v)))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect(),
    )
}

fn strings(entries: &HashMap<String, String>) -> Value {
    map(entries, |v| json!(v))
}

fn timestamp(value: &Option<prost_types::Timestamp>) -> Value {
    value
        .as_ref()
        .map(|t| json!({"seconds": t.seconds, "nanos": t.nanos}))
        .unwrap_or(Value::Null)
}

fn tool_spec(spec: &pb::ToolSpec) -> Value {
    json!({
        "name": spec.name,
        "description": spec.description,
        "parameters": spec.parameters.iter().map(|p| json!({
            "name": p.name,
            "type": p.r#type,
            "description": p.description,
            "required": p.required,
            "default_value": opt_any(&p.default_value),
            "validation_json": p.validation_json,
        })).collect::<Vec<_>>(),
        "metadata": strings(&spec.metadata),
        "supports_streaming": spec.supports_streaming,
    })
}

fn status(status: &tonic::Status) -> Value {
    json!({"status": {"code": format!("{:?}", status.code()), "message": status.message()}})
}

/// Sends `call` and renders the answer (or the gRPC status) as JSON, every field shown.
async fn answer(client: &mut BridgeServiceClient<Channel>, call: &Call) -> Value {
    let rendered = tokio::time::timeout(RPC_LIMIT, render(client, call.clone())).await;
    rendered.unwrap_or_else(|_| json!({"no answer within": format!("{RPC_LIMIT:?}")}))
}

async fn render(client: &mut BridgeServiceClient<Channel>, call: Call) -> Value {
    macro_rules! unary {
        ($rpc:ident, $request:expr, |$r:ident| $body:expr) => {
            match client.$rpc($request).await {
                Ok(response) => {
                    let $r = response.into_inner();
                    json!({"ok": $body})
                }
                Err(error) => status(&error),
            }
        };
    }
    match call {
        Call::Ping(request) => unary!(ping, request, |r| json!({
            "message": r.message, "server_time": timestamp(&r.server_time),
        })),
        Call::InitializeSession(request) => unary!(initialize_session, request, |r| json!({
            "success": r.success,
            "error_message": r.error_message,
            "available_tools": map(&r.available_tools, tool_spec),
        })),
        Call::GetSession(request) => unary!(get_session, request, |r| json!({
            "session_id": r.session_id,
            "metadata": strings(&r.metadata),
            "created_at": timestamp(&r.created_at),
            "tool_count": r.tool_count,
        })),
        Call::Heartbeat(request) => unary!(heartbeat, request, |r| json!({
            "server_time": timestamp(&r.server_time), "session_valid": r.session_valid,
        })),
        Call::CleanupSession(request) => unary!(cleanup_session, request, |r| json!({
            "success": r.success, "resources_cleaned": r.resources_cleaned,
        })),
        Call::RegisterTools(request) => unary!(register_tools, request, |r| json!({
            "success": r.success,
            "tool_ids": strings(&r.tool_ids),
            "error_message": r.error_message,
        })),
        Call::GetExposedElixirTools(request) => {
            unary!(get_exposed_elixir_tools, request, |r| json!({
                "tools": r.tools.iter().map(tool_spec).collect::<Vec<_>>(),
            }))
        }
        Call::ExecuteElixirTool(request) => unary!(execute_elixir_tool, request, |r| json!({
            "success": r.success,
            "result": opt_any(&r.result),
            "error_message": r.error_message,
            "metadata": strings(&r.metadata),
            "execution_time_ms": r.execution_time_ms,
            "binary_result": bytes(&r.binary_result),
        })),
        Call::ExecuteTool(request) => unary!(execute_tool, request, |r| json!({
            "success": r.success,
            "result": opt_any(&r.result),
            "error_message": r.error_message,
            "metadata": strings(&r.metadata),
            "execution_time_ms": r.execution_time_ms,
            "binary_result": bytes(&r.binary_result),
        })),
        Call::ExecuteStreamingTool(request) => match client.execute_streaming_tool(request).await {
            Err(error) => status(&error),
            Ok(response) => {
                let mut stream = response.into_inner();
                let mut chunks = Vec::new();
                loop {
                    match stream.message().await {
                        Ok(Some(chunk)) => chunks.push(json!({
                            "chunk_id": chunk.chunk_id,
                            "data": bytes(&chunk.data),
                            "is_final": chunk.is_final,
                            "metadata": strings(&chunk.metadata),
                        })),
                        Ok(None) => break json!({"ok": chunks}),
                        Err(error) => break json!({"ok": chunks, "then": status(&error)}),
                    }
                }
            }
        },
    }
}

/// The one place where what legitimately varies between two answers is made comparable:
/// clocks (checked to be now, then replaced), execution times (checked to be counts of
/// milliseconds, then replaced), `created_at` (see below) and the order of listed tools (an
/// ETS table's on the real host, unspecified).
fn normalise(value: &mut Value, now: std::ops::RangeInclusive<i64>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match key.as_str() {
                    "server_time" => {
                        if let Some(seconds) = field.get_mut("seconds") {
                            let at = seconds.as_i64().unwrap_or(i64::MIN);
                            *seconds = if now.contains(&at) {
                                json!("<now>")
                            } else {
                                json!(format!("<not now: {seconds}>"))
                            };
                        }
                    }
                    // snakepit's SessionStore stamps sessions with System.monotonic_time(:second)
                    // (lib/snakepit/bridge/session.ex), which BridgeServer sends as if it were a
                    // wall-clock Timestamp: its seconds mean nothing outside the host's VM. The
                    // embedded host sends the wall-clock time. Both are replaced.
                    "created_at" => {
                        if let Some(seconds) = field.get_mut("seconds") {
                            *seconds = json!("<host clock>");
                        }
                    }
                    "execution_time_ms" | "execution_time" => {
                        let millis = field
                            .as_i64()
                            .or_else(|| field.as_str().and_then(|text| text.parse().ok()));
                        *field = match millis {
                            Some(ms) if ms >= 0 => json!("<ms>"),
                            _ => json!(format!("<not a duration: {field}>")),
                        };
                    }
                    "tools" => {
                        if let Value::Array(tools) = field {
                            tools.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
                        }
                        normalise(field, now.clone());
                    }
                    _ => normalise(field, now.clone()),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                normalise(item, now.clone());
            }
        }
        _ => {}
    }
}

/// Every leaf of `value` by its JSON pointer (empty objects and arrays are leaves too).
fn leaves(value: &Value, path: String, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (key, field) in fields {
                leaves(
                    field,
                    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                leaves(item, format!("{path}/{index}"), out);
            }
        }
        _ => {
            out.insert(path, value.clone());
        }
    }
}

/// The fields in which `real` and `embedded` differ: `(path, real, embedded)`.
fn differences(real: &Value, embedded: &Value) -> Vec<(String, Value, Value)> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    leaves(real, String::new(), &mut a);
    leaves(embedded, String::new(), &mut b);
    let absent = json!("<absent>");
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (x, y) = (
                a.get(path).unwrap_or(&absent),
                b.get(path).unwrap_or(&absent),
            );
            (x != y).then(|| (path.clone(), x.clone(), y.clone()))
        })
        .collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[tokio::test]
async fn the_embedded_host_answers_every_scenario_as_real_snakepit_does() {
    // A host of its own: the scenarios clean up the demo session and register tools in it,
    // which tests sharing a host with this one would see.
    let Some(real) = real_host::own() else {
        return;
    };
    let embedded = EmbeddedHost::builder()
        .tools(demo_tools())
        // As the bundle's host/bridge_host.exs creates it.
        .session_with_metadata(DEMO, [("demo", "bidirectional_tools")])
        .expose_in_new_sessions(false)
        .start()
        .await
        .expect("the embedded host starts");
    let connect = |url: String| async move {
        BridgeServiceClient::connect(url.clone())
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    };
    let mut real_client = connect(real.url()).await;
    let mut embedded_client = connect(format!("http://{}", embedded.address())).await;

    let scenarios = scenarios();
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let before = unix_now() - 1;
        let mut from_real = answer(&mut real_client, &scenario.call).await;
        let mut from_embedded = answer(&mut embedded_client, &scenario.call).await;
        let now = before..=unix_now() + 1;
        normalise(&mut from_real, now.clone());
        normalise(&mut from_embedded, now);
        let found = differences(&from_real, &from_embedded);
        let problem = match &scenario.expect {
            Expect::Same if found.is_empty() => None,
            Expect::Same => Some("the embedded host answers otherwise".to_owned()),
            Expect::Differs { why, fields } => {
                let documented: Vec<(String, Value, Value)> = fields
                    .iter()
                    .map(|(path, a, b)| {
                        let parse =
                            |text: &str| serde_json::from_str(text).unwrap_or_else(|_| json!(text));
                        (path.to_string(), parse(a), parse(b))
                    })
                    .collect();
                (found != documented).then(|| {
                    format!(
                        "the documented difference ({why}) is no longer the one observed; \
                         documented: {}",
                        pretty(&json!(documented))
                    )
                })
            }
            Expect::KeyOrder { why, path } => {
                let only_there = found.len() == 1 && found[0].0 == *path;
                let same_value = only_there && {
                    // The keys of objects (serde_json sorts them) and the order of `keys`, the
                    // list Map.keys/1 gives, are what may differ.
                    let parse = |v: &Value| {
                        let mut value = v
                            .as_str()
                            .and_then(|text| serde_json::from_str::<Value>(text).ok())?;
                        if let Some(Value::Array(keys)) = value.get_mut("keys") {
                            keys.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                        }
                        Some(value)
                    };
                    let (a, b) = (parse(&found[0].1), parse(&found[0].2));
                    a.is_some() && a == b
                };
                (!same_value).then(|| {
                    format!(
                        "the documented difference ({why}) is no longer the one observed: \
                         expected the JSON texts at {path}, and nothing else, to differ only \
                         in the order of keys"
                    )
                })
            }
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "scenario `{}`: {problem}\nrequest: {:?}\ndiffering fields (path, real, embedded): {}\n\
                 real snakepit answered:\n{}\nthe embedded host answered:\n{}",
                scenario.name,
                scenario.call,
                pretty(&json!(found)),
                pretty(&from_real),
                pretty(&from_embedded),
            ));
        }
    }
    embedded.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {} scenarios fail:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}

/// The comparison itself must be able to fail: a change in any byte, flag or status is seen.
#[test]
fn differences_see_every_field_and_normalise_only_what_varies() {
    let answer = json!({"ok": {"success": true, "result": {"type_url": JSON_TYPE_URL, "utf8": "{\"a\":1}"},
        "execution_time_ms": 3, "metadata": {"execution_time": "3"}, "server_time": {"seconds": 100, "nanos": 0}}});
    let mut changed = answer.clone();
    changed["ok"]["result"]["utf8"] = json!("{\"a\": 1}");
    changed["ok"]["execution_time_ms"] = json!(9);
    changed["ok"]["metadata"]["execution_time"] = json!("9");
    let (mut a, mut b) = (answer.clone(), changed);
    normalise(&mut a, 99..=101);
    normalise(&mut b, 99..=101);
    assert_eq!(
        differences(&a, &b),
        [(
            "/ok/result/utf8".to_owned(),
            json!("{\"a\":1}"),
            json!("{\"a\": 1}")
        )]
    );
    assert_eq!(a["ok"]["server_time"]["seconds"], "<now>");
    let mut late = answer;
    normalise(&mut late, 200..=201);
    assert_eq!(late["ok"]["server_time"]["seconds"], "<not now: 100>");
    let status = json!({"status": {"code": "NotFound", "message": "x"}});
    assert_eq!(
        differences(&status, &json!({"ok": {}})).len(),
        3,
        "a status against an answer differs in each field"
    );
}
