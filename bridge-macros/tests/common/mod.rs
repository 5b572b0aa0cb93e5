//! What the UI suite and the rebuild test share: where the workspace is, and how trybuild runs
//! cargo, so that the rebuild test's crate reuses the dependencies trybuild has built (the two
//! test binaries run one after the other, in either order: the first builds, the second reuses).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root: manifests named in the cases are resolved from it.
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bridge-macros is a folder of the workspace")
}

/// Without debug info, the crates build with about a sixth less CPU; the messages compared are
/// the same.
pub const PROFILE_DEV_DEBUG: &str = "0";

/// trybuild's target folder (`target/tests/trybuild`).
#[allow(dead_code)]
pub fn trybuild_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is a folder of the target folder")
        .join("tests/trybuild")
}

/// `cargo check` of the crate at `dir` with the target folder, target, flags and environment
/// trybuild gives the dependencies of its crate (trybuild 1.0's `cargo.rs`): the units it built
/// are fresh here. Only the build's speed depends on matching them.
#[allow(dead_code)]
pub fn cargo_check_as_trybuild(dir: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let rustflags = r#"["--cfg", "trybuild", "--verbose", "-A", "dead_code"]"#;
    let host = host_triple();
    let output = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", trybuild_target_dir())
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", PROFILE_DEV_DEBUG)
        .env_remove("RUSTFLAGS")
        .env_remove("SNAKEPIT_TOOLS_MANIFEST_DIR")
        .arg("check")
        .arg("--offline")
        .arg(format!("--config=build.rustflags={rustflags}"))
        .arg(format!("--config=target.{host}.rustflags={rustflags}"))
        .args(["--target", &host])
        .args(["--quiet", "--message-format=short"])
        .output()
        .expect("cargo runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc).arg("-vV").output().expect("rustc runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}
