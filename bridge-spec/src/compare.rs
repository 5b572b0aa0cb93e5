//! The one comparison of declared tools with the host's tool list, used by the runtime check
//! (`verify`), the compile-time check of `#[elixir_tools(manifest = ...)]` and the CLI.

use std::collections::BTreeMap;
use std::fmt;

use crate::compatibility::is_compatible;
use crate::suggest::did_you_mean;
use crate::{closest_name, DeclaredTool, HostTool, ValueKind};

/// One disagreement between a declared method and the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The tool's name on the host.
    pub tool: String,
    /// The declaring Rust method.
    pub method: String,
    /// What disagrees.
    pub kind: MismatchKind,
}

/// What disagrees between a declared method and the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MismatchKind {
    /// The host does not expose the tool.
    MissingTool {
        /// The host tool with the closest name, if one is close.
        suggestion: Option<String>,
    },
    /// The host requires a parameter that the method does not pass.
    MissingParameter {
        /// The parameter's name.
        parameter: String,
        /// Its host type.
        host_type: String,
    },
    /// The method passes a parameter the host does not declare.
    UnknownParameter {
        /// The parameter's wire name.
        parameter: String,
        /// The Rust argument.
        argument: String,
        /// The host parameter with the closest name, if one is close.
        suggestion: Option<String>,
    },
    /// The argument is an `Option`, but the host requires the parameter.
    OptionalButRequired {
        /// The parameter's wire name.
        parameter: String,
        /// The Rust argument.
        argument: String,
    },
    /// The argument's kind of value does not fit the host's type.
    IncompatibleType {
        /// The parameter's wire name.
        parameter: String,
        /// The Rust argument.
        argument: String,
        /// What the argument sends.
        declared: ValueKind,
        /// The host's type name.
        host_type: String,
    },
}

impl Mismatch {
    /// The Rust argument the mismatch is about, if it is about one.
    pub fn argument(&self) -> Option<&str> {
        match &self.kind {
            MismatchKind::UnknownParameter { argument, .. }
            | MismatchKind::OptionalButRequired { argument, .. }
            | MismatchKind::IncompatibleType { argument, .. } => Some(argument),
            MismatchKind::MissingTool { .. } | MismatchKind::MissingParameter { .. } => None,
        }
    }

    /// The problem, without naming the method: for messages placed at the method itself.
    pub fn message(&self) -> String {
        let tool = &self.tool;
        match &self.kind {
            MismatchKind::MissingTool { suggestion } => {
                let mut text = format!("the host exposes no tool `{tool}`");
                match suggestion {
                    Some(name) => text.push_str(&did_you_mean(Some(name))),
                    None => text.push_str("; check the name, or refresh the host's tool list"),
                }
                text
            }
            MismatchKind::MissingParameter {
                parameter,
                host_type,
            } => format!(
                "tool `{tool}` requires parameter `{parameter}` ({host_type}), which this method \
                 does not pass; add an argument `{parameter}`"
            ),
            MismatchKind::UnknownParameter {
                parameter,
                suggestion,
                ..
            } => {
                let mut text = format!("tool `{tool}` has no parameter `{parameter}`");
                match suggestion {
                    Some(name) => text.push_str(&did_you_mean(Some(name))),
                    None => text.push_str(
                        "; remove the argument or rename it with #[param(rename = \"...\")]",
                    ),
                }
                text
            }
            MismatchKind::OptionalButRequired { parameter, .. } => format!(
                "tool `{tool}` requires parameter `{parameter}`, but the argument is an `Option`; \
                 take the value itself"
            ),
            MismatchKind::IncompatibleType {
                parameter,
                declared,
                host_type,
                ..
            } => format!(
                "tool `{tool}` expects `{host_type}` for parameter `{parameter}`, but this \
                 argument sends {}",
                describe_kind(*declared)
            ),
        }
    }
}

fn describe_kind(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "a string",
        ValueKind::Integer => "an integer",
        ValueKind::Float => "a float",
        ValueKind::Boolean => "a boolean",
        ValueKind::List => "a list",
        ValueKind::Map => "a map",
        ValueKind::Any => "any value",
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "method `{}`: {}", self.method, self.message())
    }
}

/// Every disagreement between the `declared` tools and the `host`'s tools, in declaration
/// order: missing tools, missing required parameters, unknown parameters, `Option` arguments
/// for required parameters, and incompatible types (see
/// [`is_compatible`](crate::is_compatible)).
pub fn compare_tools<'a>(
    declared: &[DeclaredTool],
    host: impl IntoIterator<Item = &'a HostTool>,
) -> Vec<Mismatch> {
    let host: BTreeMap<&str, &HostTool> = host.into_iter().map(|t| (t.name.as_str(), t)).collect();
    let mut mismatches = Vec::new();
    for tool in declared {
        let mismatch = |kind| Mismatch {
            tool: tool.name.clone(),
            method: tool.method.clone(),
            kind,
        };
        let Some(host_tool) = host.get(tool.name.as_str()) else {
            let suggestion = closest_name(&tool.name, host.keys().copied()).map(str::to_owned);
            mismatches.push(mismatch(MismatchKind::MissingTool { suggestion }));
            continue;
        };
        for param in &tool.parameters {
            let Some(host_param) = host_tool.parameter(&param.name) else {
                let suggestion = closest_parameter(host_tool, &param.name);
                mismatches.push(mismatch(MismatchKind::UnknownParameter {
                    parameter: param.name.clone(),
                    argument: param.argument.clone(),
                    suggestion,
                }));
                continue;
            };
            if host_param.required && !param.required {
                mismatches.push(mismatch(MismatchKind::OptionalButRequired {
                    parameter: param.name.clone(),
                    argument: param.argument.clone(),
                }));
            }
            if !is_compatible(param.kind, &host_param.type_name) {
                mismatches.push(mismatch(MismatchKind::IncompatibleType {
                    parameter: param.name.clone(),
                    argument: param.argument.clone(),
                    declared: param.kind,
                    host_type: host_param.type_name.clone(),
                }));
            }
        }
        for host_param in required_not_passed(host_tool, |name| tool.parameter(name).is_some()) {
            mismatches.push(mismatch(MismatchKind::MissingParameter {
                parameter: host_param.name.clone(),
                host_type: host_param.type_name.clone(),
            }));
        }
    }
    mismatches
}

/// The tool's parameter closest to `name`, for "did you mean".
fn closest_parameter(tool: &HostTool, name: &str) -> Option<String> {
    closest_name(name, tool.parameters.iter().map(|p| p.name.as_str())).map(str::to_owned)
}

/// The tool's required parameters that `passed` says were not passed.
fn required_not_passed<'t>(
    tool: &'t HostTool,
    passed: impl Fn(&str) -> bool + 't,
) -> impl Iterator<Item = &'t crate::HostParameter> + 't {
    tool.parameters
        .iter()
        .filter(move |p| p.required && !passed(&p.name))
}

/// A problem of one call's parameter names, found by the rules of [`compare_tools`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallProblem {
    /// A parameter the tool does not have, with the closest one it has.
    Unknown {
        /// The parameter passed.
        parameter: String,
        /// The tool's closest parameter, if one is close.
        suggestion: Option<String>,
    },
    /// A required parameter not passed.
    Missing {
        /// The parameter.
        parameter: String,
    },
}

/// What is wrong with a call of `tool` that passes the parameters named `passed`: unknown
/// parameters first (in the order given), then required ones missing (in the host's order).
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::{check_call, CallProblem, HostParameter, HostTool};
/// let tool = HostTool {
///     parameters: vec![HostParameter::new("list", "array", true), HostParameter::new("operation", "string", false)],
///     ..HostTool::new("process_list")
/// };
/// assert_eq!(
///     check_call(&tool, &["lists"]),
///     [
///         CallProblem::Unknown { parameter: "lists".into(), suggestion: Some("list".into()) },
///         CallProblem::Missing { parameter: "list".into() },
///     ]
/// );
/// ```
pub fn check_call(tool: &HostTool, passed: &[&str]) -> Vec<CallProblem> {
    let mut problems: Vec<CallProblem> = passed
        .iter()
        .filter(|name| tool.parameter(name).is_none())
        .map(|name| CallProblem::Unknown {
            parameter: (*name).to_owned(),
            suggestion: closest_parameter(tool, name),
        })
        .collect();
    problems.extend(
        required_not_passed(tool, |name| passed.contains(&name)).map(|p| CallProblem::Missing {
            parameter: p.name.clone(),
        }),
    );
    problems
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::{DeclaredParameter, HostParameter};

    fn host_tools() -> Vec<HostTool> {
        let tool = |name: &str, params: Vec<HostParameter>| HostTool {
            parameters: params,
            ..HostTool::new(name)
        };
        vec![
            tool(
                "calculate_fibonacci",
                vec![HostParameter::new("n", "integer", true)],
            ),
            tool(
                "process_list",
                vec![
                    HostParameter::new("list", "list", true),
                    HostParameter::new("operation", "string", false),
                ],
            ),
        ]
    }

    fn declared(name: &str, params: &[(&str, bool, ValueKind)]) -> DeclaredTool {
        DeclaredTool {
            name: name.into(),
            method: format!("m_{name}"),
            description: String::new(),
            parameters: params
                .iter()
                .map(|(param, required, kind)| DeclaredParameter {
                    name: (*param).into(),
                    argument: format!("arg_{param}"),
                    required: *required,
                    kind: *kind,
                    rust_type: String::new(),
                    schema: Value::Bool(true),
                })
                .collect(),
            result_type: String::new(),
            result_schema: Value::Bool(true),
        }
    }

    #[test]
    fn an_agreeing_declaration_has_no_mismatch() {
        let declared = [
            declared("calculate_fibonacci", &[("n", true, ValueKind::Integer)]),
            declared(
                "process_list",
                &[
                    ("list", true, ValueKind::List),
                    ("operation", false, ValueKind::String),
                ],
            ),
            declared(
                "process_list",
                &[
                    ("list", true, ValueKind::List),
                    ("operation", true, ValueKind::String),
                ],
            ),
        ];
        assert_eq!(compare_tools(&declared, &host_tools()), vec![]);
    }

    #[test]
    fn a_missing_tool_suggests_the_closest_name() {
        let mismatches = compare_tools(&[declared("calculate_fibonaci", &[])], &host_tools());
        assert_eq!(
            mismatches[0].kind,
            MismatchKind::MissingTool {
                suggestion: Some("calculate_fibonacci".into())
            }
        );
        assert_eq!(
            mismatches[0].to_string(),
            "method `m_calculate_fibonaci`: the host exposes no tool `calculate_fibonaci`; did you mean `calculate_fibonacci`?"
        );
    }

    #[test]
    fn every_parameter_problem_of_a_tool_is_reported() {
        let declared = [declared(
            "process_list",
            &[
                ("lst", true, ValueKind::List),
                ("operation", false, ValueKind::Integer),
            ],
        )];
        let kinds: Vec<_> = compare_tools(&declared, &host_tools())
            .into_iter()
            .map(|m| m.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![
                MismatchKind::UnknownParameter {
                    parameter: "lst".into(),
                    argument: "arg_lst".into(),
                    suggestion: Some("list".into()),
                },
                MismatchKind::IncompatibleType {
                    parameter: "operation".into(),
                    argument: "arg_operation".into(),
                    declared: ValueKind::Integer,
                    host_type: "string".into(),
                },
                MismatchKind::MissingParameter {
                    parameter: "list".into(),
                    host_type: "list".into()
                },
            ]
        );
    }

    #[test]
    fn an_option_for_a_required_parameter_is_a_mismatch() {
        let mismatches = compare_tools(
            &[declared(
                "calculate_fibonacci",
                &[("n", false, ValueKind::Integer)],
            )],
            &host_tools(),
        );
        assert_eq!(
            mismatches[0].kind,
            MismatchKind::OptionalButRequired {
                parameter: "n".into(),
                argument: "arg_n".into()
            }
        );
        assert_eq!(mismatches[0].argument(), Some("arg_n"));
        assert!(mismatches[0].message().contains("take the value itself"));
    }

    #[test]
    fn messages_name_the_tool_parameter_and_kinds() {
        let mismatches = compare_tools(
            &[declared(
                "calculate_fibonacci",
                &[("n", true, ValueKind::String)],
            )],
            &host_tools(),
        );
        assert_eq!(
            mismatches[0].message(),
            "tool `calculate_fibonacci` expects `integer` for parameter `n`, but this argument sends a string"
        );
    }
}
