//! The typed model of a `#[worker_tools]` block.

use proc_macro2::Span;
use syn::{Expr, Ident, ItemImpl, Type};

/// The block, with the macro's own attributes removed, and its tools.
pub(crate) struct WorkerImpl {
    pub(crate) item: ItemImpl,
    pub(crate) tools: Vec<WorkerTool>,
    /// The worker runtime's path (`crate = "..."`, `::snakepit_bridge::worker` by default).
    pub(crate) krate: proc_macro2::TokenStream,
}

/// One tool: a public method.
pub(crate) struct WorkerTool {
    pub(crate) method: Ident,
    pub(crate) tool_name: String,
    pub(crate) description: String,
    pub(crate) is_async: bool,
    pub(crate) args: Vec<WorkerArg>,
    pub(crate) answer: AnswerShape,
    /// The return type, as written (`None` when there is none).
    pub(crate) output: Option<Type>,
    /// Where errors about the answer point: the return type.
    pub(crate) output_span: Span,
    /// The type of the values answered, where written out: `T` of a unary `Result<T, E>`, or
    /// of a stream's `Item = Result<T, E>`. The generated code names it, so that a `T` that
    /// does not serialize is reported at its tokens.
    pub(crate) value_ty: Option<Type>,
    /// Whether the method can be served; an invalid one (already reported) is left out of the
    /// generated code, so that its errors cause no others.
    pub(crate) valid: bool,
}

/// How the method answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AnswerShape {
    /// `Result<T, E>`: one value.
    Unary,
    /// A stream of chunks.
    Stream,
    /// `Result<stream, E>`.
    FallibleStream,
}

/// One argument of a tool method.
pub(crate) struct WorkerArg {
    pub(crate) ident: Ident,
    /// The type as written.
    pub(crate) ty: Type,
    pub(crate) source: ArgSource,
}

/// Where an argument's value comes from.
pub(crate) enum ArgSource {
    /// A borrowed value (`ctx: &ToolContext`, whatever the context type is called): only the
    /// call's context can be borrowed, which the generated code checks by the type.
    Borrowed(Box<Type>),
    /// A parameter of the call, or (for a required one, decided by its type in the generated
    /// code) the call's context taken by value.
    Parameter(Box<Parameter>),
}

/// A parameter: its wire name, registered host type and how it is taken.
pub(crate) struct Parameter {
    pub(crate) wire_name: String,
    /// The host type name registered for it.
    pub(crate) type_name: String,
    /// The value type (inside `Option`, when optional).
    pub(crate) value_ty: Type,
    pub(crate) taking: Taking,
    /// `#[param(description = "...")]`.
    pub(crate) description: String,
}

/// How a parameter is taken from the call.
pub(crate) enum Taking {
    Required,
    Optional,
    Default(Expr),
    Binary { optional: bool },
    Rest,
}

impl Taking {
    /// Whether the call must pass the parameter (registered as `required`).
    pub(crate) fn required(&self) -> bool {
        // `**kwargs` is registered as required, as snakepit's Python worker registers it.
        matches!(
            self,
            Taking::Required | Taking::Binary { optional: false } | Taking::Rest
        )
    }
}
