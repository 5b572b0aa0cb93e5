//! Generates the runtime's gRPC code from snakepit's proto, with protox (a protobuf compiler
//! written in Rust, so no `protoc` is needed) and tonic-prost-build.
//!
//! ```text
//! cargo run -p snakepit-bridge-codegen             # writes bridge-runtime/src/generated/
//! cargo run -p snakepit-bridge-codegen -- --check  # fails if that file is not what the proto gives
//! ```
//!
//! The generated file is checked in, so that building the runtime (and every worker) compiles
//! no protobuf compiler and runs no build script.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The one file the proto's one package gives.
const GENERATED_FILE: &str = "snakepit.bridge.rs";

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("error: unknown argument `{other}`; the only option is --check");
            return ExitCode::from(2);
        }
    };
    // This crate lives in bridge-runtime/codegen/.
    let codegen_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime_dir = codegen_dir.parent().unwrap_or(codegen_dir);
    match run(runtime_dir, check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(runtime_dir: &Path, check: bool) -> Result<(), String> {
    let generated = generate(&runtime_dir.join("proto"))?;
    let target = runtime_dir.join("src/generated").join(GENERATED_FILE);
    if check {
        let current = std::fs::read_to_string(&target)
            .map_err(|error| format!("cannot read {}: {error}", target.display()))?;
        if current != generated {
            return Err(format!(
                "{} is not what bridge-runtime/proto/snakepit_bridge.proto gives with this \
                 workspace's protox and tonic-prost-build; run `cargo run -p snakepit-bridge-codegen` \
                 and commit the file",
                target.display()
            ));
        }
        println!("{} is current", target.display());
    } else {
        std::fs::write(&target, generated)
            .map_err(|error| format!("cannot write {}: {error}", target.display()))?;
        println!("wrote {}", target.display());
    }
    Ok(())
}

/// The code tonic-prost-build writes for `snakepit_bridge.proto`, as text.
fn generate(proto_dir: &Path) -> Result<String, String> {
    let proto_file: PathBuf = proto_dir.join("snakepit_bridge.proto");
    let descriptors = protox::compile([&proto_file], [proto_dir])
        .map_err(|error| format!("cannot compile {}: {error}", proto_file.display()))?;
    let out_dir =
        tempfile::tempdir().map_err(|error| format!("cannot make a temporary folder: {error}"))?;
    tonic_prost_build::configure()
        .out_dir(out_dir.path())
        .emit_rerun_if_changed(false)
        // Binary results can be large: keep them as `Bytes`, shared with the decode buffer.
        .bytes(".snakepit.bridge.ExecuteElixirToolResponse.binary_result")
        // A worker answers binary results it already holds as `Bytes`: no copy into the message.
        .bytes(".snakepit.bridge.ExecuteToolResponse.binary_result")
        .compile_fds(descriptors)
        .map_err(|error| format!("cannot generate the gRPC code: {error}"))?;
    let path = out_dir.path().join(GENERATED_FILE);
    std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}
