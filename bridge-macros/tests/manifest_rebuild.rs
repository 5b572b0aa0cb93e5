//! Cargo rebuilds a crate when its tool manifest changes: no stale result, no `cargo clean`.
//!
//! Builds a small crate of its own (with `cargo check`, offline, against the workspace's
//! lockfile, in trybuild's target folder and with its flags, whose build of the dependencies it
//! reuses), edits its manifest, and checks again.

use std::path::Path;

use snakepit_bridge::spec::Manifest;

mod common;

const TRAIT: &str = r#"
use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "elixir_tools.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<serde_json::Value, Error>;
}
"#;

/// The crate: the facade and this crate's other dependencies and dev-dependencies, as trybuild's
/// crate for this crate has them, so that the features of every dependency are the same and
/// trybuild's build of them is reused.
fn write_crate(dir: &Path) {
    let root = common::workspace_root();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let path = |folder: &str| format!("{:?}", root.join(folder).display().to_string());
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"manifest-rebuild-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n\
             snakepit-bridge = {{ path = {facade} }}\n\
             snakepit-bridge-macros = {{ path = {macros}, default-features = false }}\n\
             snakepit-bridge-spec = {{ path = {spec} }}\n\
             proc-macro2 = \"1\"\nquote = \"1\"\n\
             syn = {{ version = \"2\", features = [\"full\", \"visit\", \"visit-mut\", \"extra-traits\"] }}\n\
             serde = {{ version = \"1\", features = [\"derive\"] }}\n\
             serde_json = {{ version = \"1\", features = [\"raw_value\", \"float_roundtrip\"] }}\n\
             trybuild = \"1\"\n\n[workspace]\n",
            facade = path("."),
            macros = path("bridge-macros"),
            spec = path("bridge-spec"),
        ),
    )
    .unwrap();
    // The workspace's lockfile: the same versions, all already downloaded.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), TRAIT).unwrap();
}

#[test]
fn editing_the_manifest_rebuilds_the_crate() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifest_rebuild");
    write_crate(&dir);
    let manifest_path = dir.join("elixir_tools.json");
    let demo = std::fs::read_to_string(common::workspace_root().join("examples/elixir_tools.json"))
        .unwrap();

    std::fs::write(&manifest_path, &demo).unwrap();
    let (ok, stderr) = common::cargo_check_as_trybuild(&dir);
    assert!(ok, "the crate agrees with the demo manifest:\n{stderr}");

    let mut drifted = Manifest::from_json(&demo).unwrap();
    drifted
        .tools
        .retain(|tool| tool.name != "calculate_fibonacci");
    std::fs::write(&manifest_path, drifted.to_json()).unwrap();
    let (ok, stderr) = common::cargo_check_as_trybuild(&dir);
    assert!(!ok, "a manifest without the tool must fail the build");
    assert!(
        stderr.contains("the host exposes no tool `calculate_fibonacci`"),
        "{stderr}"
    );

    std::fs::write(&manifest_path, &demo).unwrap();
    let (ok, stderr) = common::cargo_check_as_trybuild(&dir);
    assert!(ok, "restoring the manifest must pass again:\n{stderr}");

    std::fs::remove_file(&manifest_path).unwrap();
    let (ok, stderr) = common::cargo_check_as_trybuild(&dir);
    assert!(!ok);
    assert!(stderr.contains("cannot read the tool manifest"), "{stderr}");
    assert!(
        stderr.contains(
            "snakepit-tools snapshot --address HOST:PORT --session SESSION -o elixir_tools.json"
        ),
        "{stderr}"
    );
}
