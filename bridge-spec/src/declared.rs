//! The tools a worker declares (with `#[elixir_tools]`), as data.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of JSON value a Rust type serializes to, named as the host names parameter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Strings and chars.
    String,
    /// Integer types.
    Integer,
    /// `f32` and `f64`.
    Float,
    /// `bool`.
    Boolean,
    /// Slices, arrays, `Vec`, sets, tuples.
    List,
    /// Maps and structs.
    Map,
    /// Anything (`serde_json::Value`).
    Any,
}

impl ValueKind {
    /// The host's name for this kind: `string`, `integer`, `float`, `boolean`, `list`, `map` or
    /// `any`.
    pub fn host_type_name(self) -> &'static str {
        match self {
            ValueKind::String => "string",
            ValueKind::Integer => "integer",
            ValueKind::Float => "float",
            ValueKind::Boolean => "boolean",
            ValueKind::List => "list",
            ValueKind::Map => "map",
            ValueKind::Any => "any",
        }
    }

    /// The kind a host type name stands for, by the one table of host type names
    /// ([`accepted_kinds`](crate::accepted_kinds)'s): `int` and `integer` are
    /// [`ValueKind::Integer`], `number` is [`ValueKind::Float`], `dict` is [`ValueKind::Map`],
    /// ...; `None` for a name not in it.
    pub fn from_host_type_name(name: &str) -> Option<ValueKind> {
        crate::compatibility::kind_of_host_type(name)
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.host_type_name())
    }
}

/// One tool a worker declares: a method of an `#[elixir_tools]` trait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredTool {
    /// The tool's name on the host.
    pub name: String,
    /// The Rust method that calls it.
    pub method: String,
    /// The method's doc comment.
    pub description: String,
    /// One entry per argument.
    pub parameters: Vec<DeclaredParameter>,
    /// The Rust type of the result (`T` of `Result<T, E>`), as written.
    pub result_type: String,
    /// The JSON Schema of the result (`true` when unknown).
    pub result_schema: Value,
}

impl DeclaredTool {
    /// The declared parameter called `name` on the wire, if any.
    pub fn parameter(&self, name: &str) -> Option<&DeclaredParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }
}

/// One argument of a declared tool method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredParameter {
    /// The parameter's name on the wire.
    pub name: String,
    /// The Rust argument's name (differs from `name` after `#[param(rename = "...")]`).
    pub argument: String,
    /// `false` for `Option<_>` arguments, which are left out when `None`.
    pub required: bool,
    /// The kind of JSON value the argument sends.
    pub kind: ValueKind,
    /// The Rust type as written (inside the `Option`, if any).
    pub rust_type: String,
    /// The JSON Schema of the value (`true` when unknown).
    pub schema: Value,
}
