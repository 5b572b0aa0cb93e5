//! The declared tools as data, with schemas from schemars, and the Markdown reference.
use snakepit_bridge::schemars::JsonSchema;
use snakepit_bridge::{elixir_tools, Error, ValueKind};

#[derive(serde::Deserialize, JsonSchema)]
#[schemars(crate = "snakepit_bridge::schemars")]
pub struct Report {
    pub lines: Vec<String>,
}

#[elixir_tools]
pub trait ReportTools {
    /// Build a report.
    ///
    /// Lines are sorted.
    async fn build_report(&self, title: &str, limit: Option<u32>) -> Result<Report, Error>;
}

#[test]
fn declaration_and_docs() {
    let tools = ReportToolsDeclaration::tools();
    assert_eq!(tools[0].description, "Build a report.\n\nLines are sorted.");
    assert_eq!(tools[0].parameters[1].kind, ValueKind::Integer);
    assert!(!tools[0].parameters[1].required);
    assert_eq!(
        tools[0].result_schema["properties"]["lines"]["type"],
        "array"
    );
    assert!(ReportToolsDeclaration::markdown().contains("## `build_report`"));
}
