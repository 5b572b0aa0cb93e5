//! `#[derive(JsonSchema)]` on the parameter and result types of tools, in a crate that depends
//! on snakepit-bridge (and serde) only, as the README says: schemars' derive names
//! `schemars::...` from where it is used, so the import brings `schemars` itself into scope
//! (`{self, JsonSchema}`); `#[schemars(crate = "...")]` works too.
use serde::{Deserialize, Serialize};
use snakepit_bridge::schemars::{self, JsonSchema};
use snakepit_bridge::worker::{ToolError, ToolSet};
use snakepit_bridge::{elixir_tools, worker_tools, Error};

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Point {
    x: f64,
    y: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub enum Unit {
    Metres,
    Feet,
}

struct Tools;

#[worker_tools]
impl Tools {
    /// The distance between two points.
    pub fn distance(&self, from: Point, to: Point, unit: Option<Unit>) -> Result<f64, ToolError> {
        let _ = unit;
        Ok(((to.x - from.x).powi(2) + (to.y - from.y).powi(2)).sqrt())
    }

    /// The point halfway.
    pub fn midpoint(&self, from: Point, to: Point) -> Result<Point, ToolError> {
        Ok(Point {
            x: (from.x + to.x) / 2.0,
            y: (from.y + to.y) / 2.0,
        })
    }
}

/// Tools of the host, with the same types.
#[elixir_tools]
pub trait HostTools {
    async fn mirror(&self, point: Point) -> Result<Point, Error>;
}

mod with_attribute {
    // The other way: the crate attribute, with the trait imported alone.
    use snakepit_bridge::schemars::JsonSchema;

    #[derive(serde::Deserialize, JsonSchema)]
    #[schemars(crate = "snakepit_bridge::schemars")]
    pub struct Scale {
        pub factor: f64,
    }
}

struct More;

#[worker_tools]
impl More {
    pub fn scale(&self, by: with_attribute::Scale) -> Result<f64, ToolError> {
        Ok(by.factor)
    }
}

#[test]
fn json_schema_derive() {
    let tools = Tools::tool_definitions();
    let from = tools[0].parameters[0]
        .schema
        .as_ref()
        .expect("a schema for `Point`");
    assert_eq!(from["title"], "Point");
    assert!(
        tools[0].parameters[2].schema.is_some(),
        "a schema for `Unit`"
    );
    assert_eq!(
        tools[1].result_schema.as_ref().expect("a result schema")["title"],
        "Point"
    );
    let declared = HostToolsDeclaration::tools();
    assert_eq!(declared[0].parameters[0].schema["title"], "Point");
    assert!(More::tool_definitions()[0].parameters[0].schema.is_some());
}
