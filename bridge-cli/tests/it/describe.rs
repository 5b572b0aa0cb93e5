//! `snakepit-tools describe -- EXE`: the manifest of any worker, read from the tools it
//! registers with the host, against the showcase worker (which also describes itself with
//! `--snakepit-describe`) and the Python grpcio worker.

use std::path::Path;
use std::process::Command;

use crate::support::{python_grpc_available, showcase_worker, text, tools, PYTHON_WORKER};
use serde_json::json;
use snakepit_bridge_spec::{HostTool, Manifest};

fn describe(command: &[&str]) -> Manifest {
    let mut args = vec!["describe", "--"];
    args.extend_from_slice(command);
    let output = tools(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    let manifest = Manifest::from_json(&printed).expect("describe prints a manifest");
    assert_eq!(manifest.to_json(), printed, "written in the canonical form");
    manifest
}

/// What `showcase_worker --snakepit-describe` prints, less what a registration cannot carry:
/// JSON Schemas (of parameters and results) and `extra_parameters`.
fn self_described_without_schemas() -> Manifest {
    let output = Command::new(showcase_worker())
        .arg("--snakepit-describe")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut manifest = Manifest::from_json(&text(&output.stdout)).unwrap();
    assert!(
        manifest
            .tools
            .iter()
            .any(|tool| tool.result_schema.is_some()
                || tool.extra_parameters
                || tool.parameters.iter().any(|p| p.schema.is_some())),
        "the showcase has schemas, extra parameters and rest parameters to leave out"
    );
    for tool in &mut manifest.tools {
        tool.result_schema = None;
        tool.extra_parameters = false;
        for parameter in &mut tool.parameters {
            parameter.schema = None;
            // Which parameter is `#[param(rest)]` is not in a registration either.
            parameter.rest = false;
        }
    }
    manifest
}

fn tool<'m>(manifest: &'m Manifest, name: &str) -> &'m HostTool {
    manifest
        .tools
        .iter()
        .find(|tool| tool.name == name)
        .unwrap_or_else(|| panic!("no tool `{name}` in {manifest:?}"))
}

#[test]
fn describing_the_showcase_gives_what_it_describes_itself_tool_for_tool() {
    let described = describe(&[showcase_worker().to_str().unwrap()]);
    let expected = self_described_without_schemas();
    assert_eq!(described.worker.as_deref(), Some("showcase_worker"));
    assert_eq!(
        described
            .tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        expected
            .tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
    );
    for (got, want) in described.tools.iter().zip(&expected.tools) {
        assert_eq!(got.description, want.description, "tool `{}`", want.name);
        assert_eq!(
            got.supports_streaming, want.supports_streaming,
            "tool `{}`",
            want.name
        );
        assert_eq!(got.metadata, want.metadata, "tool `{}`", want.name);
        assert_eq!(
            got.parameters.len(),
            want.parameters.len(),
            "tool `{}`",
            want.name
        );
        for (param, wanted) in got.parameters.iter().zip(&want.parameters) {
            assert_eq!(param, wanted, "tool `{}`", want.name);
        }
    }
    assert_eq!(described, expected);
    // The fields that make the difference are there: defaults, binary, streaming.
    let binary = tool(&described, "process_binary");
    assert!(binary.parameters[0].binary);
    assert_eq!(binary.parameters[1].default, Some(json!("checksum")));
    assert!(tool(&described, "stream_data").supports_streaming);
}

#[test]
fn o_writes_the_manifest_to_a_file_and_name_overrides_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tools.json");
    let output = tools(&[
        "describe",
        "-o",
        path.to_str().unwrap(),
        "--name",
        "showcase",
        "--",
        showcase_worker().to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let manifest = Manifest::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(manifest.worker.as_deref(), Some("showcase"));
    assert_eq!(manifest.tools, self_described_without_schemas().tools);
}

#[test]
fn a_worker_that_registers_nothing_is_an_error_that_says_so() {
    let raw_worker = showcase_worker().with_file_name("raw_worker");
    let output = tools(&["describe", "--", raw_worker.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let message = text(&output.stderr);
    assert!(
        message.starts_with(
            "error: the worker registered no tools with the host, even when called once"
        ),
        "{message}"
    );
    let output = tools(&["describe", "-o", "x.json"]);
    assert_eq!(output.status.code(), Some(2), "the command is required");
    assert!(!Path::new("x.json").exists());
}

#[test]
fn describing_the_python_worker_reads_its_lazy_registration() {
    if !python_grpc_available() {
        return;
    }
    let manifest = describe(&["python3", PYTHON_WORKER]);
    assert_eq!(manifest.worker.as_deref(), Some("python_worker"));
    assert_eq!(
        manifest
            .tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        [
            "basic_add",
            "echo",
            "error_demo",
            "payload",
            "ping",
            "stream_data"
        ]
    );
    // As snakepit's base_adapter.py registers them: the annotation's name, required without
    // a default, the default from validation_json, the docstring.
    assert_eq!(
        serde_json::to_value(tool(&manifest, "ping")).unwrap(),
        json!({
            "name": "ping",
            "description": "Echo back a message with a timestamp.",
            "parameters": [
                {"name": "message", "type": "str", "required": false, "description": "", "default": "pong"}
            ]
        })
    );
    assert_eq!(
        serde_json::to_value(tool(&manifest, "stream_data")).unwrap(),
        json!({
            "name": "stream_data",
            "description": "Stream `count` chunks, `delay` seconds apart.",
            "parameters": [
                {"name": "count", "type": "int", "required": false, "description": "", "default": 5},
                {"name": "delay", "type": "float", "required": false, "description": "", "default": 1.0}
            ],
            "supports_streaming": true
        })
    );
    assert_eq!(
        serde_json::to_value(&tool(&manifest, "echo").parameters).unwrap(),
        json!([{"name": "kwargs", "type": "any", "required": true, "description": ""}])
    );
}
