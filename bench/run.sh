#!/usr/bin/env bash
# Runs the Cedar benchmarks of ztgate and of cedar-wasm on the same generated
# inputs, in one go, and prints the comparison (see docs/PERFORMANCE.md).
#   bench/run.sh [OUT_DIR]      (default /tmp/ztgate-bench-run; takes ~4 minutes)
# Needs: build/bench/cedar_bench (scripts/build.sh) and cedar-wasm
# (scripts/install-deps.sh installs it in tests/differential/node_modules).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-/tmp/ztgate-bench-run}"
mkdir -p "${OUT}"
cd "${ROOT}"

echo "== inputs"
node bench/inputs/generate.mjs --out "${OUT}/inputs"
echo "== cedar-wasm baseline"
node --expose-gc bench/wasm/bench.mjs --inputs "${OUT}/inputs" --out "${OUT}/wasm.json"
echo "== ztgate (decisions cross-checked against cedar-wasm first)"
build/bench/cedar_bench --inputs "${OUT}/inputs" --decisions "${OUT}/wasm.json" \
  --benchmark_out="${OUT}/native.json" --benchmark_out_format=json
echo "== comparison"
node bench/compare.mjs "${OUT}/native.json" "${OUT}/wasm.json"
