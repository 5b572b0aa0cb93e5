//! What the CLI's process tests share: the workers they drive, how they run `snakepit-tools`
//! and read its output, and the real snakepit host.

#![allow(dead_code)] // each test module uses part of it

/// A real snakepit v0.13.0 host (the root crate's helper, std only).
#[path = "../../../../tests/it/common/real_host.rs"]
pub mod real_host;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The showcase worker example (built by `cargo test --workspace`).
pub fn showcase_worker() -> PathBuf {
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

/// `bench/python_worker.py`, the grpcio worker.
pub const PYTHON_WORKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/python_worker.py");

/// `snakepit-tools ARGS...`.
pub fn tools(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snakepit-tools"))
        .args(args)
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether Python's grpcio is here; without it the Python worker cannot run. CI installs it and
/// sets SNAKEPIT_REQUIRE_PYTHON_WORKER=1, so that there a missing grpcio fails the test.
/// Checked as the launcher runs Python: without the user's site-packages (PYTHONNOUSERSITE=1,
/// as snakepit sets it).
pub fn python_grpc_available() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import grpc, grpc_tools"])
        .env("PYTHONNOUSERSITE", "1")
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        assert!(
            std::env::var_os("SNAKEPIT_REQUIRE_PYTHON_WORKER").is_none(),
            "grpcio is missing: pip install grpcio grpcio-tools (not --user: snakepit runs Python with PYTHONNOUSERSITE=1)"
        );
        // Straight to stderr, past the test harness's capture (which takes only `eprintln!`),
        // so that the skip shows in the summary of a plain `cargo test`.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: Python's grpcio is not installed (pip install grpcio grpcio-tools)"
        );
    }
    available
}
