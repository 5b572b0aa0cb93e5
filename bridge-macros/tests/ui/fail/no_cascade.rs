// One real error per broken method, and none at the call sites.
use snakepit_bridge::{elixir_tools, Error, SessionContext};

#[elixir_tools]
pub trait Tools {
    async fn no_self(n: u32) -> Result<u32, Error>;
    async fn pattern(&self, (a, b): (u32, u32)) -> Result<u32, Error>;
    async fn plain(&self) -> u32;
    async fn fine(&self, n: u32) -> Result<u32, Error>;
}

#[allow(dead_code)]
async fn calls(ctx: &SessionContext) {
    let _ = ctx.no_self(1).await;
    let _ = ctx.pattern((1, 2)).await;
    let _: u32 = ctx.plain().await;
    let _ = ctx.fine(1).await;
    let _ = ToolsDeclaration::tools();
}

fn main() {}
