#!/usr/bin/env bash
# Runs every benchmark and prints the figures as Markdown (what BENCHMARKS.md holds).
# Usage: bench/run.sh > bench-results.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(rustc --version)"
echo
cargo bench --quiet --bench bridge 2>/dev/null
bash "$root/bench/compile_time.sh"
