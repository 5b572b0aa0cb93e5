//! Markdown references of tools: of the tools a worker declares, and of the host's tools.

use std::fmt::Write;

use crate::{DeclaredTool, HostTool};

/// A Markdown reference of the tools a worker declares: per tool its description, a table of
/// parameters, and the result's type and JSON Schema.
pub fn declared_tools_markdown(title: &str, tools: &[DeclaredTool]) -> String {
    let mut out = format!("# {title}\n");
    for tool in tools {
        let _ = write!(out, "\n## `{}`\n\n", tool.name);
        if tool.method != tool.name {
            let _ = writeln!(out, "Rust method: `{}`\n", tool.method);
        }
        if !tool.description.is_empty() {
            let _ = writeln!(out, "{}\n", tool.description);
        }
        if tool.parameters.is_empty() {
            out.push_str("No parameters.\n");
        } else {
            out.push_str("| parameter | type | required | Rust type |\n|---|---|---|---|\n");
            for p in &tool.parameters {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | `{}` |",
                    p.name,
                    p.kind,
                    yes_no(p.required),
                    cell(&p.rust_type)
                );
            }
        }
        let _ = write!(
            out,
            "\nResult: `{}`\n\n```json\n{}\n```\n",
            cell(&tool.result_type),
            pretty(&tool.result_schema)
        );
    }
    out
}

/// A Markdown reference of the host's tools, sorted by name: descriptions and parameter tables
/// with types, required-ness, defaults and descriptions.
pub fn host_tools_markdown<'a>(
    title: &str,
    tools: impl IntoIterator<Item = &'a HostTool>,
) -> String {
    let mut tools: Vec<&HostTool> = tools.into_iter().collect();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = format!("# {title}\n");
    for tool in tools {
        let _ = write!(out, "\n## `{}`\n\n", tool.name);
        if !tool.description.is_empty() {
            let _ = writeln!(out, "{}\n", tool.description);
        }
        if tool.parameters.is_empty() {
            out.push_str("No parameters.\n");
            continue;
        }
        out.push_str(
            "| parameter | type | required | default | description |\n|---|---|---|---|---|\n",
        );
        for p in &tool.parameters {
            let default = p
                .default
                .as_ref()
                .map(|v| format!("`{}`", cell(&v.to_string())))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p.name,
                cell(&p.type_name),
                yes_no(p.required),
                default,
                cell(&p.description)
            );
        }
    }
    out
}

fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

/// Text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{DeclaredParameter, HostParameter, ValueKind};

    #[test]
    fn declared_reference_shows_parameters_and_result_schema() {
        let tools = [DeclaredTool {
            name: "process_list".into(),
            method: "sum".into(),
            description: "Sum a list.".into(),
            parameters: vec![DeclaredParameter {
                name: "list".into(),
                argument: "list".into(),
                required: true,
                kind: ValueKind::List,
                rust_type: "&[i64]".into(),
                schema: json!({"type": "array"}),
            }],
            result_type: "ListResult".into(),
            result_schema: json!({"type": "object"}),
        }];
        let text = declared_tools_markdown("DemoTools", &tools);
        assert!(
            text.starts_with(
                "# DemoTools\n\n## `process_list`\n\nRust method: `sum`\n\nSum a list.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("| `list` | list | yes | `&[i64]` |"),
            "{text}"
        );
        assert!(
            text.contains("Result: `ListResult`\n\n```json\n{\n  \"type\": \"object\"\n}\n```"),
            "{text}"
        );
    }

    #[test]
    fn host_reference_is_sorted_and_shows_defaults() {
        let tool = |name: &str| HostTool {
            description: format!("The {name} tool | piped"),
            parameters: vec![HostParameter {
                default: Some(json!("sum")),
                ..HostParameter::new("op", "string", false)
            }],
            ..HostTool::new(name)
        };
        let tools = [tool("b"), tool("a")];
        let text = host_tools_markdown("Host tools", &tools);
        assert!(text.find("## `a`").unwrap() < text.find("## `b`").unwrap());
        assert!(
            text.contains("| `op` | string | no | `\"sum\"` |  |"),
            "{text}"
        );
    }
}
