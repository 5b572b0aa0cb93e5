//! Cargo rebuilds a crate when its tool manifest changes: no stale result, no `cargo clean`.
//!
//! Builds a small crate of its own (with `cargo check`, offline, against this workspace's
//! lockfile), edits its manifest, and checks again.

use std::path::{Path, PathBuf};
use std::process::Command;

use snakepit_bridge::spec::Manifest;

const TRAIT: &str = r#"
use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "elixir_tools.json")]
pub trait Tools {
    async fn calculate_fibonacci(&self, n: u32) -> Result<serde_json::Value, Error>;
}
"#;

fn cargo_check(dir: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format=short"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("SNAKEPIT_TOOLS_MANIFEST_DIR")
        .output()
        .expect("cargo runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write_crate(dir: &Path, facade: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"manifest-rebuild-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nsnakepit-bridge = {{ path = {:?} }}\nserde_json = \"1\"\n\n[workspace]\n",
            facade.display().to_string()
        ),
    )
    .unwrap();
    // The workspace's lockfile: the same versions, all already downloaded.
    std::fs::copy(facade.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), TRAIT).unwrap();
}

#[test]
fn editing_the_manifest_rebuilds_the_crate() {
    let facade = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("manifest_rebuild");
    write_crate(&dir, &facade);
    let manifest_path = dir.join("elixir_tools.json");
    let demo = std::fs::read_to_string(facade.join("examples/elixir_tools.json")).unwrap();

    std::fs::write(&manifest_path, &demo).unwrap();
    let (ok, stderr) = cargo_check(&dir);
    assert!(ok, "the crate agrees with the demo manifest:\n{stderr}");

    let mut drifted = Manifest::from_json(&demo).unwrap();
    drifted
        .tools
        .retain(|tool| tool.name != "calculate_fibonacci");
    std::fs::write(&manifest_path, drifted.to_json()).unwrap();
    let (ok, stderr) = cargo_check(&dir);
    assert!(!ok, "a manifest without the tool must fail the build");
    assert!(
        stderr.contains("the host exposes no tool `calculate_fibonacci`"),
        "{stderr}"
    );

    std::fs::write(&manifest_path, &demo).unwrap();
    let (ok, stderr) = cargo_check(&dir);
    assert!(ok, "restoring the manifest must pass again:\n{stderr}");

    std::fs::remove_file(&manifest_path).unwrap();
    let (ok, stderr) = cargo_check(&dir);
    assert!(!ok);
    assert!(stderr.contains("cannot read the tool manifest"), "{stderr}");
    assert!(
        stderr.contains(
            "snakepit-tools snapshot --address HOST:PORT --session SESSION -o elixir_tools.json"
        ),
        "{stderr}"
    );
}
