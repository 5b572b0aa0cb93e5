//! Generates the runtime's gRPC code from snakepit's proto, with protox (a protobuf compiler
//! written in Rust, so no `protoc` is needed) and tonic-prost-build.
//!
//! ```text
//! cargo run -p snakepit-bridge-codegen             # writes bridge-runtime/src/generated/
//! cargo run -p snakepit-bridge-codegen -- --check  # fails if that file is not what the proto gives
//! cargo run -p snakepit-bridge-codegen -- --check --same-wire-as \
//!     $SNAKEPIT_VENDOR/deps/snakepit/priv/proto/snakepit_bridge.proto
//! ```
//!
//! `--same-wire-as` also checks that the runtime's proto describes the same wire as snakepit's
//! own copy (`priv/proto/snakepit_bridge.proto`): the same services, messages, fields, numbers
//! and types; only the comments may differ.
//!
//! The generated file is checked in, so that building the runtime (and every worker) compiles
//! no protobuf compiler and runs no build script.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use prost_types::FileDescriptorSet;

/// The proto, in bridge-runtime/proto/.
const PROTO_FILE: &str = "snakepit_bridge.proto";

/// The one file the proto's one package gives.
const GENERATED_FILE: &str = "snakepit.bridge.rs";

/// What the command line asks for.
struct Options {
    /// Check the generated file instead of writing it.
    check: bool,
    /// snakepit's copy of the proto, to compare the wire with.
    same_wire_as: Option<PathBuf>,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    // This crate lives in bridge-runtime/codegen/.
    let codegen_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime_dir = codegen_dir.parent().unwrap_or(codegen_dir);
    match run(runtime_dir, &options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = std::ffi::OsString>) -> Result<Options, String> {
    let mut options = Options {
        check: false,
        same_wire_as: None,
    };
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--check") => options.check = true,
            Some("--same-wire-as") => {
                let path = args.next().ok_or(
                    "--same-wire-as needs the path of snakepit's priv/proto/snakepit_bridge.proto",
                )?;
                options.same_wire_as = Some(PathBuf::from(path));
            }
            _ => {
                return Err(format!(
                    "unknown argument `{}`; the options are --check and --same-wire-as PATH",
                    arg.to_string_lossy()
                ))
            }
        }
    }
    Ok(options)
}

fn run(runtime_dir: &Path, options: &Options) -> Result<(), String> {
    let proto_dir = runtime_dir.join("proto");
    if let Some(snakepit_proto) = &options.same_wire_as {
        check_same_wire(&proto_dir.join(PROTO_FILE), snakepit_proto)?;
    }
    let check = options.check;
    let generated = generate(&proto_dir)?;
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

/// The descriptors of one proto file, compiled on its own.
fn compile(proto_file: &Path) -> Result<FileDescriptorSet, String> {
    let dir = proto_file.parent().unwrap_or(Path::new("."));
    protox::compile([proto_file], [dir])
        .map_err(|error| format!("cannot compile {}: {error}", proto_file.display()))
}

/// Fails unless `ours` and `snakepit`'s proto describe the same wire: their descriptors without
/// the source information (comments, line numbers) are equal. The error names what differs.
fn check_same_wire(ours: &Path, snakepit: &Path) -> Result<(), String> {
    let [ours_set, theirs_set] = [ours, snakepit].map(|path| {
        compile(path).map(|mut set| {
            for file in &mut set.file {
                file.source_code_info = None;
            }
            set
        })
    });
    let (ours_set, theirs_set) = (ours_set?, theirs_set?);
    if ours_set == theirs_set {
        println!(
            "{} describes the same wire as {}",
            ours.display(),
            snakepit.display()
        );
        return Ok(());
    }
    let differing = differing_definitions(&ours_set, &theirs_set);
    Err(format!(
        "{} and snakepit's {} describe different wires ({}); copy snakepit's messages and \
         services as they are",
        ours.display(),
        snakepit.display(),
        if differing.is_empty() {
            "the files' options differ".to_owned()
        } else {
            format!("differing: {}", differing.join(", "))
        }
    ))
}

/// The names of the messages, enums and services that differ between two descriptor sets, or
/// are in one only.
fn differing_definitions(ours: &FileDescriptorSet, theirs: &FileDescriptorSet) -> Vec<String> {
    fn definitions(set: &FileDescriptorSet) -> Vec<(String, String)> {
        let mut all = Vec::new();
        for file in &set.file {
            all.extend(
                file.message_type
                    .iter()
                    .map(|m| (m.name().to_owned(), format!("{m:?}"))),
            );
            all.extend(
                file.enum_type
                    .iter()
                    .map(|e| (e.name().to_owned(), format!("{e:?}"))),
            );
            all.extend(
                file.service
                    .iter()
                    .map(|s| (s.name().to_owned(), format!("{s:?}"))),
            );
        }
        all
    }
    let (ours, theirs) = (definitions(ours), definitions(theirs));
    let mut names: Vec<String> = ours
        .iter()
        .filter(|definition| !theirs.contains(definition))
        .chain(
            theirs
                .iter()
                .filter(|definition| !ours.contains(definition)),
        )
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The code tonic-prost-build writes for `snakepit_bridge.proto`, as text.
fn generate(proto_dir: &Path) -> Result<String, String> {
    let descriptors = compile(&proto_dir.join(PROTO_FILE))?;
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
