//! Compiles `proto/snakepit_bridge.proto` (in this crate) with protox, a protobuf compiler written in Rust, so
//! that building needs no `protoc` on the machine.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    // The one copy of the proto lives in this crate, so that its published tarball builds;
    // the workspace's top-level `proto/` links here.
    let proto_dir = manifest_dir.join("proto");
    let proto_file = proto_dir.join("snakepit_bridge.proto");
    println!("cargo:rerun-if-changed={}", proto_file.display());

    let descriptors = protox::compile([&proto_file], [&proto_dir])?;
    tonic_prost_build::configure()
        // Binary results can be large: keep them as `Bytes`, shared with the decode buffer.
        .bytes(".snakepit.bridge.ExecuteElixirToolResponse.binary_result")
        // A worker answers binary results it already holds as `Bytes`: no copy into the message.
        .bytes(".snakepit.bridge.ExecuteToolResponse.binary_result")
        .compile_fds(descriptors)?;
    Ok(())
}
