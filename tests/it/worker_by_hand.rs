//! A worker binary run by hand (`--help`, or with nothing of snakepit's) says what it is and
//! how to run it, and exits, instead of serving where no one will call it.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The example binary, built by `cargo test` next to the test binaries.
fn showcase_worker() -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join("showcase_worker")
}

/// Runs the showcase with `args` and no environment at all; a worker that serves instead of
/// exiting is killed after 30 s and fails the test.
fn run_by_hand(args: &[&str]) -> Output {
    let mut child = Command::new(showcase_worker())
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the showcase worker runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the worker did not exit: it serves; it printed {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_says_what_it_is(printed: &str) {
    let path = showcase_worker().display().to_string();
    for expected in [
        "showcase_worker: a snakepit worker (snakepit-bridge) serving 16 tools:\n",
        "\n  ping(message?: string = \"pong\")\n      Echo back a message with a timestamp.\n",
        "\n  stream_data(count?: integer = 5, delay?: float = 1.0) [streaming]\n",
        "\n  process_binary(data: bytes, operation?: string = \"checksum\")\n      Process the binary parameter `data`: `checksum` (SHA-256) or `reverse` (answered in `binary_result`).\n",
        &format!("snakepit-tools worker --call TOOL --params '{{\"name\": \"value\"}}' -- {path}\n"),
        &format!("{path} --snakepit-describe\n"),
    ] {
        assert!(printed.contains(expected), "{expected:?} is not in:\n{printed}");
    }
}

#[test]
fn help_prints_what_the_worker_is_and_exits_0() {
    for flag in ["--help", "-h"] {
        let output = run_by_hand(&[flag]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
        assert_says_what_it_is(&text(&output.stdout));
    }
}

#[test]
fn with_no_snakepit_environment_the_worker_explains_itself_and_exits_2() {
    let output = run_by_hand(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let printed = text(&output.stderr);
    assert!(
        printed.starts_with(
            "showcase_worker: not started by snakepit (no --port, --elixir-address, \
             --snakepit-run-id or SNAKEPIT_READY_FILE), so it does not serve.\n"
        ),
        "{printed}"
    );
    assert_says_what_it_is(&printed);
}

#[test]
fn describe_still_wins_over_everything() {
    let output = run_by_hand(&["--snakepit-describe", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).starts_with("{\n  \"format_version\": 1,"));
}
