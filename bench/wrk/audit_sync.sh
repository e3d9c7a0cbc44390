#!/usr/bin/env bash
# audit_sync.sh -- what a sync audit route adds to a request over HTTP: the
# AuthZEN PDP (POST /access/v1/evaluation) under wrk, once with the route's
# audit durability async (the default: answered at once) and once sync
# (answered only once its record is durable: group commit, fsync), in the same
# run, on the same data directory's file system.
#
#   bench/wrk/audit_sync.sh [OUT_DIR]     (default /tmp/ztgate-wrk-audit; ~2 minutes)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        WRK_DURATION=10s  WRK_THREADS=2  WRK_CONNS="1 8 32 64"
# Needs: wrk, node, curl.
#
# Inputs as bench/wrk/authzen.sh (100 policies, 10k entities, 64 allowed and
# 64 denied requests cycled). The data directory (the audit store) is under
# OUT_DIR: put OUT_DIR on the disk you want measured. Output: one table row
# per mode and connection count (req/s, p50, p99, CPU/req) and the sync-async
# differences; the trail's commit counters from /metrics. Exit 1 on non-2xx.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/bench/wrk"
OUT="${1:-/tmp/ztgate-wrk-audit}"
DURATION="${WRK_DURATION:-10s}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-1 8 32 64}"
# shellcheck source=common.sh
source "${HERE}/common.sh"
ZTGATE_BIN="$(ztgate_binary)"
for tool in wrk node curl; do
  command -v "${tool}" >/dev/null || { echo "missing ${tool}" >&2; exit 1; }
done

WORK="${OUT}/work"
rm -rf "${WORK}" "${OUT}"/wrk-*.txt
mkdir -p "${WORK}" "${OUT}"
ZT_PID=""
# shellcheck disable=SC2317
cleanup() { stop_pid "${ZT_PID}"; }
trap cleanup EXIT

echo "== inputs; data directory on $(df --output=fstype,source,target "${WORK}" | tail -1 | tr -s ' ')"
[[ -f "${OUT}/inputs/entities_10k.json" ]] || node "${ROOT}/bench/inputs/generate.mjs" --out "${OUT}/inputs" >/dev/null
sed 's/context\.source_ip\.isInRange(/ip(context.source_ip).isInRange(/g' \
  "${OUT}/inputs/policies_100.cedar" >"${WORK}/policies.cedar"
# The benchmark's caller may ask the PDP (pdp.authorize_callers).
echo 'permit (principal == Service::"wrk-bench", action == Action::"query_pdp", resource);' >>"${WORK}/policies.cedar"
config() {  # MODE
  cat <<YAML
data_dir: data
listeners: [ { address: 127.0.0.1, port: 0 } ]
limits: { threads: 2, max_connections: 4096 }
pdp: { require_authentication: true }
routes: [ { path: /access/v1/evaluation, audit: { durability: $1 } } ]
policies:
  files: [policies.cedar]
  entities: [${OUT}/inputs/entities_10k.json]
YAML
}
config async >"${WORK}/async.yaml"
config sync >"${WORK}/sync.yaml"
KEY="$(make_key "${WORK}/data")"
[[ -n "${KEY}" ]] || { echo "ztgate keys create printed no key" >&2; exit 1; }
export WRK_KEY="${KEY}"

ROWS=()
FAILED=0
# shellcheck disable=SC2317
zt_pids() { echo "${ZT_PID}"; }
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
for mode in async sync; do
  echo "== ztgate serve, route durability ${mode}"
  start_ztgate "${WORK}/${mode}.yaml" "${OUT}/ztgate-${mode}.log"
  ZT="http://127.0.0.1:${ZT_PORT}"
  [[ -f "${WORK}/single.lua" ]] || node "${HERE}/select_bodies.mjs" --url "${ZT}" --key "${KEY}" \
    --requests "${OUT}/inputs/requests_10k.json" --out "${WORK}"
  WRK_BODIES="${WORK}/single.lua" run_wrk "warmup-${mode}" "${WORK}" -t"${THREADS}" -c32 -d3s \
    -s "${HERE}/authzen.lua" "${ZT}/access/v1/evaluation"
  for c in ${CONNS}; do
    t="${THREADS}"
    ((c < t)) && t="${c}"
    WRK_BODIES="${WORK}/single.lua" wrk_measured "wrk-${mode}-c${c}" zt_pids -t"${t}" -c"${c}" -d"${DURATION}" \
      -s "${HERE}/authzen.lua" "${ZT}/access/v1/evaluation"
    f="${MEASURED_FILE}"
    ROWS+=("${mode}|${c}|${MEASURED_RPS}|$(wrk_field "${f}" p50)|$(wrk_field "${f}" p99)|${MEASURED_CPU_US}")
    echo "   ${mode} c${c}: ${MEASURED_RPS} req/s, p50 $(wrk_field "${f}" p50) ms, p99 $(wrk_field "${f}" p99) ms"
  done
  curl -fsS "${ZT}/metrics" >"${OUT}/metrics-${mode}.txt"
  stop_pid "${ZT_PID}"
  ZT_PID=""
done

echo
echo "== results ($(nproc) cores shared by wrk and the server; ${DURATION} per run;" \
  "load average ${LOAD_START} at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
row_of() { local r; for r in "${ROWS[@]}"; do if [[ "${r}" == "$1|$2|"* ]]; then echo "${r}"; fi; done; }
fmt='| %-5s | %5s | %9s | %7s | %7s | %9s | %14s | %14s |\n'
# shellcheck disable=SC2059
printf "${fmt}" mode conns 'req/s' 'p50 ms' 'p99 ms' 'µs CPU/req' 'p50 vs async' 'p99 vs async'
for c in ${CONNS}; do
  IFS='|' read -r _ _ _ a50 a99 _ <<<"$(row_of async "${c}")"
  for mode in async sync; do
    IFS='|' read -r _ _ rps p50 p99 cpu <<<"$(row_of "${mode}" "${c}")"
    d50="$(awk -v a="${p50}" -v b="${a50}" 'BEGIN {printf "%+.3f ms", a - b}')"
    d99="$(awk -v a="${p99}" -v b="${a99}" 'BEGIN {printf "%+.3f ms", a - b}')"
    [[ "${mode}" == async ]] && d50="-" && d99="-"
    # shellcheck disable=SC2059
    printf "${fmt}" "${mode}" "${c}" "${rps}" "${p50}" "${p99}" "${cpu}" "${d50}" "${d99}"
  done
done
echo
for mode in async sync; do
  echo "${mode}: $(grep -E '^ztgate_audit_(commits|records_committed|records)_total' "${OUT}/metrics-${mode}.txt" | tr '\n' ' ')"
done
echo "raw output: ${OUT}/wrk-*.txt, ${OUT}/metrics-*.txt"
exit "${FAILED}"
