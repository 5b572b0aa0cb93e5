//! The blocking twin: plain methods for blocking::SessionContext.
use snakepit_bridge::blocking::SessionContext;
use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools]
pub trait MathTools {
    async fn add(&self, a: i64, b: i64) -> Result<i64, Error>;
}

#[allow(dead_code)]
fn call(ctx: &SessionContext) -> Result<i64, Error> {
    // No `.await`: MathToolsBlocking has the plain `fn`.
    let sum = ctx.add(1, 2)?;
    ctx.verify::<MathToolsDeclaration>()?;
    Ok(sum)
}
