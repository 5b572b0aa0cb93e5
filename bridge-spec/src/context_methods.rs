//! The methods of the contexts that `#[elixir_tools]` traits are implemented for. A tool
//! method of the same name would be shadowed by them (inherent methods win), so it could never
//! be called as `ctx.method(..)`; the macro refuses such names.

/// Every method of `SessionContext`, `blocking::SessionContext` and a worker's `ToolContext`
/// (and of the `ToolCaller` traits). The tests of the runtime and the worker read their sources
/// and fail when a method is missing here.
pub const CONTEXT_METHOD_NAMES: &[&str] = &[
    "address",
    "as_async",
    "builder",
    "call_elixir_tool",
    "call_elixir_tool_as",
    "call_elixir_tool_raw",
    "call_tool",
    "call_with_parameters",
    "cleanup",
    "clone",
    "connect",
    "correlation_id",
    "deadline",
    "elixir",
    "elixir_blocking",
    "elixir_tools",
    "for_session",
    "get_session",
    "heartbeat",
    "initialize_session",
    "metadata",
    "ping",
    "raw_client",
    "refresh_elixir_tools",
    "remaining",
    "rpc",
    "session_id",
    "telemetry",
    "verify",
    "with_correlation_id",
];

/// The names of the `pub fn`s (and `pub async fn`s) in Rust source text: what the tests compare
/// with [`CONTEXT_METHOD_NAMES`].
pub fn public_fn_names(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("pub fn ")
                .or_else(|| line.strip_prefix("pub async fn "))?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_public_fn_names() {
        let source = "impl X {\n    pub fn ping(&self) {}\n    pub async fn call<T>(&self) {}\n    fn private() {}\n}";
        assert_eq!(public_fn_names(source), ["ping", "call"]);
    }

    #[test]
    fn the_list_is_sorted_and_unique() {
        let mut sorted = CONTEXT_METHOD_NAMES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, CONTEXT_METHOD_NAMES);
    }
}
