//! `snakepit-tools snapshot` and `check` against a real snakepit v0.13.0 host (snakepit's own
//! BridgeServer with the demo tools of its `examples/bidirectional_tools_demo.exs`, from the
//! bundle's `host/start.sh`; see the root crate's `tests/it/common/real_host.rs`).
//!
//! Skips, saying so, when `SNAKEPIT_VENDOR` is unset; `SNAKEPIT_REQUIRE_REAL_HOST=1` makes that
//! a failure.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::real_host_or_skip;
use crate::support::real_host::{self, DEMO_SESSION};
use crate::support::{text, tools};

/// The demo host's manifest committed in the repository, which the examples and the README's
/// trait are checked against.
fn committed_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/elixir_tools.json")
}

fn check(host: &real_host::RealHost, manifest: &Path) -> Output {
    tools(&[
        "check",
        "--manifest",
        manifest.to_str().unwrap(),
        "--address",
        &host.address(),
        "--session",
        DEMO_SESSION,
    ])
}

#[test]
fn a_snapshot_of_the_real_host_is_the_committed_manifest_byte_for_byte() {
    let host = real_host_or_skip!();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elixir_tools.json");
    let output = tools(&[
        "snapshot",
        "--address",
        &host.address(),
        "--session",
        DEMO_SESSION,
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "snapshot failed: {}",
        text(&output.stderr)
    );
    assert_eq!(
        text(&output.stdout),
        format!(
            "wrote 3 tools of session `demo-session` to {}\n",
            path.display()
        )
    );
    let written = std::fs::read_to_string(&path).unwrap();
    let committed = std::fs::read_to_string(committed_manifest()).unwrap();
    assert!(
        written == committed,
        "the real host's snapshot differs from examples/elixir_tools.json; if snakepit changed, \
         refresh it with `snakepit-tools snapshot --address {} --session {DEMO_SESSION} -o \
         examples/elixir_tools.json`.\n--- real host:\n{written}\n--- committed:\n{committed}",
        host.address()
    );
}

#[test]
fn check_passes_on_the_committed_manifest() {
    let host = real_host_or_skip!();
    let output = check(host, &committed_manifest());
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn check_exits_1_with_a_diff_for_a_manifest_the_real_host_does_not_match() {
    let host = real_host_or_skip!();
    let committed = std::fs::read_to_string(committed_manifest()).unwrap();
    // `n` recorded as a string, and a tool the host never had.
    let mut manifest: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let tools_list = manifest["tools"].as_array_mut().unwrap();
    assert_eq!(tools_list[0]["name"], "calculate_fibonacci");
    tools_list[0]["parameters"][0]["type"] = "string".into();
    let mut extra = tools_list[1].clone();
    extra["name"] = "format_json".into();
    tools_list.push(extra);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elixir_tools.json");
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();

    let output = check(host, &path);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report = text(&output.stderr);
    assert!(
        report
            .contains("~ tool `calculate_fibonacci`:\n      parameter `n`: type string -> integer"),
        "{report}"
    );
    assert!(
        report.contains("- tool `format_json` is recorded but no longer exposed by the host"),
        "{report}"
    );
    assert!(
        report.contains("refresh the manifest with `snakepit-tools snapshot"),
        "{report}"
    );
}
