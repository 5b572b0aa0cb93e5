//! The compile errors users see from `#[elixir_tools]` and `#[worker_tools]`, pinned as `.stderr` snapshots, and the
//! features that must compile. Refresh snapshots with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    // trybuild compiles the cases in a crate of its own under target/; manifests named in the
    // cases are resolved from this crate's directory instead.
    std::env::set_var("SNAKEPIT_TOOLS_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    // Without debug info, that crate and its dependencies build and link with about a sixth
    // less CPU; the messages compared are the same.
    std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "0");
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/worker_pass/*.rs");
    cases.compile_fail("tests/ui/worker_fail/*.rs");
}
