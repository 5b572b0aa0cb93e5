#!/usr/bin/env bash
# Compile time of a 100-method #[elixir_tools] trait checked against a 100-tool manifest,
# against the same crate with hand-written method bodies: `cargo check` seconds of each.
#
# Usage: bench/compile_time.sh [TOOLS]   (default 100)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${1:-100}
work="$root/target/bench-compile"
rm -rf "$work/macro" "$work/manual"
mkdir -p "$work/macro/src" "$work/manual/src"

python3 - "$work" "$tools" <<'PY'
import json, sys
work, count = sys.argv[1], int(sys.argv[2])
tools = []
for i in range(count):
    tools.append({
        "name": f"tool_{i:03}",
        "description": f"Tool number {i}",
        "parameters": [
            {"name": "count", "type": "integer", "required": True, "description": ""},
            {"name": "label", "type": "string", "required": True, "description": ""},
            {"name": "items", "type": "list", "required": False, "description": ""},
        ],
    })
json.dump({"format_version": 1, "session": "bench", "tools": tools}, open(f"{work}/macro/elixir_tools.json", "w"), indent=2)

macro = ["use snakepit_bridge::{elixir_tools, Error};", "", '#[elixir_tools(manifest = "elixir_tools.json")]', "pub trait ManyTools {"]
manual = [
    "use serde_json::Value;",
    "use snakepit_bridge::{Error, SessionContext};",
    "",
    "pub trait ManyTools {",
]
impls = ["impl ManyTools for SessionContext {"]
for i in range(count):
    macro.append(f"    /// Tool number {i}.")
    macro.append(f"    async fn tool_{i:03}(&self, count: u32, label: &str, items: Option<&[i64]>) -> Result<serde_json::Value, Error>;")
    manual.append(f"    /// Tool number {i}.")
    manual.append(f"    fn tool_{i:03}(&self, count: u32, label: &str, items: Option<&[i64]>) -> impl std::future::Future<Output = Result<Value, Error>> + Send;")
    impls.append(f"    async fn tool_{i:03}(&self, count: u32, label: &str, items: Option<&[i64]>) -> Result<Value, Error> {{")
    impls.append("        let mut params = serde_json::Map::new();")
    impls.append('        params.insert("count".into(), count.into());')
    impls.append('        params.insert("label".into(), label.into());')
    impls.append('        if let Some(items) = items { params.insert("items".into(), items.into()); }')
    impls.append(f'        self.call_elixir_tool_as("tool_{i:03}", &params).await')
    impls.append("    }")
macro.append("}")
manual.append("}")
impls.append("}")
open(f"{work}/macro/src/lib.rs", "w").write("\n".join(macro) + "\n")
open(f"{work}/manual/src/lib.rs", "w").write("\n".join(manual + [""] + impls) + "\n")
for name in ["macro", "manual"]:
    open(f"{work}/{name}/Cargo.toml", "w").write(
        f'[package]\nname = "compile-{name}"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f'[dependencies]\nsnakepit-bridge = {{ path = "{sys.argv[1].rsplit("/target/", 1)[0]}" }}\nserde_json = "1"\n\n[workspace]\n'
    )
PY

check() {
  # Dependencies first (not timed), then the crate alone, three times; the median is reported.
  local dir=$1
  cp "$root/Cargo.lock" "$dir/Cargo.lock"
  (cd "$dir" && CARGO_TARGET_DIR="$work/target" cargo check --offline --quiet)
  local times=()
  for _ in 1 2 3; do
    touch "$dir/src/lib.rs"
    local start end
    start=$(date +%s%N)
    (cd "$dir" && CARGO_TARGET_DIR="$work/target" cargo check --offline --quiet)
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
  done
  # Milliseconds, the median of three.
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

macro_time=$(check "$work/macro")
manual_time=$(check "$work/manual")
echo "## 5. Compile time: $tools tools, \`cargo check\` of the crate alone (median of 3)"
echo
seconds() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
echo "| crate | seconds |"
echo "|---|---|"
echo "| \`#[elixir_tools(manifest = ...)]\` trait of $tools methods | $(seconds "$macro_time") |"
echo "| the same trait with hand-written bodies | $(seconds "$manual_time") |"
echo "| difference | $(seconds $((macro_time - manual_time))) |"
echo
