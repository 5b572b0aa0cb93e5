//! `WORKER --snakepit-describe`: the worker's tool manifest on stdout, every tool as the worker
//! registers it with the host, with nothing bound and nothing connected.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;
use snakepit_bridge::spec::{HostTool, Manifest};
use snakepit_bridge::testkit::host::{demo_tools, EmbeddedHost};
use snakepit_bridge::testkit::launcher::Launcher;

/// The example binary, built by `cargo test` next to the test binaries.
fn showcase_worker() -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join("showcase_worker")
}

/// The manifest the showcase prints, run by hand with no snakepit environment at all.
fn describe() -> Manifest {
    let output = Command::new(showcase_worker())
        .arg("--snakepit-describe")
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("the showcase worker runs");
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let manifest = Manifest::from_json(&text).expect("a manifest");
    // The same bytes again: the manifest is stable and written in its canonical form.
    assert_eq!(manifest.to_json(), text);
    manifest
}

fn tool<'a>(manifest: &'a Manifest, name: &str) -> &'a HostTool {
    manifest
        .tools
        .iter()
        .find(|tool| tool.name == name)
        .unwrap_or_else(|| panic!("{name} missing from the manifest"))
}

#[test]
fn the_manifest_lists_every_tool_with_its_parameters_defaults_and_schemas() {
    let manifest = describe();
    assert_eq!(manifest.worker.as_deref(), Some("showcase_worker"));
    assert_eq!(manifest.session, "");

    let ping = tool(&manifest, "ping");
    assert_eq!(ping.description, "Echo back a message with a timestamp.");
    assert_eq!(
        serde_json::to_value(&ping.parameters).unwrap(),
        json!([{"name": "message", "type": "string", "required": false, "description": "",
                "default": "pong", "schema": ping.parameters[0].schema.clone().unwrap()}])
    );
    assert_eq!(
        ping.parameters[0].schema.as_ref().unwrap()["type"],
        "string"
    );
    // `Pong` derives `JsonSchema`; `Value` results say nothing.
    let pong = ping.result_schema.as_ref().expect("ping's result schema");
    assert_eq!(pong["properties"]["timestamp"]["type"], "string");
    assert_eq!(tool(&manifest, "basic_echo").result_schema, None);

    let binary = tool(&manifest, "process_binary");
    assert!(binary.parameters[0].binary);
    assert_eq!(binary.parameters[0].type_name, "bytes");
    assert_eq!(binary.parameters[0].description, "The bytes to process");
    assert_eq!(binary.parameters[0].schema, None);
    assert_eq!(binary.parameters[1].default, Some(json!("checksum")));

    let text = tool(&manifest, "process_text");
    assert_eq!(
        text.parameter("operation").unwrap().description,
        "upper, lower, reverse or length"
    );

    assert!(tool(&manifest, "stream_data").supports_streaming);
    assert!(!ping.supports_streaming);
    assert!(tool(&manifest, "echo").extra_parameters);
    assert!(tool(&manifest, "call_elixir_demo").extra_parameters);
    assert!(!ping.extra_parameters);
    // The `#[param(rest)]` argument: registered as a required `any` parameter named after the
    // argument, as Python registers `**kwargs`, and marked as the rest one.
    assert_eq!(
        serde_json::to_value(&tool(&manifest, "echo").parameters).unwrap(),
        json!([{"name": "kwargs", "type": "any", "required": true, "description": "", "rest": true}])
    );
    let demo = tool(&manifest, "call_elixir_demo");
    let rest: Vec<(&str, bool)> = demo
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.rest))
        .collect();
    assert_eq!(rest, [("tool_name", false), ("kwargs", true)]);
    assert!(manifest
        .tools
        .iter()
        .all(|tool| tool.extra_parameters == tool.parameters.iter().any(|p| p.rest)));
    // The context is not a parameter.
    let fibonacci = tool(&manifest, "elixir_fibonacci");
    let names: Vec<&str> = fibonacci
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["n"]);
}

#[tokio::test]
async fn the_manifest_is_what_the_worker_registers_with_the_host() {
    let manifest = describe();

    let host = EmbeddedHost::builder()
        .tools(demo_tools())
        .start()
        .await
        .expect("the host starts");
    let worker = Launcher::new(showcase_worker())
        .launch(&host)
        .await
        .expect("the showcase worker launches");
    let registered = host.worker_tools(worker.session_id());
    worker.shutdown().await.expect("the worker stops");

    let registered_names: Vec<&str> = registered.iter().map(|r| r.tool.name.as_str()).collect();
    let described_names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(described_names, registered_names);
    for registered in &registered {
        let registered = &registered.tool;
        let described = tool(&manifest, &registered.name);
        let name = &registered.name;
        assert_eq!(described.description, registered.description, "{name}");
        assert_eq!(
            described.supports_streaming, registered.supports_streaming,
            "{name}"
        );
        assert_eq!(
            described.parameters.len(),
            registered.parameters.len(),
            "{name}"
        );
        for (described, registered) in described.parameters.iter().zip(&registered.parameters) {
            let parameter = format!("{name}.{}", registered.name);
            assert_eq!(described.name, registered.name, "{parameter}");
            assert_eq!(described.type_name, registered.type_name, "{parameter}");
            assert_eq!(described.required, registered.required, "{parameter}");
            assert_eq!(described.description, registered.description, "{parameter}");
            // The worker sends a default in `validation_json`, as snakepit's Python worker does.
            assert_eq!(
                described.default.as_ref(),
                registered.validation.get("default"),
                "{parameter}"
            );
            assert_eq!(
                described.binary,
                registered.type_name == "bytes",
                "{parameter}"
            );
        }
    }
    // A parameter with a default really registers it.
    let ping = registered.iter().find(|r| r.tool.name == "ping").unwrap();
    assert_eq!(
        ping.tool.parameters[0].validation,
        json!({"default": "pong"})
    );
}

/// The showcase's manifest committed for the Elixir package (its bindings are tested against
/// it, and elixir/README.md shows it): what the worker describes now.
const COMMITTED_MANIFEST: &str = "elixir/test/fixtures/showcase_worker_tools.json";

#[test]
fn the_committed_showcase_manifest_is_what_the_showcase_describes_now() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED_MANIFEST);
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let now = describe();
    if committed != now.to_json() {
        let drift: Vec<String> = match Manifest::from_json(&committed) {
            Ok(recorded) => snakepit_bridge::spec::tool_drift(&recorded.tools, &now.tools)
                .iter()
                .map(|drift| format!("  {drift}"))
                .collect(),
            Err(error) => vec![format!("  it is not a manifest: {error}")],
        };
        let drift = if drift.is_empty() {
            "  the same tools, written differently (not as the worker writes them)".to_owned()
        } else {
            drift.join("\n")
        };
        panic!(
            "{COMMITTED_MANIFEST} differs from what the showcase worker describes now:\n{drift}\n\
             rewrite it with:\n  cargo build --example showcase_worker && \
             target/debug/examples/showcase_worker --snakepit-describe > {COMMITTED_MANIFEST}"
        );
    }
}
