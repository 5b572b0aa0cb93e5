//! A worker links only the worker runtime and the client: no TLS stack and no snakepit
//! emulator in a worker crate's dependency tree (read with `cargo tree`, nothing is compiled).
//! The same tree with the `tls` or `testkit` feature shows them, so the check sees what it
//! looks for. schemars, a default feature, is left out with `default-features = false`. The
//! runtime's gRPC code is checked in: building a worker compiles no protobuf compiler.

use std::path::{Path, PathBuf};
use std::process::Command;

/// schemars and the crates only it brings.
const SCHEMARS: [&str; 2] = ["schemars", "schemars_derive"];

/// Crates of a TLS stack (rustls and its crypto and roots), and the emulator.
const TLS_STACK: [&str; 6] = [
    "rustls",
    "tokio-rustls",
    "rustls-webpki",
    "webpki-roots",
    "ring",
    "aws-lc-rs",
];
const TESTKIT: &str = "snakepit-bridge-testkit";

/// A protobuf compiler and its code generators: only `bridge-runtime/codegen` uses them.
const PROTOBUF_COMPILER: [&str; 5] = [
    "protox",
    "prost-build",
    "tonic-prost-build",
    "tonic-build",
    "prost-reflect",
];

/// A worker crate depending on the facade as a worker does (with `options` added to the
/// dependency, e.g. `default-features = false`), with the workspace's lockfile.
fn worker_crate(name: &str, options: &str) -> PathBuf {
    let facade = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("worker_dependencies")
        .join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"dependency-check-worker\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nsnakepit-bridge = {{ path = {:?}{options} }}\n\n[workspace]\n",
            facade.display().to_string()
        ),
    )
    .unwrap();
    std::fs::copy(facade.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    dir
}

/// The names of the crates the worker builds into its binary (normal dependencies).
fn normal_dependencies(dir: &Path, features: &[&str]) -> Vec<String> {
    dependencies(dir, "normal", features)
}

/// The names of the crates in the worker's tree along `edges` (`cargo tree -e`).
fn dependencies(dir: &Path, edges: &str, features: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(["tree", "--offline", "-e", edges, "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(dir);
    for feature in features {
        command.args(["--features", feature]);
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_worker_links_no_tls_stack_and_no_emulator() {
    let dir = worker_crate("plain", "");
    let names = normal_dependencies(&dir, &[]);
    assert!(
        names.iter().any(|name| name == "snakepit-bridge-worker"),
        "the tree was not read: {names:?}"
    );
    let unwanted: Vec<&String> = names
        .iter()
        .filter(|name| TLS_STACK.contains(&name.as_str()) || name.as_str() == TESTKIT)
        .collect();
    assert!(
        unwanted.is_empty(),
        "a worker crate must not build {unwanted:?}"
    );
}

#[test]
fn a_worker_builds_no_protobuf_compiler() {
    let names = dependencies(&worker_crate("build", ""), "normal,build", &[]);
    assert!(
        names.iter().any(|name| name == "snakepit-bridge-runtime"),
        "the tree was not read: {names:?}"
    );
    let compiler: Vec<&String> = names
        .iter()
        .filter(|name| PROTOBUF_COMPILER.contains(&name.as_str()))
        .collect();
    assert!(
        compiler.is_empty(),
        "a worker crate must not build {compiler:?}: the runtime's gRPC code is checked in \
         (bridge-runtime/src/generated/)"
    );
}

#[test]
fn the_features_bring_them_in() {
    let dir = worker_crate("features", "");
    let tls = normal_dependencies(&dir, &["snakepit-bridge/tls"]);
    assert!(tls.iter().any(|name| name == "rustls"), "{tls:?}");
    assert!(!tls.iter().any(|name| name == TESTKIT), "{tls:?}");
    let testkit = normal_dependencies(&dir, &["snakepit-bridge/testkit"]);
    assert!(testkit.iter().any(|name| name == TESTKIT), "{testkit:?}");
}

#[test]
fn schemars_is_a_default_feature_a_worker_can_leave_out() {
    let with = normal_dependencies(&worker_crate("schemars", ""), &[]);
    assert!(with.iter().any(|name| name == "schemars"), "{with:?}");
    let dir = worker_crate("no-schemars", ", default-features = false");
    let without = normal_dependencies(&dir, &[]);
    assert!(
        without.iter().any(|name| name == "snakepit-bridge-worker"),
        "the tree was not read: {without:?}"
    );
    let left: Vec<&String> = without
        .iter()
        .filter(|name| SCHEMARS.contains(&name.as_str()))
        .collect();
    assert!(
        left.is_empty(),
        "without default features a worker builds {left:?}"
    );
}
