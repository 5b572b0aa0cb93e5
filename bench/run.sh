#!/usr/bin/env bash
# Runs every benchmark and prints the figures as Markdown (what BENCHMARKS.md holds).
# Usage: bench/run.sh > bench-results.md
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(rustc --version)"
echo
# The worker benchmarks launch the release examples and a Python grpcio worker.
python3 -m pip install --quiet grpcio grpcio-tools >/dev/null 2>&1 \
  || python3 -m pip install --quiet --user grpcio grpcio-tools >/dev/null
cargo build --quiet --release --examples
cargo bench --quiet --bench bridge 2>/dev/null
cargo bench --quiet --bench worker 2>/dev/null
bash "$root/bench/compile_time.sh"
