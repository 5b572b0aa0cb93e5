//! A trait that agrees with the demo host's manifest compiles; optional host parameters may be
//! passed as values or as `Option`s.
use snakepit_bridge::{elixir_tools, Error};

#[elixir_tools(manifest = "examples/elixir_tools.json")]
pub trait DemoTools {
    async fn calculate_fibonacci(&self, n: u64) -> Result<serde_json::Value, Error>;
    async fn parse_json(&self, json_string: String) -> Result<serde_json::Value, Error>;
    async fn process_list(
        &self,
        list: Vec<f64>,
        operation: Option<&str>,
    ) -> Result<serde_json::Value, Error>;
}

mod always_sum {
    use snakepit_bridge::{elixir_tools, Error};

    #[elixir_tools(manifest = "examples/elixir_tools.json")]
    pub trait Sum {
        #[tool(name = "process_list")]
        async fn sum(
            &self,
            list: &[i64],
            #[param(rename = "operation")] op: &str,
        ) -> Result<serde_json::Value, Error>;
    }
}
