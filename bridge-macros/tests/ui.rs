//! The compile errors users see from `#[elixir_tools]` and `#[worker_tools]`, pinned as `.stderr`
//! snapshots. Refresh them with `TRYBUILD=overwrite cargo test -p snakepit-bridge-macros --test ui`.
//!
//! Only failing cases are here: trybuild then checks (`cargo check`) instead of building, and its
//! crate depends on this crate's few dev-dependencies, not on the facade's. The uses that must
//! compile are the facade's tests (`tests/it/compiles/`), built with the workspace.

mod common;

#[test]
fn ui() {
    // trybuild compiles the cases in a crate of its own under target/; manifests named in the
    // cases are resolved from the workspace's root, as they would be from the facade's.
    std::env::set_var("SNAKEPIT_TOOLS_MANIFEST_DIR", common::workspace_root());
    std::env::set_var("CARGO_PROFILE_DEV_DEBUG", common::PROFILE_DEV_DEBUG);
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.compile_fail("tests/ui/worker_fail/*.rs");
}
