//! Writes the code for an `#[elixir_tools]` trait.
//!
//! For a trait `DemoTools` it writes:
//! - `DemoTools` itself, each `async fn` declared as `fn .. -> impl Future<Output = ..> + Send`
//!   so that generic callers can spawn the calls, implemented for every `ToolCaller`;
//! - `DemoToolsBlocking`, the same methods as plain `fn`s, implemented for every
//!   `BlockingToolCaller`;
//! - `DemoToolsDeclaration`, the declared tools as data (`DeclaredTools`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use snakepit_bridge_spec::{DeclaredTool, ValueKind};
use syn::spanned::Spanned;

use crate::declared::{declared, Declared};
use crate::internals::types::erase_lifetimes;
use crate::internals::{expand_attribute, Ctxt};
use crate::model::{ResultShape, ToolArg, ToolMethod, ToolTrait};
use crate::{check, manifest_check, parse};

/// The entry point: parses, checks and expands, returning the code and every error together.
pub(crate) fn elixir_tools(args: TokenStream, input: TokenStream) -> TokenStream {
    expand_attribute(
        input,
        |cx| parse::macro_options(args, cx),
        |item| match item {
            syn::Item::Trait(item) => Some(item),
            _ => None,
        },
        "#[elixir_tools] goes on a trait of tool methods, such as \
         `trait MyTools { async fn my_tool(&self, n: u32) -> Result<u32, Error>; }`",
        expand_trait,
    )
}

/// Parses the trait into its model, checks it (and, with a manifest, against it), and writes
/// the code: with errors too, so that the trait's uses raise no follow-on errors.
fn expand_trait(
    item: syn::ItemTrait,
    options: crate::internals::attr::MacroOptions,
    cx: &mut Ctxt,
) -> TokenStream {
    let model = parse::parse_trait(item, options, cx);
    check::check(&model, cx);
    let manifest_tracking = manifest_check::check(&model, cx);
    let code = generate(&model);
    quote!(#code #manifest_tracking)
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
        let body = if method.valid() {
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
        .filter(|m| m.valid())
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

#[cfg(test)]
mod tests {
    use quote::quote;
    use syn::{Item, TraitItem};

    use super::elixir_tools;
    use crate::internals::testing::{compile_error_messages, find, impl_fn, impl_of, Seen};

    /// The generated code, parsed back.
    fn expand(input: proc_macro2::TokenStream) -> syn::File {
        syn::parse2(elixir_tools(quote!(), input)).expect("the generated code parses")
    }

    fn trait_named<'f>(file: &'f syn::File, name: &str) -> &'f syn::ItemTrait {
        find(file, |item| match item {
            Item::Trait(item) if item.ident == name => Some(item),
            _ => None,
        })
    }

    fn method<'t>(item: &'t syn::ItemTrait, name: &str) -> &'t syn::TraitItemFn {
        let found = item.items.iter().find_map(|item| match item {
            TraitItem::Fn(method) if method.sig.ident == name => Some(method),
            _ => None,
        });
        found.expect("the trait has the method")
    }

    #[test]
    fn async_methods_become_send_futures_implemented_for_every_caller() {
        let file = expand(quote! {
            pub trait DemoTools {
                async fn calculate_fibonacci(&self, n: u32) -> Result<Fib, Error>;
            }
        });
        let sig = &method(trait_named(&file, "DemoTools"), "calculate_fibonacci").sig;
        assert!(sig.asyncness.is_none());
        assert_eq!(sig.inputs.len(), 2);
        let syn::ReturnType::Type(_, output) = &sig.output else {
            panic!("a return type")
        };
        assert!(
            matches!(&**output, syn::Type::ImplTrait(_)),
            "an `impl Future + Send`"
        );
        let output = Seen::of_file(&syn::parse_quote!(type O = #output;));
        assert!(output.has_path("Future") && output.has_path("Send"));
        assert!(output.has_path("Fib"));

        let imp = Seen::of_impl(impl_of(&file, "DemoTools"));
        assert!(imp.has_path("ToolCaller") && !imp.has_path("BlockingToolCaller"));
        assert!(imp.has_path("call_tool") && imp.has_path("encode_parameters"));
        assert!(imp.has_string("calculate_fibonacci") && imp.has_string("n"));
        assert!(compile_error_messages(&file).is_empty());
    }

    #[test]
    fn a_blocking_twin_and_a_declaration_are_generated() {
        let file = expand(quote! {
            pub trait DemoTools {
                #[tool(name = "process_list")]
                async fn sum(&self, list: &[i64], operation: Option<&str>) -> Result<(), Error>;
            }
        });
        let blocking = method(trait_named(&file, "DemoToolsBlocking"), "sum");
        let output = &blocking.sig.output;
        let output = Seen::of_file(&syn::parse_quote!(fn f() #output {}));
        assert!(output.has_path("Result") && !output.has_path("Future"));
        let imp = Seen::of_impl(impl_of(&file, "DemoToolsBlocking"));
        assert!(imp.has_path("BlockingToolCaller") && imp.has_string("process_list"));
        assert!(
            imp.has_path("ignore_result"),
            "`Result<(), E>` ignores the result"
        );

        find(&file, |item| match item {
            Item::Struct(item) => (item.ident == "DemoToolsDeclaration").then_some(()),
            _ => None,
        });
        let declared = Seen::of_impl(impl_of(&file, "DeclaredTools"));
        for text in [
            "DemoTools",
            "process_list",
            "sum",
            "list",
            "&[i64]",
            "operation",
        ] {
            assert!(
                declared.has_string(text),
                "{text:?} in {:?}",
                declared.strings
            );
        }
        let all = Seen::of_file(&file);
        assert!(
            !all.attributes.iter().any(|a| a == "tool" || a == "param"),
            "the macro's attributes are removed: {:?}",
            all.attributes
        );
    }

    #[test]
    fn on_anything_but_a_trait_the_item_is_kept_beside_the_error() {
        let file = expand(quote!(
            struct NotATrait;
        ));
        assert!(matches!(&file.items[0], Item::Struct(item) if item.ident == "NotATrait"));
        let errors = compile_error_messages(&file);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("#[elixir_tools] goes on a trait"));
    }

    #[test]
    fn an_invalid_method_is_still_declared_with_a_placeholder_body() {
        let file = expand(quote! {
            trait T { async fn f(&self) -> u32; async fn g(&self) -> Result<u32, E>; }
        });
        assert_eq!(
            compile_error_messages(&file),
            ["tool methods return `Result<T, E>` (or an alias of it), since a call can fail"]
        );
        method(trait_named(&file, "T"), "f");
        let body = |name: &str| Seen::of_impl_fn(impl_fn(impl_of(&file, "T"), name));
        assert!(body("f").macros.contains(&"unreachable".to_owned()));
        assert!(!body("f").has_path("call_tool"));
        assert!(body("g").has_path("call_tool"));
        // Only the valid method is declared.
        let declared = Seen::of_impl(impl_of(&file, "DeclaredTools"));
        assert!(declared.has_string("g") && !declared.has_string("f"));
    }

    #[test]
    fn named_lifetimes_are_erased_in_schemas() {
        let file = expand(quote! {
            trait T { async fn f<'a>(&self, s: &'a str) -> Result<u32, Error>; }
        });
        let declared = Seen::of_impl(impl_of(&file, "DeclaredTools"));
        assert!(declared.has_path("SchemaProbe"));
        let text: Vec<_> = Seen::of_file(&file).strings;
        assert!(
            text.iter().any(|s| s == "&'a str"),
            "the type as written is documented"
        );
        let mut probed = Vec::new();
        struct Probes<'v>(&'v mut Vec<String>);
        impl<'ast> syn::visit::Visit<'ast> for Probes<'_> {
            fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
                self.0.push(lifetime.ident.to_string());
            }
            fn visit_macro(&mut self, mac: &'ast syn::Macro) {
                let args = mac.parse_body_with(
                    syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
                );
                for arg in args.iter().flatten() {
                    self.visit_expr(arg);
                }
            }
        }
        syn::visit::Visit::visit_item_impl(
            &mut Probes(&mut probed),
            impl_of(&file, "DeclaredTools"),
        );
        assert!(!probed.iter().any(|l| l == "a"), "{probed:?}");
        assert!(probed.iter().any(|l| l == "_"), "{probed:?}");
    }
}
