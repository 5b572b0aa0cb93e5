//! The examples behave as documented: `demo`, and `demo_host` + `worker` as two processes.

use std::process::{Command, Output};

use crate::common::{example, start_demo_host};

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run example {name} (build it with `cargo test`): {e}"))
}

#[test]
fn demo_lists_the_tools_and_shows_the_three_results() {
    let output = run("demo", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(r#"Discovered available Elixir tools: ["calculate_fibonacci", "parse_json", "process_list"]"#), "{stdout}");
    assert!(
        stdout.contains("sequence [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89], sum 232"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"keys ["hello", "is_rust"], size Some(2), data {"hello":"world","is_rust":true}"#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("sum of [1,2,3,4,5] = 15"), "{stdout}");
}

#[test]
fn worker_calls_a_demo_host_in_another_process() {
    let (_host, address) = start_demo_host(&["--session", "two-process"]);
    let output = run("worker", &[&address, "two-process"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Calling 'calculate_fibonacci' tool..."),
        "{stdout}"
    );
    assert!(stdout.contains("sum 232"), "{stdout}");
    assert!(stdout.contains("Rust worker finished."), "{stdout}");
}

#[test]
fn worker_in_a_session_created_by_initialize_session_sees_no_tools_until_created() {
    let (_host, address) = start_demo_host(&["--session", "named"]);
    // An unknown session lists no tools, so the worker calls nothing and still succeeds.
    let output = run("worker", &[&address, "other-session"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("Discovered available Elixir tools: []"),
        "{stdout}"
    );
    assert!(!stdout.contains("Calling"), "{stdout}");
}

#[test]
fn tool_docs_prints_the_markdown_reference() {
    let output = run("tool_docs", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.starts_with("# DemoTools\n"), "{stdout}");
    assert!(
        stdout.contains("## `calculate_fibonacci`\n\nCalculate the first `n` Fibonacci numbers."),
        "{stdout}"
    );
    assert!(
        stdout.contains("| `n` | integer | yes | `u32` |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"sequence\": {"),
        "the result schema is shown: {stdout}"
    );
}

#[test]
fn worker_with_wrong_arguments_prints_usage_and_exits_1() {
    let output = run("worker", &["only-one"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage:"));
}

#[test]
fn worker_without_a_host_prints_the_error_and_exits_1() {
    // Bound, never listened on: connecting is refused, and no one else can take the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap().to_string();
    let output = run("worker", &[&address, "s"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not connect to the snakepit host at"),
        "{stderr}"
    );
}

#[test]
fn demo_host_with_a_bad_address_prints_usage_and_exits_1() {
    let output = run("demo_host", &["not-an-address"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage:"));
}
