//! The typed model of an `#[elixir_tools]` trait, built by [`crate::parse`] and written out by
//! [`crate::expand`].

use proc_macro2::Span;
use snakepit_bridge_spec::ValueKind;
use syn::{Attribute, Generics, Ident, LitStr, Type, Visibility};

/// The trait, with the macro's own attributes removed.
pub(crate) struct ToolTrait {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) methods: Vec<ToolMethod>,
    /// The manifest to check against at build time, if any.
    pub(crate) manifest: Option<LitStr>,
    /// The path of the runtime's macro support, `<crate>::__private` (`crate = "..."`).
    pub(crate) private: proc_macro2::TokenStream,
}

/// One tool method.
pub(crate) struct ToolMethod {
    /// Attributes kept on the generated methods (docs, lints).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) ident: Ident,
    /// The tool's name on the host.
    pub(crate) tool_name: String,
    /// Where the tool name is written: `#[tool(name = "...")]`, or the method's name.
    pub(crate) tool_name_span: Span,
    pub(crate) description: String,
    /// The method's generics, as written (only lifetimes are valid).
    pub(crate) generics: Generics,
    pub(crate) args: Vec<ToolArg>,
    /// The declared return type (`()` when none was written).
    pub(crate) output: Type,
    pub(crate) shape: ResultShape,
    /// Whether the method is valid; an invalid one is still declared, with a body that is never
    /// compiled into a working call, so call sites raise no follow-on errors.
    pub(crate) valid: bool,
}

/// One argument of a tool method.
pub(crate) struct ToolArg {
    /// The argument's name (a stand-in like `__arg0` when a pattern was written).
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The parameter's name on the wire.
    pub(crate) wire_name: String,
    /// Where the wire name is written: `#[param(rename = "...")]`, or the argument's name.
    pub(crate) wire_name_span: Span,
    /// The value type without its `Option`.
    pub(crate) value_ty: Type,
    pub(crate) optional: bool,
    pub(crate) kind: ValueKind,
    /// Whether `kind` is the macro's guess for a type it cannot see into.
    pub(crate) kind_guessed: bool,
}

/// What the method does with the tool's result, read from `Result<T, E>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultShape {
    /// `T` is decoded from the result's JSON (through the `ToolResult` trait, so an alias of
    /// `Result` works too). Holds `T` when it is written out.
    Decode(Option<Box<Type>>),
    /// `Result<(), E>`: the result is ignored.
    Unit,
    /// `Result<ToolResponse, E>`: the whole response.
    Raw,
    /// Not a `Result` (already reported).
    Invalid,
}
