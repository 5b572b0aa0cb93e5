//! `snakepit-tools worker` against the showcase worker (built by `cargo test --workspace`).

use std::process::{Command, Output};

use crate::support::{python_grpc_available, showcase_worker, text, PYTHON_WORKER};

fn worker(args: &[&str]) -> Output {
    let worker = showcase_worker();
    Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .arg("worker")
        .args(args)
        .arg("--")
        .arg(worker)
        .output()
        .unwrap()
}

#[test]
fn call_prints_the_result_as_json_and_exits_0() {
    let output = worker(&["--call", "ping", "--params", r#"{"message": "hi"}"#]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["message"], "hi");
}

#[test]
fn a_failed_tool_exits_1_with_its_type_and_message() {
    let output = worker(&[
        "--call",
        "error_demo",
        "--params",
        r#"{"error_type": "runtime"}"#,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: RuntimeError (Snakepit.Error.RuntimeError): This is a demonstration RuntimeError\n"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn stream_prints_one_decoded_chunk_per_line() {
    let output = worker(&[
        "--call",
        "stream_data",
        "--params",
        r#"{"count": 2, "delay": 0}"#,
        "--stream",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "{\"index\":1,\"is_final\":false,\"message\":\"Chunk 1/2\",\"total\":2}\n\
         {\"index\":2,\"is_final\":true,\"message\":\"Chunk 2/2\",\"total\":2}\n"
    );
}

#[test]
fn a_streaming_tool_called_without_stream_says_to_add_it() {
    let output = worker(&[
        "--call",
        "stream_data",
        "--params",
        r#"{"count": 2, "delay": 0}"#,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.ends_with("(`stream_data` streams its answer: add --stream to this command)\n"),
        "{message}"
    );
    // Not for a tool that does not stream.
    let output = worker(&[
        "--call",
        "error_demo",
        "--params",
        r#"{"error_type": "value"}"#,
    ]);
    assert!(
        !text(&output.stderr).contains("--stream"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn binary_parameters_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    std::fs::write(&file, b"abc").unwrap();
    let spec = format!("data={}", file.display());
    let output = worker(&["--call", "process_binary", "--binary", &spec]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["bytes"], 3);
    assert_eq!(
        result["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let output = worker(&[
        "--call",
        "process_binary",
        "--params",
        r#"{"operation": "reverse"}"#,
        "--binary",
        &spec,
    ]);
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["binary_base64"], "Y2Jh"); // "cba"
}

#[test]
fn list_shows_the_registered_tools_with_their_parameters() {
    let output = worker(&["--list"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listing = text(&output.stdout);
    assert!(
        listing.contains(
            "ping(message?: string = \"pong\")\n    Echo back a message with a timestamp.\n"
        ),
        "{listing}"
    );
    assert!(
        listing.contains("stream_data(count?: integer = 5, delay?: float = 1.0) [streaming]"),
        "{listing}"
    );
    assert!(
        listing.contains("process_binary(data: bytes, operation?: string = \"checksum\")"),
        "{listing}"
    );
}

#[test]
fn repeat_prints_the_last_result_and_the_median_and_p99_on_stderr() {
    let output = worker(&[
        "--call",
        "ping",
        "--params",
        r#"{"message": "last"}"#,
        "--repeat",
        "20",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["message"], "last");
    let line = text(&output.stderr);
    assert!(
        line.starts_with("20 calls of ping: median ") && line.contains(" ms, p99 "),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "{line}");
}

#[test]
fn a_failed_call_among_repeats_says_which() {
    let output = worker(&[
        "--call",
        "error_demo",
        "--params",
        r#"{"error_type": "value"}"#,
        "--repeat",
        "3",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: call 1 of 3: ValueError (Snakepit.Error.ValueError): This is a demonstration ValueError\n"
    );
}

#[test]
fn a_failed_stream_is_printed_as_a_failed_call_is() {
    // A tool that fails at once, called as a stream: the host hands streams the raw gRPC
    // status, with the worker's error JSON as its message.
    let output = worker(&[
        "--call",
        "error_demo",
        "--params",
        r#"{"error_type": "value"}"#,
        "--stream",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: ValueError (Snakepit.Error.ValueError): This is a demonstration ValueError\n"
    );
    assert!(output.stdout.is_empty());
    // A streaming tool given a bad parameter.
    let output = worker(&[
        "--call",
        "stream_data",
        "--params",
        r#"{"count": "many"}"#,
        "--stream",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.starts_with(
            "error: TypeError (Snakepit.Error.TypeError): tool `stream_data`: parameter `count`"
        ),
        "{message}"
    );
    assert!(!message.contains("gRPC status"), "{message}");
}

#[test]
fn list_json_prints_the_manifests_tools() {
    let output = worker(&["--list", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let tools: Vec<snakepit_bridge_spec::HostTool> =
        serde_json::from_slice(&output.stdout).expect("a JSON list of tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted: {names:?}");
    let find = |name: &str| tools.iter().find(|t| t.name == name).unwrap();
    assert_eq!(
        serde_json::to_value(find("process_binary")).unwrap(),
        serde_json::json!({
            "name": "process_binary",
            "description": "Process the binary parameter `data`: `checksum` (SHA-256) or `reverse` (answered in\n`binary_result`).",
            "parameters": [
                {"name": "data", "type": "bytes", "required": true, "description": "The bytes to process", "binary": true},
                {"name": "operation", "type": "string", "required": false, "description": "", "default": "checksum"}
            ]
        })
    );
    assert!(find("stream_data").supports_streaming);
    let output = Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .args(["worker", "--json", "--", "x"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--json needs --list");
}

#[test]
fn out_writes_a_binary_result_or_the_json_result_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.bin");
    std::fs::write(&data, b"abc").unwrap();
    let spec = format!("data={}", data.display());

    // A binary result: its bytes in the file, the JSON beside them on stdout.
    let out = dir.path().join("reversed.bin");
    let output = worker(&[
        "--call",
        "process_binary",
        "--params",
        r#"{"operation": "reverse"}"#,
        "--binary",
        &spec,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), b"cba");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result,
        serde_json::json!({"bytes": 3, "operation": "reverse"})
    );
    assert_eq!(
        text(&output.stderr),
        format!("wrote the binary result (3 bytes) to {}\n", out.display())
    );

    // A JSON result: in the file, nothing on stdout.
    let out = dir.path().join("ping.json");
    let output = worker(&["--call", "ping", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.ends_with('\n'));
    let result: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(result["message"], "pong");

    // A stream: the chunks, one per line.
    let out = dir.path().join("chunks.jsonl");
    let output = worker(&[
        "--call",
        "stream_data",
        "--params",
        r#"{"count": 2, "delay": 0}"#,
        "--stream",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);

    // A file that cannot be written is an error, after the call.
    let output = worker(&[
        "--call",
        "ping",
        "--out",
        dir.path().join("missing/dir/x").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).starts_with("error: --out: cannot write "),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_worker_that_crashes_or_never_gets_ready_is_a_one_line_error() {
    let crash = Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .args([
            "worker",
            "--call",
            "ping",
            "--",
            "sh",
            "-c",
            "echo cannot load model >&2; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(crash.status.code(), Some(2));
    assert_eq!(
        text(&crash.stderr),
        "error: the worker exited before it was ready (exit status: 7); it printed: cannot load model\n"
    );

    let silent = Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .args([
            "worker",
            "--ready-timeout",
            "1",
            "--call",
            "ping",
            "--",
            "sh",
            "-c",
            "exec sleep 30",
            "worker",
        ])
        .output()
        .unwrap();
    assert_eq!(silent.status.code(), Some(2));
    let message = text(&silent.stderr);
    assert!(
        message
            .starts_with("error: the worker never got ready: no port in its ready file within 1s"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn the_command_is_required_and_params_must_be_an_object() {
    let output = Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .args(["worker", "--call", "ping"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = worker(&["--call", "ping", "--params", "[1]"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: --params must be a JSON object, one entry per parameter, not [1]\n"
    );
}

fn python_worker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .arg("worker")
        .args(args)
        .args(["--", "python3", PYTHON_WORKER])
        .output()
        .unwrap()
}

#[test]
fn the_same_commands_drive_a_python_grpcio_worker() {
    if !python_grpc_available() {
        return;
    }
    let output = python_worker(&["--call", "ping", "--params", r#"{"message": "hi"}"#]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["message"], "hi");

    let output = python_worker(&[
        "--call",
        "stream_data",
        "--params",
        r#"{"count": 2, "delay": 0}"#,
        "--stream",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 2);
    assert!(text(&output.stdout)
        .ends_with("\"is_final\":true,\"message\":\"Chunk 2/2\",\"total\":2}\n"));

    let output = python_worker(&[
        "--call",
        "error_demo",
        "--params",
        r#"{"error_type": "value"}"#,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "error: ValueError (Snakepit.Error.ValueError): This is a demonstration ValueError\n"
    );
}
