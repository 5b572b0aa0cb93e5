//! Every return shape: decoded, ignored, the whole response, an alias, a custom error type.
use snakepit_bridge::{elixir_tools, Error, ToolResponse};

#[derive(Debug)]
pub struct MyError(#[allow(dead_code)] Error);

impl From<Error> for MyError {
    fn from(error: Error) -> Self {
        MyError(error)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
pub type CountResult = std::result::Result<u64, MyError>;
/// An alias whose name does not end in `Result`, resolved through the trait.
pub type Res<T> = std::result::Result<T, Error>;

#[elixir_tools]
pub trait Shapes {
    async fn decoded(&self) -> std::result::Result<Vec<String>, Error>;
    async fn ignored(&self) -> std::result::Result<(), MyError>;
    async fn whole(&self) -> std::result::Result<ToolResponse, Error>;
    async fn crate_alias(&self, x: u8) -> Result<bool>;
    async fn named_alias(&self) -> CountResult;
    async fn short_alias(&self) -> Res<serde_json::Value>;
}

#[allow(dead_code)]
async fn use_all(ctx: &snakepit_bridge::SessionContext) -> std::result::Result<(), MyError> {
    let _: Vec<String> = ctx.decoded().await?;
    ctx.ignored().await?;
    let _: bytes_len::Len = bytes_len::Len(ctx.whole().await?.binary_result().len());
    let _: bool = ctx.crate_alias(1).await?;
    let _: u64 = ctx.named_alias().await?;
    let _: serde_json::Value = ctx.short_alias().await?;
    Ok(())
}

mod bytes_len {
    pub struct Len(pub usize);
}
