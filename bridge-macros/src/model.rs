//! The typed model of an `#[elixir_tools]` trait, built by [`crate::parse`], validated by
//! [`crate::check`] and written out by [`crate::expand`]. It keeps the tokens the check points
//! its errors at.

use proc_macro2::Span;
use snakepit_bridge_spec::ValueKind;
use syn::punctuated::Punctuated;
use syn::{Attribute, Generics, Ident, LitStr, Pat, Token, TraitItem, Type, Visibility};

use crate::internals::signature::SelfArg;
use crate::internals::types::find_impl_trait;

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
    /// What the trait's header has that a tool trait cannot.
    pub(crate) header: TraitHeader,
    /// The items that are not methods, which a tool trait cannot hold (left out of the code).
    pub(crate) strays: Vec<TraitItem>,
}

/// The trait's header as written: generics, supertraits, `unsafe` and `auto`.
pub(crate) struct TraitHeader {
    pub(crate) generics: Generics,
    pub(crate) supertraits: Punctuated<syn::TypeParamBound, Token![+]>,
    pub(crate) unsafety: Option<Token![unsafe]>,
    pub(crate) auto_token: Option<Token![auto]>,
}

/// The method's qualifiers as written, and its `fn`.
pub(crate) struct Qualifiers {
    pub(crate) asyncness: Option<Token![async]>,
    pub(crate) constness: Option<Token![const]>,
    pub(crate) unsafety: Option<Token![unsafe]>,
    pub(crate) abi: Option<syn::Abi>,
    pub(crate) fn_token: Token![fn],
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
    /// Whether the name is given with `#[tool(name = "...")]`.
    pub(crate) tool_name_given: bool,
    pub(crate) description: String,
    pub(crate) qualifiers: Qualifiers,
    /// A default body, which the macro would replace.
    pub(crate) body: Option<syn::Block>,
    pub(crate) self_arg: SelfArg,
    /// The method's generics, as written (only lifetimes are valid).
    pub(crate) generics: Generics,
    pub(crate) args: Vec<ToolArg>,
    /// The declared return type (`()` when none was written).
    pub(crate) output: Type,
    /// Where the return type goes, when none is written.
    pub(crate) missing_output: Option<Span>,
    pub(crate) shape: ResultShape,
}

impl ToolMethod {
    /// Whether the method can make a working call. An invalid one (reported by the check) is
    /// still declared, with a body that is never compiled into a working call, so call sites
    /// raise no follow-on errors; only what breaks the declaration or the call counts.
    pub(crate) fn valid(&self) -> bool {
        let generics = &self.generics;
        generics
            .params
            .iter()
            .all(|param| matches!(param, syn::GenericParam::Lifetime(_)))
            && generics.where_clause.is_none()
            && matches!(self.self_arg, SelfArg::RefSelf)
            && self.args.iter().all(ToolArg::usable)
            && self.shape != ResultShape::Invalid
    }
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
    /// `#[param(kind = "...")]` as written.
    pub(crate) kind_given: Option<LitStr>,
    /// The pattern written instead of a plain name, if any (`ident` is then a stand-in).
    pub(crate) pattern: Option<Pat>,
}

impl ToolArg {
    /// Whether the argument can be sent: a plain name, and a type that is not generic.
    pub(crate) fn usable(&self) -> bool {
        self.pattern.is_none() && find_impl_trait(&self.ty).is_none()
    }
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
