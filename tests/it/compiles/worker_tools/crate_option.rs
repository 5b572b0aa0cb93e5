//! `crate = "..."`: the attributes used without the facade, naming the runtime crates directly
//! (as a crate that re-exports them would name its own path).
use snakepit_bridge_worker::{ToolError, ToolSet};

struct Tools;

#[snakepit_bridge::worker_tools(crate = "snakepit_bridge_worker")]
impl Tools {
    /// Adds one.
    pub fn inc(&self, n: u32) -> Result<u32, ToolError> {
        Ok(n + 1)
    }
}

mod reexported {
    // A crate of one's own that re-exports the runtimes under its own path.
    pub mod worker {
        pub use snakepit_bridge_worker::*;
    }
    pub use snakepit_bridge_runtime::*;
}

struct Others;

#[snakepit_bridge::worker_tools(
    crate = "crate::compiles::worker_tools::crate_option::reexported::worker"
)]
impl Others {
    pub async fn twice(&self, n: u32) -> Result<u32, ToolError> {
        Ok(2 * n)
    }
}

/// Tools of the host.
#[snakepit_bridge::elixir_tools(crate = "snakepit_bridge_runtime")]
pub trait HostTools {
    async fn calculate_fibonacci(&self, n: u32)
        -> Result<Vec<u64>, snakepit_bridge_runtime::Error>;
}

/// The same, through the re-exporting path.
#[snakepit_bridge::elixir_tools(crate = "crate::compiles::worker_tools::crate_option::reexported")]
pub trait MoreHostTools {
    async fn process_list(&self, list: Vec<i64>) -> Result<i64, snakepit_bridge_runtime::Error>;
}

#[test]
fn crate_option() {
    assert_eq!(Tools::tool_definitions()[0].name, "inc");
    assert_eq!(Others::tool_definitions()[0].name, "twice");
    assert_eq!(HostToolsDeclaration::tools()[0].name, "calculate_fibonacci");
    assert_eq!(
        MoreHostToolsDeclaration::tools()[0].parameters[0].name,
        "list"
    );
}
