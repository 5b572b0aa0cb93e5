//! The worker script of snakepit's Python worker guide, in Rust: shared by `worker` (against a
//! host given on the command line) and `demo` (against an in-process host).

use std::io::Write;

use serde_json::json;
use snakepit_bridge::blocking::SessionContext;
use snakepit_bridge::Error;

/// Connects, lists the tools, and calls the demo tools the host exposes, printing to `out`.
pub fn run(grpc_address: &str, session_id: &str, out: &mut impl Write) -> Result<(), Error> {
    // Output is best effort: a closed stdout must not turn into a tool error.
    let _ = writeln!(out, "Rust worker started with session_id: {session_id}");
    let _ = writeln!(out, "Connecting to Elixir gRPC server at: {grpc_address}");

    let ctx = SessionContext::connect(grpc_address, session_id)?;

    let tools = ctx.elixir_tools()?;
    let names: Vec<&str> = tools.keys().map(String::as_str).collect();
    let _ = writeln!(out, "\nDiscovered available Elixir tools: {names:?}");

    if tools.contains_key("calculate_fibonacci") {
        let _ = writeln!(out, "\nCalling 'calculate_fibonacci' tool...");
        let result = ctx.call_elixir_tool("calculate_fibonacci", json!({"n": 12}))?;
        let _ = writeln!(out, "  -> Result: {result}");
    }

    if tools.contains_key("parse_json") {
        let _ = writeln!(out, "\nCalling 'parse_json' tool...");
        let test_data = json!({"hello": "world", "is_rust": true});
        let result =
            ctx.call_elixir_tool("parse_json", json!({"json_string": test_data.to_string()}))?;
        let _ = writeln!(out, "  -> Result: {result}");
    }

    if tools.contains_key("process_list") {
        let _ = writeln!(out, "\nCalling 'process_list' tool...");
        let result = ctx.call_elixir_tool(
            "process_list",
            json!({"list": [1, 2, 3, 4, 5], "operation": "sum"}),
        )?;
        let _ = writeln!(out, "  -> Result: {result}");
    }

    let _ = writeln!(out, "\nRust worker finished.");
    Ok(())
}
