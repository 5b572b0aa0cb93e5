//! The worker script of snakepit's Python worker guide, in Rust: shared by `worker` (against a
//! host given on the command line) and `demo` (against an in-process host).

use std::io::Write;

use serde_json::json;
use snakepit_bridge::blocking::SessionContext;
use snakepit_bridge::Error;

use crate::demo_tools::DemoToolsBlocking;

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
        let fib = ctx.calculate_fibonacci(12)?;
        let _ = writeln!(
            out,
            "  -> Result: sequence {:?}, sum {}",
            fib.sequence, fib.sum
        );
    }

    if tools.contains_key("parse_json") {
        let _ = writeln!(out, "\nCalling 'parse_json' tool...");
        let test_data = json!({"hello": "world", "is_rust": true});
        let parsed = ctx.parse_json(&test_data.to_string())?;
        let data = parsed.data.unwrap_or_default();
        let _ = writeln!(
            out,
            "  -> Result: keys {:?}, size {:?}, data {data}",
            parsed.keys, parsed.size
        );
    }

    if tools.contains_key("process_list") {
        let _ = writeln!(out, "\nCalling 'process_list' tool...");
        let sum = ctx.process_list(&[1, 2, 3, 4, 5], Some("sum"))?;
        let list = serde_json::Value::Array(sum.list);
        let _ = writeln!(
            out,
            "  -> Result: {} of {list} = {}",
            sum.operation, sum.result
        );
    }

    let _ = writeln!(out, "\nRust worker finished.");
    Ok(())
}
