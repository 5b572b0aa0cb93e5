//! The tool manifest: a committed snapshot of the host's tool list, the input of the
//! compile-time check, written and verified by the `snakepit-tools` CLI.
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "session": "demo-session",
//!   "tools": [
//!     {
//!       "name": "calculate_fibonacci",
//!       "description": "Calculate Fibonacci sequence up to n terms",
//!       "parameters": [
//!         { "name": "n", "type": "integer", "required": true, "description": "Number of terms" }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! A worker's manifest (printed by a Rust worker run with `--snakepit-describe`) has the same
//! format, with `worker` naming what the tools were described from instead of `session`, and
//! the fields only a worker knows: each parameter's `binary` flag, JSON `schema` and `rest`
//! marker, and each tool's `extra_parameters` and `result_schema`. Every such field is left out
//! when empty or false, so that a host's manifest reads and writes unchanged.
//!
//! `"rest": true` marks the parameter that takes every parameter of the call no other one
//! names (a Rust worker's `#[param(rest)]`, Python's `**kwargs`). The worker registers it with
//! the host as a required `any` parameter named after its argument (`kwargs`), as Python does,
//! but a caller never passes it by that name: bindings generated from the manifest leave it out
//! of a tool's arguments and send the caller's other options as parameters instead (the tool
//! has `"extra_parameters": true`).
//!
//! ```json
//! {
//!   "name": "echo",
//!   "description": "Echo back every parameter received.",
//!   "parameters": [
//!     { "name": "kwargs", "type": "any", "required": true, "description": "", "rest": true }
//!   ],
//!   "extra_parameters": true
//! }
//! ```
//!
//! Tools are sorted by name (the host lists them in hash order), parameters keep the host's
//! order, and the JSON is pretty-printed with a final newline, so that diffs stay small.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{HostParameter, HostTool};

/// The command that writes a manifest, as every message that asks for one spells it.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::snapshot_command;
/// assert_eq!(
///     snapshot_command("HOST:PORT", "SESSION", "elixir_tools.json"),
///     "snakepit-tools snapshot --address HOST:PORT --session SESSION -o elixir_tools.json"
/// );
/// ```
pub fn snapshot_command(address: &str, session: &str, output: &str) -> String {
    format!("snakepit-tools snapshot --address {address} --session {session} -o {output}")
}

/// The manifest format this version reads and writes.
pub const MANIFEST_FORMAT_VERSION: u32 = 1;

/// A snapshot of the tools a host exposes to one session, or of the tools a worker serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The format's version, [`MANIFEST_FORMAT_VERSION`].
    pub format_version: u32,
    /// What the tools were described from, for a worker's manifest (the worker's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The session whose tools were listed; empty for a worker's manifest.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub session: String,
    /// The tools, sorted by name.
    pub tools: Vec<HostTool>,
}

/// Why a manifest could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ManifestError {
    /// The text is not a manifest (bad JSON or missing fields).
    Invalid(serde_json::Error),
    /// The text is JSON, but not an object.
    NotAnObject,
    /// The manifest was written in a format this version does not read.
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Invalid(error) => write!(f, "{error}"),
            ManifestError::NotAnObject => f.write_str("a manifest is a JSON object with `format_version` and `tools`"),
            ManifestError::UnsupportedVersion { found } => write!(
                f,
                "format_version {found} is not supported (this version reads {MANIFEST_FORMAT_VERSION})"
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// A manifest of `tools` for `session`, sorted by tool name.
    pub fn new(session: impl Into<String>, tools: impl IntoIterator<Item = HostTool>) -> Self {
        let mut tools: Vec<HostTool> = tools.into_iter().collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        Manifest {
            format_version: MANIFEST_FORMAT_VERSION,
            worker: None,
            session: session.into(),
            tools,
        }
    }

    /// The manifest of the tools a worker serves (`worker` names it), sorted by tool name.
    ///
    /// ```
    /// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
    /// use snakepit_bridge::spec::{HostTool, Manifest};
    /// let manifest = Manifest::for_worker("showcase_worker", [HostTool::new("ping")]);
    /// assert_eq!(
    ///     manifest.to_json(),
    ///     "{\n  \"format_version\": 1,\n  \"worker\": \"showcase_worker\",\n  \"tools\": [\n    {\n      \"name\": \"ping\",\n      \"description\": \"\",\n      \"parameters\": []\n    }\n  ]\n}\n"
    /// );
    /// ```
    pub fn for_worker(
        worker: impl Into<String>,
        tools: impl IntoIterator<Item = HostTool>,
    ) -> Self {
        Manifest {
            worker: Some(worker.into()),
            ..Manifest::new("", tools)
        }
    }

    /// Reads a manifest from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(ManifestError::Invalid)?;
        // Only the object form: serde would also take a struct written as an array, which would
        // slip past the version check.
        let Some(object) = value.as_object() else {
            return Err(ManifestError::NotAnObject);
        };
        // The version first, so a newer format is reported as such, not as bad fields.
        let version = object
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if let Some(found) = version.filter(|v| *v != u64::from(MANIFEST_FORMAT_VERSION)) {
            return Err(ManifestError::UnsupportedVersion { found });
        }
        let mut manifest: Manifest =
            serde_json::from_value(value).map_err(ManifestError::Invalid)?;
        manifest.tools.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(manifest)
    }

    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serializes");
        text.push('\n');
        text
    }
}

/// How the host's live tool list differs from a recorded one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolDrift {
    /// The host exposes a tool the record lacks.
    Added(String),
    /// The record has a tool the host no longer exposes.
    Removed(String),
    /// The tool exists in both, with these differences.
    Changed {
        /// The tool.
        tool: String,
        /// One readable line per difference.
        changes: Vec<String>,
    },
}

impl fmt::Display for ToolDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolDrift::Added(tool) => {
                write!(f, "+ tool `{tool}` is exposed by the host but not recorded")
            }
            ToolDrift::Removed(tool) => write!(
                f,
                "- tool `{tool}` is recorded but no longer exposed by the host"
            ),
            ToolDrift::Changed { tool, changes } => {
                write!(f, "~ tool `{tool}`:")?;
                for change in changes {
                    write!(f, "\n    {change}")?;
                }
                Ok(())
            }
        }
    }
}

/// Every difference between the `recorded` tools and the `live` ones, by tool name.
pub fn tool_drift(recorded: &[HostTool], live: &[HostTool]) -> Vec<ToolDrift> {
    use std::collections::BTreeMap;
    let recorded: BTreeMap<&str, &HostTool> =
        recorded.iter().map(|t| (t.name.as_str(), t)).collect();
    let live: BTreeMap<&str, &HostTool> = live.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut names: Vec<&str> = recorded.keys().chain(live.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| match (recorded.get(name), live.get(name)) {
            (None, Some(_)) => Some(ToolDrift::Added(name.to_owned())),
            (Some(_), None) => Some(ToolDrift::Removed(name.to_owned())),
            (Some(old), Some(new)) => {
                let changes = tool_changes(old, new);
                (!changes.is_empty()).then(|| ToolDrift::Changed {
                    tool: name.to_owned(),
                    changes,
                })
            }
            (None, None) => None,
        })
        .collect()
}

/// What changed in a tool that both lists hold: its own fields, then each parameter's, then the
/// parameters added.
fn tool_changes(old: &HostTool, new: &HostTool) -> Vec<String> {
    let mut changes = Changes(Vec::new());
    changes.note(&old.description, &new.description, |a, b| {
        format!("description: {a:?} -> {b:?}")
    });
    changes.note(&old.supports_streaming, &new.supports_streaming, |a, b| {
        format!("supports_streaming: {a} -> {b}")
    });
    changes.note(&old.extra_parameters, &new.extra_parameters, |a, b| {
        format!("extra_parameters: {a} -> {b}")
    });
    changes.note(&old.result_schema, &new.result_schema, |a, b| {
        format!(
            "result_schema: {} -> {}",
            schema_text(a.as_ref()),
            schema_text(b.as_ref())
        )
    });
    changes.note(&old.metadata, &new.metadata, |a, b| {
        format!("metadata: {a:?} -> {b:?}")
    });
    for param in &old.parameters {
        match new.parameter(&param.name) {
            Some(now) => parameter_changes(&mut changes, param, now),
            None => changes
                .0
                .push(format!("parameter `{}` removed", param.name)),
        }
    }
    for param in &new.parameters {
        if old.parameter(&param.name).is_none() {
            changes.0.push(format!(
                "parameter `{}` added ({}, {})",
                param.name,
                param.type_name,
                required_word(param.required)
            ));
        }
    }
    changes.0
}

/// What changed in a parameter that both versions of a tool hold.
fn parameter_changes(changes: &mut Changes, old: &HostParameter, new: &HostParameter) {
    let name = &old.name;
    changes.note(&old.type_name, &new.type_name, |a, b| {
        format!("parameter `{name}`: type {a} -> {b}")
    });
    changes.note(&old.required, &new.required, |a, b| {
        format!(
            "parameter `{name}`: {} -> {}",
            required_word(*a),
            required_word(*b)
        )
    });
    changes.note(&old.default, &new.default, |a, b| {
        format!("parameter `{name}`: default {a:?} -> {b:?}")
    });
    changes.note(&old.description, &new.description, |a, b| {
        format!("parameter `{name}`: description {a:?} -> {b:?}")
    });
    changes.note(&old.binary, &new.binary, |a, b| {
        format!("parameter `{name}`: binary {a} -> {b}")
    });
    changes.note(&old.rest, &new.rest, |a, b| {
        format!("parameter `{name}`: rest {a} -> {b}")
    });
    changes.note(&old.schema, &new.schema, |a, b| {
        format!(
            "parameter `{name}`: schema {} -> {}",
            schema_text(a.as_ref()),
            schema_text(b.as_ref())
        )
    });
    changes.note(&old.validation, &new.validation, |a, b| {
        format!("parameter `{name}`: validation {a} -> {b}")
    });
}

/// The lines of [`ToolDrift::Changed`], one per field that differs.
struct Changes(Vec<String>);

impl Changes {
    /// Adds `line(old, new)` when the two differ.
    fn note<T: PartialEq>(&mut self, old: &T, new: &T, line: impl FnOnce(&T, &T) -> String) {
        if old != new {
            self.0.push(line(old, new));
        }
    }
}

fn required_word(required: bool) -> &'static str {
    if required {
        "required"
    } else {
        "optional"
    }
}

fn schema_text(schema: Option<&serde_json::Value>) -> String {
    schema.map_or_else(|| "none".to_owned(), serde_json::Value::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::HostParameter;

    fn tool(name: &str, params: Vec<HostParameter>) -> HostTool {
        HostTool {
            description: format!("{name} tool"),
            parameters: params,
            ..HostTool::new(name)
        }
    }

    #[test]
    fn round_trips_sorted_pretty_json() {
        let manifest = Manifest::new(
            "s",
            [
                tool("b", vec![]),
                tool("a", vec![HostParameter::new("n", "integer", true)]),
            ],
        );
        assert_eq!(manifest.tools[0].name, "a");
        let text = manifest.to_json();
        assert!(
            text.starts_with(
                "{\n  \"format_version\": 1,\n  \"session\": \"s\",\n  \"tools\": [\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
        assert_eq!(Manifest::from_json(&text).unwrap(), manifest);
    }

    #[test]
    fn a_host_manifest_reads_and_writes_byte_for_byte_unchanged() {
        // As `snakepit-tools snapshot` wrote it before worker manifests existed.
        let text = r#"{
  "format_version": 1,
  "session": "demo-session",
  "tools": [
    {
      "name": "calculate_fibonacci",
      "description": "Calculate Fibonacci sequence up to n terms",
      "parameters": [
        {
          "name": "n",
          "type": "integer",
          "required": true,
          "description": "Number of terms",
          "default": 10,
          "validation": {
            "min": 1
          }
        }
      ],
      "metadata": {
        "exposed_to_python": "true"
      },
      "supports_streaming": true
    }
  ]
}
"#;
        let manifest = Manifest::from_json(text).unwrap();
        assert_eq!(manifest.worker, None);
        assert_eq!(manifest.to_json(), text);
    }

    #[test]
    fn a_worker_manifest_has_no_session_and_round_trips() {
        let mut tool = tool("echo", vec![HostParameter::new("kwargs", "any", true)]);
        tool.parameters[0].rest = true;
        tool.extra_parameters = true;
        tool.result_schema = Some(json!({"type": "object"}));
        let manifest = Manifest::for_worker("showcase_worker", [tool]);
        let text = manifest.to_json();
        assert!(
            text.starts_with(
                "{\n  \"format_version\": 1,\n  \"worker\": \"showcase_worker\",\n  \"tools\": ["
            ),
            "{text}"
        );
        assert!(!text.contains("session"), "{text}");
        assert!(text.contains("\"rest\": true"), "{text}");
        assert_eq!(Manifest::from_json(&text).unwrap(), manifest);
    }

    #[test]
    fn drift_sees_the_fields_of_worker_manifests() {
        let recorded = [tool("t", vec![HostParameter::new("data", "bytes", true)])];
        let mut live = recorded.clone();
        live[0].extra_parameters = true;
        live[0].result_schema = Some(json!({"type": "string"}));
        live[0].parameters[0].binary = true;
        live[0].parameters[0].rest = true;
        live[0].parameters[0].schema = Some(json!(true));
        assert_eq!(
            tool_drift(&recorded, &live),
            vec![ToolDrift::Changed {
                tool: "t".into(),
                changes: vec![
                    "extra_parameters: false -> true".into(),
                    "result_schema: none -> {\"type\":\"string\"}".into(),
                    "parameter `data`: binary false -> true".into(),
                    "parameter `data`: rest false -> true".into(),
                    "parameter `data`: schema none -> true".into(),
                ],
            }]
        );
    }

    #[test]
    fn reading_sorts_tools_written_by_hand() {
        let text =
            json!({"format_version": 1, "session": "s", "tools": [{"name": "z"}, {"name": "a"}]})
                .to_string();
        let manifest = Manifest::from_json(&text).unwrap();
        assert_eq!(
            manifest
                .tools
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "z"]
        );
    }

    #[test]
    fn a_newer_format_is_reported_as_such() {
        let text = json!({"format_version": 2, "session": "s", "tools": "who knows"}).to_string();
        let error = Manifest::from_json(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "format_version 2 is not supported (this version reads 1)"
        );
    }

    #[test]
    fn the_array_form_of_the_struct_is_refused() {
        // Found by the fuzzer: serde reads a struct from an array too, with any version.
        let error = Manifest::from_json(r#"[13, "s", []]"#).unwrap_err();
        assert!(matches!(error, ManifestError::NotAnObject), "{error}");
        let error = Manifest::from_json(r#"[1, "s", []]"#).unwrap_err();
        assert!(matches!(error, ManifestError::NotAnObject), "{error}");
    }

    #[test]
    fn bad_json_says_where() {
        let error =
            Manifest::from_json("{\n  \"format_version\": 1,\n  \"tools\": [}").unwrap_err();
        assert!(error.to_string().contains("line 3"), "{error}");
    }

    #[test]
    fn drift_lists_added_removed_and_changed_tools() {
        let recorded = [
            tool("gone", vec![]),
            tool("same", vec![]),
            tool(
                "changed",
                vec![
                    HostParameter::new("n", "integer", true),
                    HostParameter::new("old", "string", false),
                ],
            ),
        ];
        let live = [
            tool("new", vec![]),
            tool("same", vec![]),
            tool(
                "changed",
                vec![
                    HostParameter::new("n", "string", false),
                    HostParameter::new("extra", "list", true),
                ],
            ),
        ];
        let drift = tool_drift(&recorded, &live);
        assert_eq!(
            drift,
            vec![
                ToolDrift::Changed {
                    tool: "changed".into(),
                    changes: vec![
                        "parameter `n`: type integer -> string".into(),
                        "parameter `n`: required -> optional".into(),
                        "parameter `old` removed".into(),
                        "parameter `extra` added (list, required)".into(),
                    ],
                },
                ToolDrift::Removed("gone".into()),
                ToolDrift::Added("new".into()),
            ]
        );
        assert_eq!(
            drift[1].to_string(),
            "- tool `gone` is recorded but no longer exposed by the host"
        );
        assert!(tool_drift(&live, &live).is_empty());
    }
}
