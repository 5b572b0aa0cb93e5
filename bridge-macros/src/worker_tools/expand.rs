//! Writes the `ToolSet` implementation of a `#[worker_tools]` block: the tools as data
//! (`tool_definitions`, registered with the host) and `invoke`, which decodes a call's
//! parameters and runs the method (an `async fn` as a task, a plain `fn` on a blocking thread).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{
    AnswerShape, Parameter, ServedArg, ServedSource, ServedTool, Taking, WorkerImpl, WorkerTool,
};
use super::{check, parse};
use crate::internals::attr::MacroOptions;
use crate::internals::types::{erase_lifetimes, find_impl_trait};
use crate::internals::{expand_attribute, Ctxt};

/// The entry point: parses, checks and expands, returning the code and every error together.
pub(crate) fn worker_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attribute(
        input,
        |cx| parse::macro_options(args, cx),
        |item| match item {
            syn::Item::Impl(item) => Some(item),
            _ => None,
        },
        "#[worker_tools] goes on an `impl` block of tool methods, such as \
         `impl MyTools { pub fn my_tool(&self, n: u32) -> Result<u32, ToolError> { .. } }`",
        expand_impl,
    )
}

/// Parses the block into its model, checks it, and writes the block with its `ToolSet`
/// implementation: with errors too, since the invalid methods are left out, so that the type
/// still serves the others and its uses raise no follow-on errors.
fn expand_impl(item: syn::ItemImpl, options: MacroOptions, cx: &mut Ctxt) -> TokenStream {
    let model = parse::parse_impl(item, options, cx);
    check::check(&model, cx);
    let item = &model.item;
    let tool_set = tool_set_impl(&model);
    quote!(#item #tool_set)
}

fn tool_set_impl(model: &WorkerImpl) -> TokenStream {
    let k = &model.krate;
    let p = quote!(#k::__private);
    let self_ty = &model.item.self_ty;
    let served: Vec<ServedTool> = model.tools().filter_map(WorkerTool::served).collect();
    let definitions = served.iter().map(|tool| definition(tool, &p));
    let arms = served.iter().map(|tool| arm(tool, k, &p));
    quote! {
        impl #k::ToolSet for #self_ty {
            fn tool_definitions() -> ::std::vec::Vec<#k::ToolDefinition> {
                #[allow(unused_imports)]
                use #p::{
                    ArgIsContext as _, ArgIsParameter as _, DefaultViaAnything as _,
                    DefaultViaSerialize as _, ResultSchemaViaAnything as _,
                    ResultSchemaViaJsonSchema as _, SchemaViaAnything as _,
                    SchemaViaJsonSchema as _,
                };
                ::std::vec![#(#definitions),*]
            }

            fn type_name() -> &'static str {
                ::std::concat!(::std::module_path!(), "::", ::std::stringify!(#self_ty))
            }

            fn invoke(
                self: &::std::sync::Arc<Self>,
                mut __call: #k::ToolCall,
            ) -> ::std::result::Result<#k::Invocation, #k::ToolError> {
                #[allow(unused_imports)]
                use #p::{ArgIsContext as _, ArgIsParameter as _};
                match __call.tool_name() {
                    #(#arms)*
                    __other => ::std::result::Result::Err(
                        #k::ToolError::unknown_tool::<Self>(__other),
                    ),
                }
            }
        }
    }
}

fn definition(served: &ServedTool, p: &TokenStream) -> TokenStream {
    let tool = served.tool;
    let name = &tool.tool_name;
    let method = tool.method.to_string();
    let description = &tool.description;
    let streaming = tool.answer != AnswerShape::Unary;
    let parameters = served.args.iter().filter_map(|served| match served.source {
        ServedSource::Parameter(parameter) => {
            Some(parameter_definition(&served.arg.ty, parameter, p))
        }
        ServedSource::Borrowed(_) => None,
    });
    let extra_parameters = served.args.iter().any(|served| {
        matches!(served.source, ServedSource::Parameter(parameter) if matches!(parameter.taking, Taking::Rest))
    });
    let result_schema = match (&tool.output, tool.answer) {
        (Some(output), AnswerShape::Unary) if find_impl_trait(output).is_none() => {
            let output = erase_lifetimes(output);
            quote_spanned! {output.span()=>
                (&#p::ResultSchemaProbe::<#output>::new()).result_schema()
            }
        }
        _ => quote!(::std::option::Option::None),
    };
    quote! {
        #p::tool(
            #name, #method, #description, ::std::vec![#(#parameters),*], #streaming,
            #extra_parameters, #result_schema,
        )
    }
}

/// The parameter's definition, as an `Option`: a required argument may turn out to be the
/// call's context, which the argument probe leaves out.
fn parameter_definition(ty: &syn::Type, parameter: &Parameter, p: &TokenStream) -> TokenStream {
    let name = &parameter.wire_name;
    let type_name = &parameter.type_name;
    let description = &parameter.description;
    let required = parameter.taking.required();
    let binary = matches!(parameter.taking, Taking::Binary { .. });
    let rest = matches!(parameter.taking, Taking::Rest);
    let value_ty = &parameter.value_ty;
    let default = match &parameter.taking {
        Taking::Default(expr) => {
            let value = default_value(expr);
            quote! {{
                let __default: #value_ty = #value;
                (&#p::DefaultProbe(&__default)).default_json()
            }}
        }
        _ => quote!(::std::option::Option::None),
    };
    // Bytes and `**kwargs` have no schema of their own.
    let schema = match &parameter.taking {
        Taking::Binary { .. } | Taking::Rest => quote!(#p::any_schema()),
        _ => crate::expand::schema_probe(value_ty, p),
    };
    let definition = quote! {
        #p::parameter(
            #name, #type_name, #required, #default, #binary, #rest, #description, #schema,
        )
    };
    match &parameter.taking {
        Taking::Required => {
            let ty = erase_lifetimes(ty);
            quote!((&#p::ArgProbe::<#ty>::new()).parameter(#definition))
        }
        _ => quote!(::std::option::Option::Some(#definition)),
    }
}

/// A default as written; a string literal converts into the argument's type (`String`,
/// `PathBuf`, ...), so `default = "pong"` works for a `String`.
fn default_value(expr: &syn::Expr) -> TokenStream {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        }) => {
            quote_spanned!(expr.span()=> ::std::convert::Into::into(#expr))
        }
        other => quote!(#other),
    }
}

/// The `match` arm of one tool: `k` is the worker crate's path, `p` its `__private`.
fn arm(served: &ServedTool, k: &TokenStream, p: &TokenStream) -> TokenStream {
    let tool = served.tool;
    let name = &tool.tool_name;
    let method = &tool.method;
    let (takes, passes): (Vec<_>, Vec<_>) = served.args.iter().map(|arg| take_arg(arg, p)).unzip();
    let call = if tool.is_async {
        quote!(__this.#method(#(#passes),*).await)
    } else {
        quote!(__this.#method(#(#passes),*))
    };
    let outcome = outcome(tool, &call, p);
    let invocation = if tool.is_async {
        quote!(#k::Invocation::future(async move { #outcome }))
    } else {
        quote!(#k::Invocation::blocking(move || #outcome))
    };
    quote! {
        #name => {
            #(#takes)*
            __call.finish()?;
            let __this = ::std::sync::Arc::clone(self);
            ::std::result::Result::Ok(#invocation)
        }
    }
}

/// The statement that takes an argument from the call into a local, and the expression that
/// passes the local to the method.
fn take_arg(served: &ServedArg, p: &TokenStream) -> (TokenStream, TokenStream) {
    let arg = served.arg;
    let local = quote::format_ident!("__arg_{}", syn::ext::IdentExt::unraw(&arg.ident));
    let ty = &arg.ty;
    match served.source {
        ServedSource::Borrowed(borrowed) => {
            let borrowed = erase_lifetimes(borrowed);
            let take = quote_spanned! {borrowed.span()=>
                let #local = #p::borrowed_arg::<#borrowed>(&__call);
            };
            (take, quote!(&#local))
        }
        ServedSource::Parameter(parameter) => {
            let take = take_parameter(ty, parameter, p);
            (quote!(let #local: #ty = #take;), quote!(#local))
        }
    }
}

/// The expression that takes a parameter's value from the call, as the parameter is taken.
fn take_parameter(ty: &syn::Type, parameter: &Parameter, p: &TokenStream) -> TokenStream {
    let wire = &parameter.wire_name;
    let value_ty = &parameter.value_ty;
    match &parameter.taking {
        // The call's context, when the type is `ToolContext` under any name.
        Taking::Required => quote_spanned! {ty.span()=>
            (&#p::ArgProbe::<#ty>::new()).required(&mut __call, #wire)?
        },
        Taking::Optional => {
            quote_spanned!(ty.span()=> __call.optional::<#value_ty>(#wire)?)
        }
        Taking::Default(expr) => {
            let value = default_value(expr);
            quote_spanned!(ty.span()=> __call.or_default::<#ty>(#wire, || #value)?)
        }
        Taking::Binary { optional: false } => {
            quote_spanned!(ty.span()=> __call.binary::<#ty>(#wire)?)
        }
        Taking::Binary { optional: true } => {
            quote_spanned!(ty.span()=> __call.optional_binary::<#value_ty>(#wire)?)
        }
        Taking::Rest => {
            quote_spanned!(ty.span()=> ::std::iter::FromIterator::from_iter(__call.rest()?))
        }
    }
}

/// The expression that runs `call` and turns what it returns into the call's outcome, as the
/// tool answers.
fn outcome(tool: &WorkerTool, call: &TokenStream, p: &TokenStream) -> TokenStream {
    let span = tool.output_span;
    // The answered type, where written out, is named in the call that converts it, so that the
    // compiler reports a `T` that does not serialize at its tokens.
    let value = tool.value_ty.as_ref().map(erase_lifetimes);
    match (tool.answer, value) {
        (AnswerShape::Unary, value) => {
            let value = value.map(|value| quote_spanned!(span=> ::<#value, _>));
            quote_spanned! {span=>
                {
                    #[allow(unused_imports)]
                    use #p::{ReturnsOtherError as _, ReturnsToolError as _};
                    let __returned = #call;
                    (&__returned).answer_kind().outcome #value (__returned)
                }
            }
        }
        (AnswerShape::Stream, Some(item)) => {
            quote_spanned!(span=> #p::stream_outcome::<_, #item, _>(#call))
        }
        (AnswerShape::Stream, None) => quote_spanned!(span=> #p::stream_outcome(#call)),
        (AnswerShape::FallibleStream, Some(item)) => {
            quote_spanned!(span=> #p::fallible_stream_outcome::<_, #item, _, _>(#call))
        }
        (AnswerShape::FallibleStream, None) => {
            quote_spanned!(span=> #p::fallible_stream_outcome(#call))
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;
    use syn::Item;

    use super::worker_tools;
    use crate::internals::testing::{compile_error_messages, impl_fn as method, impl_of, Seen};

    /// The generated code, parsed back.
    fn expand(input: proc_macro2::TokenStream) -> syn::File {
        syn::parse2(worker_tools(quote!(), input)).expect("the generated code parses")
    }

    fn tool_set(file: &syn::File) -> &syn::ItemImpl {
        impl_of(file, "ToolSet")
    }

    #[test]
    fn the_block_is_kept_and_serves_its_tools_as_a_tool_set() {
        let file = expand(quote! {
            impl Tools {
                /// Adds.
                #[tool(name = "add")]
                pub async fn basic_add(&self, a: f64, #[param(default = 1.0)] b: f64) -> Result<f64, ToolError> { todo!() }
                pub fn ping(&self, ctx: &ToolContext) -> Result<String, ToolError> { todo!() }
            }
        });
        assert!(compile_error_messages(&file).is_empty());
        let Item::Impl(block) = &file.items[0] else {
            panic!("the block comes first")
        };
        assert!(block.trait_.is_none());
        let kept = Seen::of_item(&file.items[0]);
        assert!(!kept.attributes.iter().any(|a| a == "tool" || a == "param"));
        assert!(kept.attributes.iter().any(|a| a == "doc"), "docs are kept");

        let imp = tool_set(&file);
        let names: Vec<_> = ["tool_definitions", "type_name", "invoke"]
            .into_iter()
            .map(|name| method(imp, name).sig.ident.to_string())
            .collect();
        assert_eq!(names.len(), 3);
        let definitions = Seen::of_impl_fn(method(imp, "tool_definitions"));
        for text in ["add", "basic_add", "Adds.", "a", "b", "ping"] {
            assert!(
                definitions.has_string(text),
                "{text:?} in {:?}",
                definitions.strings
            );
        }
        assert!(
            !definitions.has_string("ctx"),
            "the context is no parameter"
        );
        assert!(
            definitions.has_path("DefaultProbe"),
            "the default is registered"
        );
        let invoke = Seen::of_impl_fn(method(imp, "invoke"));
        assert!(invoke.has_path("future") && invoke.has_path("blocking"));
        assert!(invoke.has_path("borrowed_arg") && invoke.has_path("or_default"));
    }

    #[test]
    fn invalid_tools_are_left_out_and_the_others_served() {
        let file = expand(quote! {
            impl Tools {
                pub fn good(&self) -> Result<u32, ToolError> { todo!() }
                pub fn pattern(&self, (a, b): (u32, u32)) -> Result<u32, ToolError> { todo!() }
                pub fn nothing(&self) {}
            }
        });
        assert_eq!(compile_error_messages(&file).len(), 2);
        let invoke = Seen::of_impl_fn(method(tool_set(&file), "invoke"));
        assert!(invoke.has_string("good"));
        assert!(!invoke.has_string("pattern") && !invoke.has_string("nothing"));
    }

    #[test]
    fn streams_and_the_runtime_path_follow_the_block() {
        let code = worker_tools(
            quote!(crate = "my_worker"),
            quote! {
                impl Tools {
                    pub fn chunks(&self) -> impl Stream<Item = Result<u32, ToolError>> { todo!() }
                }
            },
        );
        let file: syn::File = syn::parse2(code).unwrap();
        let imp = tool_set(&file);
        let (_, path, _) = imp.trait_.as_ref().unwrap();
        assert_eq!(path.segments[0].ident, "my_worker");
        let invoke = Seen::of_impl_fn(method(imp, "invoke"));
        assert!(invoke.has_path("stream_outcome"));
    }

    #[test]
    fn on_anything_but_an_impl_block_the_item_is_kept_beside_the_error() {
        let file = expand(quote!(
            trait NotAnImpl {}
        ));
        assert!(matches!(&file.items[0], Item::Trait(item) if item.ident == "NotAnImpl"));
        let errors = compile_error_messages(&file);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("#[worker_tools] goes on an `impl` block"));
    }
}
