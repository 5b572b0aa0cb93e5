// Streaming tools whose items do not serialize: the error points at the item type.
use snakepit_bridge::worker::{tokio_stream, Stream, ToolError};
use snakepit_bridge::worker_tools;

struct Opaque;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn stream(&self) -> impl Stream<Item = Result<Opaque, ToolError>> {
        tokio_stream::iter(vec![Ok(Opaque)])
    }
    pub async fn fallible_stream(
        &self,
    ) -> Result<impl Stream<Item = Result<Opaque, ToolError>>, ToolError> {
        Ok(tokio_stream::iter(vec![Ok(Opaque)]))
    }
}

fn main() {}
