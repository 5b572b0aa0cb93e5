//! Prints the Markdown reference of the demo tools, generated from the `DemoTools` trait.
//!
//! ```text
//! cargo run --example tool_docs > DEMO_TOOLS.md
//! ```

#[path = "support/demo_tools.rs"]
mod demo_tools;

fn main() {
    print!("{}", demo_tools::DemoToolsDeclaration::markdown());
}
