//! A method's declared tool, built once from the model: the values the build-time check
//! compares with the manifest, and what the generated `{Trait}Declaration` holds (with the
//! JSON Schemas, which only the compiled program can compute, probed from the types here).

use snakepit_bridge_spec::{DeclaredParameter, DeclaredTool};
use syn::Type;

use crate::model::{ResultShape, ToolMethod};
use crate::type_text::type_text;

/// The declared tool, and the types whose schemas the generated code probes.
pub(crate) struct Declared {
    /// Names, descriptions, parameters and the result type as text; schemas `null`.
    pub(crate) tool: DeclaredTool,
    /// Each parameter's value type, in order.
    pub(crate) parameter_types: Vec<Type>,
    /// The result's type, or `None` for the whole response (any schema).
    pub(crate) result_schema_type: Option<Type>,
}

pub(crate) fn declared(method: &ToolMethod, p: &proc_macro2::TokenStream) -> Declared {
    let (result_type, result_schema_type) = match &method.shape {
        ResultShape::Decode(Some(ok)) => (type_text(ok), Some((**ok).clone())),
        ResultShape::Decode(None) | ResultShape::Invalid => {
            let output = &method.output;
            let value: Type = syn::parse_quote! {
                <#output as #p::ToolResult>::Value
            };
            (type_text(output), Some(value))
        }
        ResultShape::Unit => ("()".to_owned(), Some(syn::parse_quote!(()))),
        ResultShape::Raw => ("ToolResponse".to_owned(), None),
    };
    Declared {
        tool: DeclaredTool {
            name: method.tool_name.clone(),
            method: method.ident.to_string(),
            description: method.description.clone(),
            parameters: method
                .args
                .iter()
                .map(|arg| DeclaredParameter {
                    name: arg.wire_name.clone(),
                    argument: arg.ident.to_string(),
                    required: !arg.optional,
                    kind: arg.kind,
                    rust_type: type_text(&arg.value_ty),
                    schema: serde_json::Value::Null,
                })
                .collect(),
            result_type,
            result_schema: serde_json::Value::Null,
        },
        parameter_types: method.args.iter().map(|arg| arg.value_ty.clone()).collect(),
        result_schema_type,
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;
    use crate::internals::attr::MacroOptions;
    use crate::internals::Ctxt;
    use crate::parse::parse_trait;

    #[test]
    fn one_declaration_per_method_with_its_result_type() {
        let mut cx = Ctxt::new();
        let model = parse_trait(
            parse_quote! {
                trait T {
                    /// Fib.
                    async fn fib(&self, n: u32, #[param(rename = "op")] operation: Option<&str>) -> Result<Vec<u64>, Error>;
                    async fn aliased(&self) -> Res<u64>;
                    async fn raw(&self) -> Result<ToolResponse, Error>;
                }
            },
            MacroOptions::default(),
            &mut cx,
        );
        assert!(cx.check().is_ok());
        let tools: Vec<Declared> = model
            .methods
            .iter()
            .map(|m| declared(m, &model.private))
            .collect();
        assert_eq!(tools[0].tool.result_type, "Vec<u64>");
        assert_eq!(tools[0].tool.description, "Fib.");
        assert_eq!(tools[0].tool.parameters[1].name, "op");
        assert_eq!(tools[0].tool.parameters[1].argument, "operation");
        assert!(!tools[0].tool.parameters[1].required);
        assert_eq!(tools[0].tool.parameters[1].rust_type, "&str");
        // An alias is written out as declared; its value type is probed through the trait.
        assert_eq!(tools[1].tool.result_type, "Res<u64>");
        assert!(tools[1].result_schema_type.is_some());
        assert_eq!(tools[2].tool.result_type, "ToolResponse");
        assert!(tools[2].result_schema_type.is_none());
    }
}
