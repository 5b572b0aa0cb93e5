//! `snakepit-tools` as a user runs it, against the embedded host over TCP.

use std::path::Path;
use std::process::Output;

use serde_json::json;
use snakepit_bridge_spec::Manifest;
use snakepit_bridge_testkit::host::{demo_tools, ElixirTool, EmbeddedHost};

use crate::support::{text, tools};

const SESSION: &str = "demo-session";

/// The embedded host on a runtime of its own, as a separate service would be.
struct Host {
    runtime: tokio::runtime::Runtime,
    host: Option<EmbeddedHost>,
}

impl Host {
    fn start() -> Host {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let host = runtime
            .block_on(
                EmbeddedHost::builder()
                    .tools(demo_tools())
                    .session(SESSION)
                    .start(),
            )
            .unwrap();
        Host {
            runtime,
            host: Some(host),
        }
    }

    fn host(&self) -> &EmbeddedHost {
        self.host.as_ref().unwrap()
    }

    fn address(&self) -> String {
        self.host().grpc_address()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(host) = self.host.take() {
            self.runtime.block_on(host.shutdown());
        }
    }
}

fn snapshot(host: &Host, session: &str, path: &Path) -> Output {
    tools(&[
        "snapshot",
        "--address",
        &host.address(),
        "--session",
        session,
        "-o",
        path.to_str().unwrap(),
    ])
}

/// `snakepit-tools check` of the manifest at `path` against `host`.
fn check(host: &Host, path: &Path) -> Output {
    tools(&[
        "check",
        "--manifest",
        path.to_str().unwrap(),
        "--address",
        &host.address(),
        "--session",
        SESSION,
    ])
}

/// A running host, and a folder holding its snapshot as `elixir_tools.json`.
fn snapshotted() -> (Host, tempfile::TempDir) {
    let host = Host::start();
    let dir = tempfile::tempdir().unwrap();
    let output = snapshot(&host, SESSION, &dir.path().join("elixir_tools.json"));
    assert!(output.status.success(), "{}", text(&output.stderr));
    (host, dir)
}

#[test]
fn snapshot_writes_the_hosts_tools_sorted() {
    let host = Host::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elixir_tools.json");
    let output = snapshot(&host, SESSION, &path);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "wrote 3 tools of session `demo-session` to {}\n",
            path.display()
        )
    );

    let written = std::fs::read_to_string(&path).unwrap();
    let manifest = Manifest::from_json(&written).unwrap();
    let expected = Manifest::new(SESSION, demo_tools().iter().map(|tool| tool.spec().clone()));
    assert_eq!(manifest, expected);
    // Exactly the stable form: a snapshot of an unchanged host is byte-for-byte the same.
    assert_eq!(written, expected.to_json());
}

#[test]
fn snapshot_of_a_session_without_tools_is_an_error_unless_allowed() {
    let host = Host::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let output = snapshot(&host, "nobody", &path);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(
        message.contains("lists no tools for session `nobody`; is the session id right?"),
        "{message}"
    );
    assert!(!path.exists(), "no empty manifest is written");

    let output = tools(&[
        "snapshot",
        "--address",
        &host.address(),
        "--session",
        "nobody",
        "-o",
        path.to_str().unwrap(),
        "--allow-empty",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(path.exists());
}

#[test]
fn check_with_a_wrong_session_says_so_and_never_advises_an_empty_snapshot() {
    let (host, dir) = snapshotted();
    let path = dir.path().join("elixir_tools.json");
    let output = tools(&[
        "check",
        "--manifest",
        path.to_str().unwrap(),
        "--address",
        &host.address(),
        "--session",
        "wrong-session",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(
        message.contains(&format!("lists no tools for session `wrong-session` (the manifest was recorded for session `{SESSION}`); is the session id right?")),
        "{message}"
    );
    assert!(!message.contains("snakepit-tools snapshot"), "{message}");
}

#[test]
fn check_passes_when_the_host_matches() {
    let (host, dir) = snapshotted();
    let path = dir.path().join("elixir_tools.json");
    let output = check(&host, &path);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("matches the host: 3 tools"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn check_exits_1_with_a_readable_diff_when_the_host_drifted() {
    let (host, dir) = snapshotted();
    let path = dir.path().join("elixir_tools.json");

    assert!(host.host().remove_tool(SESSION, "parse_json"));
    host.host()
        .expose(
            SESSION,
            ElixirTool::new("add", |_| Ok(json!(0))).required("a", "integer"),
        )
        .unwrap();
    let changed = ElixirTool::new("calculate_fibonacci", |_| Ok(json!(0)))
        .description("Calculate Fibonacci sequence up to n numbers")
        .metadata(
            "description",
            "Calculate Fibonacci sequence up to n numbers",
        )
        .metadata("exposed_to_python", "true")
        .param(snakepit_bridge_spec::HostParameter {
            description: "How many numbers".into(),
            ..snakepit_bridge_spec::HostParameter::new("n", "string", true)
        });
    host.host().expose(SESSION, changed).unwrap();

    let output = check(&host, &path);
    assert_eq!(output.status.code(), Some(1));
    let report = text(&output.stderr);
    assert!(
        report.contains("+ tool `add` is exposed by the host but not recorded"),
        "{report}"
    );
    assert!(
        report.contains("- tool `parse_json` is recorded but no longer exposed by the host"),
        "{report}"
    );
    assert!(
        report
            .contains("~ tool `calculate_fibonacci`:\n      parameter `n`: type integer -> string"),
        "{report}"
    );
    assert!(report.contains("parameter `n`: description"), "{report}");
    assert!(
        report.contains("refresh the manifest with `snakepit-tools snapshot"),
        "{report}"
    );
}

#[test]
fn an_unreachable_host_is_a_one_line_error() {
    // Bound, never listened on: connecting is refused, and no one else can take the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = socket.local_addr().unwrap().to_string();
    let output = tools(&[
        "snapshot",
        "--address",
        &address,
        "--session",
        SESSION,
        "--timeout",
        "2",
        "-o",
        "/nonexistent/x.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: could not connect to the snakepit host at {address}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_host_that_never_answers_times_out_instead_of_hanging() {
    // Accepts TCP connections (the kernel's backlog does) but never speaks HTTP/2.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = tools(&[
        "snapshot",
        "--address",
        &address,
        "--session",
        SESSION,
        "--timeout",
        "1",
        "-o",
        dir.path().join("t.json").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("did not answer as a gRPC server within the connect timeout (1s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is this the port of a snakepit host?"),
        "{stderr}"
    );
    assert!(!stderr.contains("raise"), "{stderr}");
    drop(listener);
}

#[test]
fn docs_prints_a_markdown_reference_of_the_manifest() {
    let (_host, dir) = snapshotted();
    let path = dir.path().join("elixir_tools.json");
    let output = tools(&["docs", "--manifest", path.to_str().unwrap()]);
    assert!(output.status.success());
    let markdown = text(&output.stdout);
    assert!(
        markdown.starts_with("# Elixir tools of session `demo-session`\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `operation` | string | no |  |  |"),
        "{markdown}"
    );
    let order: Vec<usize> = [
        "## `calculate_fibonacci`",
        "## `parse_json`",
        "## `process_list`",
    ]
    .iter()
    .map(|heading| markdown.find(heading).unwrap())
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn a_missing_or_broken_manifest_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = tools(&["docs", "--manifest", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).starts_with(&format!(
        "error: cannot read the manifest {}",
        missing.display()
    )));

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"format_version\": 7}").unwrap();
    let output = tools(&["docs", "--manifest", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("format_version 7 is not supported"),
        "{}",
        text(&output.stderr)
    );
}
