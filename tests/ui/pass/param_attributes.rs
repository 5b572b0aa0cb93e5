// #[param(rename)] and #[param(kind)] for a type the macro cannot see into.
use snakepit_bridge::{elixir_tools, Error, ValueKind};

#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct UserId(pub u64);

#[elixir_tools]
pub trait UserTools {
    async fn find_user(
        &self,
        #[param(rename = "id", kind = "integer")] user: UserId,
        #[param(rename = "type")] kind: &str,
        r#async: bool,
    ) -> Result<serde_json::Value, Error>;
}

fn main() {
    let tool = &UserToolsDeclaration::tools()[0];
    let names: Vec<&str> = tool.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["id", "type", "async"]);
    assert_eq!(tool.parameters[0].kind, ValueKind::Integer);
}
