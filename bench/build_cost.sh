#!/usr/bin/env bash
# What a worker costs to build: a minimal two-tool worker written with the facade
# (bench/build_cost/facade_worker) against the same two tools written by hand on raw tonic,
# compiled from the same proto (bench/build_cost/raw_worker), and the facade's worker again
# without the facade's default features (no schemars: `facade_no_schemars`). The runtime's gRPC
# code is checked in (no build script, no protobuf compiler), so the raw worker is built twice:
# as tonic's guide writes it (a build.rs with protox and tonic-prost-build: `raw_worker`), and
# with the code that build script wrote checked in (`raw_worker_checked_in`), the same footing as
# the facade. Each is built cold, in release, with its own target directory, one after the other
# in the same run, with the workspace's lockfile (same versions of the crates both use). Prints build seconds, stripped binary size
# and the number of crates compiled, and keeps `cargo build --timings` reports.
#
# Usage: bench/build_cost.sh            (outputs under target/bench-build-cost/)
# The machine's other load counts: run it on an idle machine for figures to compare.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/bench-build-cost"
cargo=${CARGO:-cargo}
mkdir -p "$out"

# measure NAME FIXTURE [FACADE_OPTIONS]: builds the fixture as NAME; FACADE_OPTIONS are added to
# its snakepit-bridge dependency (e.g. `default-features = false`).
measure() {
  local name=$1 fixture=$2 facade_options=${3:-}
  local dir="$out/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  # The fixture reaches the workspace by relative paths: keep it at the same depth.
  rm -rf "$root/bench/build_cost/.$name-run"
  cp -r "$root/bench/build_cost/$fixture" "$root/bench/build_cost/.$name-run"
  local crate="$root/bench/build_cost/.$name-run"
  if [ -n "$facade_options" ]; then
    sed -i "s|^snakepit-bridge = { path = \"../../..\" }|snakepit-bridge = { path = \"../../..\", $facade_options }|" \
      "$crate/Cargo.toml"
    grep -q "$facade_options" "$crate/Cargo.toml" || { echo "could not set $facade_options" >&2; exit 1; }
  fi
  if [ "$name" = raw_worker_checked_in ]; then check_in_raw_code "$crate"; fi
  cp "$root/Cargo.lock" "$crate/Cargo.lock"
  local start end
  start=$(date +%s.%N)
  (cd "$crate" && CARGO_TARGET_DIR="$dir/target" "$cargo" build --release --timings --quiet 2>"$dir/build.log") \
    || { cat "$dir/build.log"; exit 1; }
  end=$(date +%s.%N)
  # The crates compiled: one unit per package (a build script counts with its package).
  local crates
  crates=$(cd "$crate" && CARGO_TARGET_DIR="$dir/target" "$cargo" tree -e normal,build --prefix none --no-dedupe \
    | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l)
  local binary="$dir/target/release/build-cost-${fixture//_/-}"
  cp "$binary" "$dir/stripped"
  strip "$dir/stripped"
  local seconds size
  seconds=$(echo "$end - $start" | bc)
  size=$(stat -c %s "$dir/stripped")
  cp "$dir"/target/cargo-timings/cargo-timing.html "$dir/cargo-timing.html"
  rm -rf "$crate"
  printf '%s %.1f %s %s\n' "$name" "$seconds" "$size" "$crates" | tee -a "$out/results.txt"
}

# check_in_raw_code CRATE: the raw worker without its build script and build-dependencies, with
# the file its build script wrote in the `raw_worker` run (server only, as it asks) in src/.
check_in_raw_code() {
  local crate=$1 generated
  generated=$(find "$out/raw_worker/target/release/build" -path '*/out/snakepit.bridge.rs' | head -n 1)
  [ -n "$generated" ] || { echo "no generated code from the raw_worker run" >&2; exit 1; }
  cp "$generated" "$crate/src/snakepit.bridge.rs"
  rm "$crate/build.rs"
  sed -i '/^\[build-dependencies\]/,$d' "$crate/Cargo.toml"
  sed -i 's|tonic::include_proto!("snakepit.bridge");|include!("snakepit.bridge.rs");|' "$crate/src/main.rs"
  grep -q 'include!("snakepit.bridge.rs")' "$crate/src/main.rs" \
    || { echo "could not point the raw worker at its checked-in code" >&2; exit 1; }
}

: >"$out/results.txt"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
measure facade_worker facade_worker
measure facade_no_schemars facade_worker "default-features = false"
measure raw_worker raw_worker
measure raw_worker_checked_in raw_worker
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/results.txt" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, seconds, size, crates = line.split()
    rows[name] = (float(seconds), int(size), int(crates))
print(f"{'':44}{'build s':>10}{'stripped MiB':>15}{'crates':>8}")
for name, (s, b, c) in rows.items():
    print(f"{name:44}{s:>10.1f}{b / 1048576:>15.2f}{c:>8}")
for raw in ("raw_worker", "raw_worker_checked_in"):
    r = rows[raw]
    for name in ("facade_worker", "facade_no_schemars"):
        f = rows[name]
        label = f"{name} / {raw}"
        print(f"{label:44}{f[0] / r[0]:>9.2f}x{f[1] / r[1]:>14.2f}x{f[2] / r[2]:>7.2f}x")
PY
echo "timings: $out/*/cargo-timing.html"
