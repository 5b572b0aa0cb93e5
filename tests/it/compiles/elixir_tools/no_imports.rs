//! The generated code names everything by its full path: the user imports nothing.
#[snakepit_bridge::elixir_tools]
pub trait Tools {
    async fn add(&self, a: i64, b: i64) -> ::core::result::Result<i64, snakepit_bridge::Error>;
}

#[allow(dead_code)]
async fn call(ctx: &snakepit_bridge::SessionContext) -> i64 {
    Tools::add(ctx, 1, 2).await.unwrap_or(0)
}

#[test]
fn no_imports() {
    assert_eq!(ToolsDeclaration::tools().len(), 1);
}
