//! Writes the code for an `#[elixir_tools]` trait.
//!
//! For a trait `DemoTools` it writes:
//! - `DemoTools` itself, each `async fn` declared as `fn .. -> impl Future<Output = ..> + Send`
//!   so that generic callers can spawn the calls, implemented for every `ToolCaller`;
//! - `DemoToolsBlocking`, the same methods as plain `fn`s, implemented for every
//!   `BlockingToolCaller`;
//! - `DemoToolsDeclaration`, the declared tools as data (`DeclaredTools`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use snakepit_bridge_spec::{DeclaredTool, ValueKind};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::attrs;
use crate::declared::{declared, Declared};
use crate::errors::Errors;
use crate::model::{ResultShape, ToolArg, ToolMethod, ToolTrait};
use crate::parse;

/// The entry point: parses, checks and expands, returning the code and every error together.
pub(crate) fn elixir_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = attrs::macro_options(args, &mut errors);
    let item = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(syn::Item::Trait(item)) => item,
        Ok(_) => {
            errors.push(syn::Error::new(
                Span::call_site(),
                "#[elixir_tools] goes on a trait of tool methods, such as \
                 `trait MyTools { async fn my_tool(&self, n: u32) -> Result<u32, Error>; }`",
            ));
            // Keep the item, so that its uses raise no follow-on errors.
            let errors = errors.to_compile_errors();
            return quote!(#input #errors);
        }
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#input #error);
        }
    };
    let model = parse::parse_trait(item, options, &mut errors);
    let manifest_tracking = crate::manifest_check::check(&model, &mut errors);
    let code = generate(&model);
    let errors = errors.to_compile_errors();
    quote!(#code #manifest_tracking #errors)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Async,
    Blocking,
}

fn generate(model: &ToolTrait) -> TokenStream {
    let definition = trait_definition(model, Flavor::Async);
    let async_impl = caller_impl(model, Flavor::Async);
    let blocking_definition = trait_definition(model, Flavor::Blocking);
    let blocking_impl = caller_impl(model, Flavor::Blocking);
    let declaration = declaration(model);
    quote! {
        #definition
        #async_impl
        #blocking_definition
        #blocking_impl
        #declaration
    }
}

fn trait_ident(model: &ToolTrait, flavor: Flavor) -> syn::Ident {
    match flavor {
        Flavor::Async => model.ident.clone(),
        Flavor::Blocking => format_ident!("{}Blocking", model.ident),
    }
}

fn declaration_ident(model: &ToolTrait) -> syn::Ident {
    format_ident!("{}Declaration", model.ident)
}

fn trait_definition(model: &ToolTrait, flavor: Flavor) -> TokenStream {
    let vis = &model.vis;
    let ident = trait_ident(model, flavor);
    let attrs = match flavor {
        Flavor::Async => {
            let attrs = &model.attrs;
            quote!(#(#attrs)*)
        }
        Flavor::Blocking => {
            let doc = format!(
                " The blocking twin of [`{0}`]: the same tool calls as plain methods, for \
                 `snakepit_bridge::blocking::SessionContext` and any `BlockingToolCaller`.",
                model.ident
            );
            quote!(#[doc = #doc])
        }
    };
    let methods = model.methods.iter().map(|method| {
        let method_attrs = &method.attrs;
        let tool_doc = format!(" Calls the Elixir tool `{}`.", method.tool_name);
        let doc_separator = (!method.description.is_empty()).then(|| quote!(#[doc = ""]));
        let signature = signature(method, flavor);
        quote! {
            #(#method_attrs)*
            #doc_separator
            #[doc = #tool_doc]
            #signature;
        }
    });
    quote! {
        #attrs
        #vis trait #ident {
            #(#methods)*
        }
    }
}

fn signature(method: &ToolMethod, flavor: Flavor) -> TokenStream {
    let ident = &method.ident;
    let params = &method.generics.params;
    let where_clause = &method.generics.where_clause;
    let args = method.args.iter().map(|arg| {
        let (ident, ty) = (&arg.ident, &arg.ty);
        quote!(#ident: #ty)
    });
    let output = &method.output;
    let output = match flavor {
        Flavor::Async => quote! {
            impl ::core::future::Future<Output = #output> + ::core::marker::Send
        },
        Flavor::Blocking => output.to_token_stream(),
    };
    quote! {
        fn #ident<#params>(&self, #(#args),*) -> #output #where_clause
    }
}

fn caller_impl(model: &ToolTrait, flavor: Flavor) -> TokenStream {
    let p = &model.private;
    let ident = trait_ident(model, flavor);
    let caller = match flavor {
        Flavor::Async => quote!(#p::ToolCaller),
        Flavor::Blocking => quote!(#p::BlockingToolCaller),
    };
    let methods = model.methods.iter().map(|method| {
        let signature = signature(method, flavor);
        let body = if method.valid {
            call_body(method, flavor, p)
        } else {
            // The error is already reported; this body only keeps the trait whole.
            match flavor {
                Flavor::Async => quote!(async move { ::core::unreachable!() }),
                Flavor::Blocking => quote!(::core::unreachable!()),
            }
        };
        quote! {
            #[allow(unused_variables)]
            #signature {
                #body
            }
        }
    });
    quote! {
        impl<__C> #ident for __C
        where
            __C: #caller + ?::core::marker::Sized,
        {
            #(#methods)*
        }
    }
}

fn call_body(method: &ToolMethod, flavor: Flavor, p: &TokenStream) -> TokenStream {
    let tool = &method.tool_name;
    let capacity = method.args.len();
    let inserts = method.args.iter().map(insert_argument);
    let finish = finish(method, p);
    let call = match flavor {
        Flavor::Async => quote! {
            #p::ToolCaller::call_tool(self, #tool, __parameters).await
        },
        Flavor::Blocking => quote! {
            #p::BlockingToolCaller::call_tool(self, #tool, __parameters)
        },
    };
    let body = quote! {
        let __outcome = match #p::outcome_of(#tool, __encoded) {
            ::core::result::Result::Ok(__parameters) => #call,
            ::core::result::Result::Err(__error) => ::core::result::Result::Err(__error),
        };
        #finish
    };
    // Arguments are encoded before the future is made, so it holds no borrowed argument.
    let encode = quote! {
        let __encoded = #p::encode_parameters(
            #capacity,
            |__parameters: &mut #p::Parameters| {
                #(#inserts)*
                ::core::result::Result::Ok(())
            },
        );
    };
    match flavor {
        Flavor::Async => quote!(#encode async move { #body }),
        Flavor::Blocking => quote!(#encode #body),
    }
}

fn insert_argument(arg: &ToolArg) -> TokenStream {
    let (ident, wire, value_ty) = (&arg.ident, &arg.wire_name, &arg.value_ty);
    // The value's type is named, and the call spanned at it, so that a type that does not
    // serialize is reported at its tokens in the method's signature.
    let insert = |value: TokenStream| quote_spanned!(value_ty.span()=> __parameters.insert::<#value_ty>(#wire, #value)?;);
    if arg.optional {
        // `None` leaves the parameter out of the request.
        let insert = insert(quote!(__value));
        quote! {
            if let ::core::option::Option::Some(__value) = &#ident {
                #insert
            }
        }
    } else {
        insert(quote!(&#ident))
    }
}

fn finish(method: &ToolMethod, p: &TokenStream) -> TokenStream {
    let output = &method.output;
    let span = output.span();
    match &method.shape {
        ResultShape::Unit => {
            quote_spanned!(span=> #p::ignore_result(__outcome))
        }
        ResultShape::Raw => {
            quote_spanned!(span=> #p::whole_response(__outcome))
        }
        ResultShape::Decode(_) | ResultShape::Invalid => quote_spanned! {span=>
            <#output as #p::ToolResult>::from_outcome(__outcome)
        },
    }
}

fn declaration(model: &ToolTrait) -> TokenStream {
    let p = &model.private;
    let vis = &model.vis;
    let ident = declaration_ident(model);
    let trait_name = model.ident.to_string();
    let doc = format!(
        " The tools [`{trait_name}`] declares, as data: names, descriptions, parameters and JSON \
         Schemas. Check them against a live host with `SessionContext::verify::<{ident}>()`, or \
         print their Markdown reference with `{ident}::markdown()`."
    );
    let tools = model
        .methods
        .iter()
        .filter(|m| m.valid)
        .map(|method| declared_tool(method, p));
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
        #vis struct #ident;

        impl #ident {
            /// The declared tools, in the trait's order.
            #vis fn tools() -> ::std::vec::Vec<#p::DeclaredTool> {
                <Self as #p::DeclaredTools>::tools()
            }

            /// A Markdown reference of the declared tools.
            #vis fn markdown() -> ::std::string::String {
                <Self as #p::DeclaredTools>::markdown()
            }
        }

        impl #p::DeclaredTools for #ident {
            const TRAIT_NAME: &'static str = #trait_name;

            fn tools() -> ::std::vec::Vec<#p::DeclaredTool> {
                #[allow(unused_imports)]
                use #p::{SchemaViaAnything as _, SchemaViaJsonSchema as _};
                ::std::vec![#(#tools),*]
            }
        }
    }
}

/// The tokens of a method's declared tool: the values `declared` built (the same the
/// build-time check compares), with the schemas probed from the types.
fn declared_tool(method: &ToolMethod, p: &TokenStream) -> TokenStream {
    let Declared {
        tool,
        parameter_types,
        result_schema_type,
    } = declared(method, p);
    let DeclaredTool {
        name,
        method: method_name,
        description,
        result_type,
        ..
    } = &tool;
    let parameters = tool
        .parameters
        .iter()
        .zip(&parameter_types)
        .map(|(parameter, ty)| {
            let (wire, argument, required) =
                (&parameter.name, &parameter.argument, parameter.required);
            let kind = kind_tokens(parameter.kind, p);
            let rust_type = &parameter.rust_type;
            let schema = schema_probe(ty, p);
            quote! {
                #p::declared_parameter(
                    #wire, #argument, #required, #kind, #rust_type, #schema,
                )
            }
        });
    let result_schema = match &result_schema_type {
        Some(ty) => schema_probe(ty, p),
        None => quote!(#p::any_schema()),
    };
    quote! {
        #p::declared_tool(
            #name,
            #method_name,
            #description,
            ::std::vec![#(#parameters),*],
            #result_type,
            #result_schema,
        )
    }
}

pub(crate) fn kind_tokens(kind: ValueKind, p: &TokenStream) -> TokenStream {
    let variant = match kind {
        ValueKind::String => "String",
        ValueKind::Integer => "Integer",
        ValueKind::Float => "Float",
        ValueKind::Boolean => "Boolean",
        ValueKind::List => "List",
        ValueKind::Map => "Map",
        ValueKind::Any => "Any",
    };
    let variant = format_ident!("{}", variant);
    quote!(#p::ValueKind::#variant)
}

/// The schema of `ty` when it implements `JsonSchema`, else `true`, with the probe of the
/// runtime's `__private` at `p` (the worker's re-exports the same probe).
pub(crate) fn schema_probe(ty: &syn::Type, p: &TokenStream) -> TokenStream {
    // The declaration lives outside the method: its named lifetimes are not in scope there.
    let ty = erase_lifetimes(ty);
    quote_spanned! {ty.span()=>
        (&#p::SchemaProbe::<#ty>::new()).schema()
    }
}

/// `ty` with its named lifetimes (but `'static`) made `'_`, for code outside the method.
pub(crate) fn erase_lifetimes(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    EraseLifetimes.visit_type_mut(&mut ty);
    ty
}

struct EraseLifetimes;

impl VisitMut for EraseLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        if lifetime.ident != "static" {
            *lifetime = syn::Lifetime::new("'_", lifetime.span());
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::elixir_tools;

    fn expand(input: proc_macro2::TokenStream) -> String {
        elixir_tools(quote!(), input).to_string()
    }

    #[test]
    fn async_methods_become_send_futures_implemented_for_every_caller() {
        let code = expand(quote! {
            pub trait DemoTools {
                async fn calculate_fibonacci(&self, n: u32) -> Result<Fib, Error>;
            }
        });
        assert!(code.contains("fn calculate_fibonacci < > (& self , n : u32) -> impl :: core :: future :: Future < Output = Result < Fib , Error > > + :: core :: marker :: Send"), "{code}");
        assert!(code.contains("impl < __C > DemoTools for __C where __C : :: snakepit_bridge :: __private :: ToolCaller"), "{code}");
        assert!(
            code.contains("__parameters . insert :: < u32 > (\"n\" , & n) ?"),
            "{code}"
        );
        assert!(
            code.contains(
                "ToolCaller :: call_tool (self , \"calculate_fibonacci\" , __parameters) . await"
            ),
            "{code}"
        );
    }

    #[test]
    fn a_blocking_twin_and_a_declaration_are_generated() {
        let code = expand(quote! {
            pub trait DemoTools {
                #[tool(name = "process_list")]
                async fn sum(&self, list: &[i64], operation: Option<&str>) -> Result<(), Error>;
            }
        });
        assert!(code.contains("pub trait DemoToolsBlocking"), "{code}");
        assert!(
            code.contains(
                "BlockingToolCaller :: call_tool (self , \"process_list\" , __parameters)"
            ),
            "{code}"
        );
        assert!(code.contains("pub struct DemoToolsDeclaration"), "{code}");
        assert!(
            code.contains("if let :: core :: option :: Option :: Some (__value) = & operation"),
            "{code}"
        );
        assert!(code.contains("ignore_result (__outcome)"), "{code}");
        assert!(code.contains("\"&[i64]\""), "{code}");
        assert!(
            !code.contains("# [tool"),
            "the macro's attributes are removed: {code}"
        );
    }

    #[test]
    fn on_anything_but_a_trait_the_item_is_kept_beside_the_error() {
        let code = expand(quote!(
            struct NotATrait;
        ));
        assert!(code.contains("struct NotATrait ;"), "{code}");
        assert!(code.contains("goes on a trait"), "{code}");
    }

    #[test]
    fn an_invalid_method_is_still_declared_with_a_placeholder_body() {
        let code = expand(quote! {
            trait T { async fn f(&self) -> u32; }
        });
        assert!(code.contains("compile_error"), "{code}");
        assert!(
            code.contains(
                "fn f < > (& self ,) -> impl :: core :: future :: Future < Output = u32 >"
            ),
            "{code}"
        );
        assert!(code.contains("unreachable"), "{code}");
    }

    #[test]
    fn named_lifetimes_are_erased_in_schemas() {
        let code = expand(quote! {
            trait T { async fn f<'a>(&self, s: &'a str) -> Result<u32, Error>; }
        });
        assert!(code.contains("SchemaProbe :: < & '_ str >"), "{code}");
    }
}
