//! #[param(rename)] and #[param(kind)] for a type the macro cannot see into; the kind is any
//! host type name, aliases included (`int`, `dict`).
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

    async fn tag_user(
        &self,
        #[param(kind = "int")] user: UserId,
        #[param(kind = "dict")] tags: serde_json::Value,
    ) -> Result<serde_json::Value, Error>;
}

#[test]
fn param_attributes() {
    let tool = &UserToolsDeclaration::tools()[0];
    let names: Vec<&str> = tool.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["id", "type", "async"]);
    assert_eq!(tool.parameters[0].kind, ValueKind::Integer);
    let tag = &UserToolsDeclaration::tools()[1];
    let kinds: Vec<ValueKind> = tag.parameters.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ValueKind::Integer, ValueKind::Map]);
}
