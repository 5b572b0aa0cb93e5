//! The typed model of a `#[worker_tools]` block, built by [`super::parse`], validated by
//! [`super::check`] and written out by [`super::expand`]. It keeps the tokens the check points
//! its errors at.

use proc_macro2::Span;
use syn::{Expr, Generics, Ident, ItemImpl, LitStr, Pat, Token, Type};

use crate::internals::signature::SelfArg;

/// The block, with the macro's own attributes removed, and its methods.
pub(crate) struct WorkerImpl {
    pub(crate) item: ItemImpl,
    /// The methods that are tools or meant to be, in order.
    pub(crate) methods: Vec<Method>,
    /// The worker runtime's path (`crate = "..."`, `::snakepit_bridge::worker` by default).
    pub(crate) krate: proc_macro2::TokenStream,
}

impl WorkerImpl {
    /// The tools: the `pub` methods that take `&self` (valid or not).
    pub(crate) fn tools(&self) -> impl Iterator<Item = &WorkerTool> {
        self.methods.iter().filter_map(|method| match method {
            Method::Tool(tool) => Some(&**tool),
            _ => None,
        })
    }
}

/// A method that is a tool, or is meant to be one but cannot be.
pub(crate) enum Method {
    Tool(Box<WorkerTool>),
    /// A `pub` method that does not take `&self`, or takes it mutably.
    WrongReceiver {
        method: Ident,
        self_arg: SelfArg,
    },
    /// A private method given a tool name with `#[tool(name = "...")]`.
    PrivateNamed(LitStr),
}

/// One tool: a public method taking `&self`.
pub(crate) struct WorkerTool {
    pub(crate) method: Ident,
    pub(crate) tool_name: String,
    /// Where the tool name is written: `#[tool(name = "...")]`, or the method's name.
    pub(crate) tool_name_span: Span,
    /// Whether the name is given with `#[tool(name = "...")]`.
    pub(crate) tool_name_given: bool,
    pub(crate) description: String,
    pub(crate) is_async: bool,
    /// The method's generics and `unsafe`, which a tool cannot have.
    pub(crate) generics: Generics,
    pub(crate) unsafety: Option<Token![unsafe]>,
    pub(crate) args: Vec<WorkerArg>,
    pub(crate) answer: AnswerShape,
    /// The return type, as written (`None` when there is none).
    pub(crate) output: Option<Type>,
    /// Where errors about the answer point: the return type.
    pub(crate) output_span: Span,
    /// Where the return type goes, when none is written.
    pub(crate) missing_output: Option<Span>,
    /// The type of the values answered, where written out: `T` of a unary `Result<T, E>`, or
    /// of a stream's `Item = Result<T, E>`. The generated code names it, so that a `T` that
    /// does not serialize is reported at its tokens.
    pub(crate) value_ty: Option<Type>,
}

impl WorkerTool {
    /// The method as the generated code serves it, or `None` when it cannot be served: an
    /// invalid one (reported by the check) is left out of the generated code, so that its errors
    /// cause no others.
    pub(crate) fn served(&self) -> Option<ServedTool<'_>> {
        if !self.generics.params.is_empty() || self.unsafety.is_some() || self.output.is_none() {
            return None;
        }
        let args = self
            .args
            .iter()
            .map(WorkerArg::served)
            .collect::<Option<_>>()?;
        Some(ServedTool { tool: self, args })
    }
}

/// A tool the generated code serves: every argument can be taken from a call.
pub(crate) struct ServedTool<'a> {
    pub(crate) tool: &'a WorkerTool,
    pub(crate) args: Vec<ServedArg<'a>>,
}

/// An argument of a served tool, and where its value comes from.
pub(crate) struct ServedArg<'a> {
    pub(crate) arg: &'a WorkerArg,
    pub(crate) source: ServedSource<'a>,
}

/// Where a served argument's value comes from: [`ArgSource`] without its unusable cases.
pub(crate) enum ServedSource<'a> {
    /// A borrow of the call's context.
    Borrowed(&'a Type),
    /// A parameter of the call (or the context taken by value).
    Parameter(&'a Parameter),
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
    /// The pattern as written, where errors about the argument point.
    pub(crate) pat: Box<Pat>,
    /// The type as written.
    pub(crate) ty: Type,
    /// The `#[param(...)]` keys given, and where.
    pub(crate) given: Vec<(&'static str, Span)>,
    pub(crate) source: ArgSource,
}

impl WorkerArg {
    /// The argument as a call fills it in, or `None` when no call can.
    fn served(&self) -> Option<ServedArg<'_>> {
        let source = match &self.source {
            ArgSource::Borrowed(ty) => ServedSource::Borrowed(ty),
            ArgSource::Parameter(parameter) if !parameter.defaults_an_option() => {
                ServedSource::Parameter(parameter)
            }
            ArgSource::Parameter(_) | ArgSource::Unusable(_) => return None,
        };
        Some(ServedArg { arg: self, source })
    }
}

/// Where an argument's value comes from.
pub(crate) enum ArgSource {
    /// A borrowed value (`ctx: &ToolContext`, whatever the context type is called): only the
    /// call's context can be borrowed, which the generated code checks by the type.
    Borrowed(Box<Type>),
    /// A parameter of the call, or (for a required one, decided by its type in the generated
    /// code) the call's context taken by value.
    Parameter(Box<Parameter>),
    /// An argument no call can fill in.
    Unusable(Unusable),
}

/// What makes an argument unusable, as written.
pub(crate) enum Unusable {
    /// A pattern instead of a plain name (the argument's `ident` is a stand-in).
    Pattern,
    /// A borrow of what plainly is not the call's context (`&str`, `&[T]`, `&mut T`).
    Borrowed(syn::TypeReference),
    /// An `impl Trait`, which cannot be decoded.
    ImplTrait(syn::TypeImplTrait),
}

/// A parameter: its wire name, registered host type and how it is taken.
pub(crate) struct Parameter {
    pub(crate) wire_name: String,
    /// Where the wire name is written: `#[param(rename = "...")]`, or the argument's name.
    pub(crate) wire_name_span: Span,
    /// `#[param(kind = "...")]` as written.
    pub(crate) kind_given: Option<LitStr>,
    /// Whether the type is an `Option`.
    pub(crate) optional: bool,
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

impl Parameter {
    /// Whether a default is given to an `Option`, which needs none.
    pub(crate) fn defaults_an_option(&self) -> bool {
        self.optional && matches!(self.taking, Taking::Default(_))
    }
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
