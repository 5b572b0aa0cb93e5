//! `snakepit-tools worker` against the showcase worker (built by `cargo test --workspace`).

use std::path::PathBuf;
use std::process::{Command, Output};

fn showcase_worker() -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let path = path.join("examples").join("showcase_worker");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds the examples",
        path.display()
    );
    path
}

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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
fn repeat_reports_median_and_p99() {
    let output = worker(&["--call", "ping", "--repeat", "20"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let line = text(&output.stdout);
    assert!(
        line.starts_with("20 calls of ping: median ") && line.contains(" ms, p99 "),
        "{line}"
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

/// Whether Python's grpcio is here; without it the Python worker cannot run. CI installs it and
/// sets SNAKEPIT_REQUIRE_PYTHON_WORKER=1, so that there a missing grpcio fails the test.
fn python_grpc_available() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import grpc, grpc_tools"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        assert!(
            std::env::var_os("SNAKEPIT_REQUIRE_PYTHON_WORKER").is_none(),
            "grpcio is missing: pip install grpcio grpcio-tools"
        );
        eprintln!("skipped: Python's grpcio is not installed (pip install grpcio grpcio-tools)");
    }
    available
}

fn python_worker(args: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/python_worker.py");
    Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .arg("worker")
        .args(args)
        .args(["--", "python3", script])
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
