#!/usr/bin/env bash
# authzen.sh -- HTTP throughput and latency of ztgate's AuthZEN PDP under wrk,
# with nginx serving a canned decision as the baseline, in the same run.
#
#   bench/wrk/authzen.sh [OUT_DIR]        (default /tmp/ztgate-wrk; ~4 minutes)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        WRK_DURATION=15s  WRK_THREADS=2  WRK_CONNS="32 64"  WRK_POLICIES=100
#        WRK_ENTITIES=10k (or 100k)
#        WRK_CACHE_ENTRIES=100000 (0: decision cache off, every decision a miss)
# Needs: wrk, nginx (Debian `wrk`, `nginx-light`), node, curl.
#
# What runs: the deterministic Cedar benchmark inputs (bench/inputs/generate.mjs:
# WRK_POLICIES policies, WRK_ENTITIES entities; the policies' context.source_ip
# is read as ip(context.source_ip) because AuthZEN has no extension values),
# `ztgate serve` on 127.0.0.1 with limits.threads 2 and
# pdp.require_authentication on (an API key from `ztgate keys create`), and
# nginx (2 workers, access_log off, `return 200 '{"decision":true}'`).
# select_bodies.mjs evaluates the 1,000 requests once and keeps 64 allows and
# 64 denies, interleaved; wrk cycles through them (authzen.lua).
# For each connection count: POST /access/v1/evaluation, POST
# /access/v1/evaluations (10 items: decisions/s = 10 x req/s), nginx with the
# single bodies, GET /healthz (ztgate's bare HTTP cost). Every server gets a 3 s
# warm-up first. wrk and the servers share the machine's cores: nothing is
# pinned, figures are what the box gives.
# Output: the table on stdout; raw wrk output, /metrics and logs in OUT_DIR.
# Exit 1 when a run had non-2xx answers or socket errors.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/bench/wrk"
OUT="${1:-/tmp/ztgate-wrk}"
DURATION="${WRK_DURATION:-15s}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-32 64}"
POLICIES="${WRK_POLICIES:-100}"
ENTITIES="${WRK_ENTITIES:-10k}"
# shellcheck source=common.sh
source "${HERE}/common.sh"
ZTGATE_BIN="$(ztgate_binary)"
NGINX="$(nginx_binary)"

WORK="${OUT}/work"
rm -rf "${WORK}" "${OUT}"/wrk-*.txt
mkdir -p "${WORK}/nginx" "${OUT}"
ZT_PID="" NGINX_PID=""
# shellcheck disable=SC2317
cleanup() { stop_pid "${ZT_PID}"; stop_pid "${NGINX_PID}"; }
trap cleanup EXIT

echo "== inputs (${POLICIES} policies, ${ENTITIES} entities)"
[[ -f "${OUT}/inputs/entities_100k.json" ]] || node "${ROOT}/bench/inputs/generate.mjs" --out "${OUT}/inputs" >/dev/null
sed 's/context\.source_ip\.isInRange(/ip(context.source_ip).isInRange(/g' \
  "${OUT}/inputs/policies_${POLICIES}.cedar" >"${WORK}/policies.cedar"
# The benchmark's caller may ask the PDP (pdp.authorize_callers).
echo 'permit (principal == Service::"wrk-bench", action == Action::"query_pdp", resource);' >>"${WORK}/policies.cedar"
cat >"${WORK}/ztgate.yaml" <<YAML
data_dir: data
listeners: [ { address: 127.0.0.1, port: 0 } ]
limits: { threads: 2, max_connections: 4096 }
pdp: { require_authentication: true }
decision_cache: { max_entries: ${WRK_CACHE_ENTRIES:-100000} }
policies:
  files: [policies.cedar]
  entities: [${OUT}/inputs/entities_${ENTITIES}.json]
YAML
KEY="$(make_key "${WORK}/data")"
[[ -n "${KEY}" ]] || { echo "ztgate keys create printed no key" >&2; exit 1; }

echo "== ztgate serve"
start_ztgate "${WORK}/ztgate.yaml" "${OUT}/ztgate.log"
ZT="http://127.0.0.1:${ZT_PORT}"
node "${HERE}/select_bodies.mjs" --url "${ZT}" --key "${KEY}" \
  --requests "${OUT}/inputs/requests_${ENTITIES}.json" --out "${WORK}"

echo "== nginx baseline"
NGINX_PORT="$(free_port)"
cat >"${WORK}/nginx/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid ${WORK}/nginx/nginx.pid;
error_log ${WORK}/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path ${WORK}/nginx/body;
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location / {
      default_type application/json;
      return 200 '{"decision":true}';
    }
  }
}
NGINX
"${NGINX}" -e "${WORK}/nginx/error.log" -p "${WORK}/nginx" -c "${WORK}/nginx/nginx.conf" &
NGINX_PID=$!
wait_http "http://127.0.0.1:${NGINX_PORT}/" 20

# shellcheck disable=SC2046,SC2317
nginx_pids() { echo "${NGINX_PID}" $(ps -o pid= --ppid "${NGINX_PID}"); }

export WRK_KEY="${KEY}"
SINGLE="${WORK}/single.lua" BATCH="${WORK}/batch.lua"
echo "== warm-up"
WRK_BODIES="${SINGLE}" run_wrk warmup-ztgate "${WORK}" -t"${THREADS}" -c32 -d3s -s "${HERE}/authzen.lua" "${ZT}/access/v1/evaluation"
WRK_BODIES="${SINGLE}" run_wrk warmup-nginx "${WORK}" -t"${THREADS}" -c32 -d3s -s "${HERE}/authzen.lua" \
  "http://127.0.0.1:${NGINX_PORT}/access/v1/evaluation"

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
ROWS=()
FAILED=0
measure() {  # NAME LABEL DECISIONS_PER_REQ PIDS-FUNC wrk-args...
  local name="$1" label="$2" per="$3" pids="$4"
  shift 4
  wrk_measured "${name}" "${pids}" "$@"
  local f="${MEASURED_FILE}" rps="${MEASURED_RPS}"
  ROWS+=("${name}|${label}|${rps}|$(awk -v r="${rps}" -v p="${per}" 'BEGIN {printf "%.0f", r * p}')|$(wrk_field "${f}" p50)|$(wrk_field "${f}" p99)|${MEASURED_CPU_US}")
  echo "   ${name}: ${rps} req/s, p50 $(wrk_field "${f}" p50) ms, p99 $(wrk_field "${f}" p99) ms"
}
# shellcheck disable=SC2317
zt_pids() { echo "${ZT_PID}"; }

for c in ${CONNS}; do
  echo "== ${c} connections, ${DURATION} each"
  common=(-t"${THREADS}" -c"${c}" -d"${DURATION}")
  WRK_BODIES="${SINGLE}" measure "wrk-eval-c${c}" "ztgate POST /access/v1/evaluation" 1 zt_pids \
    "${common[@]}" -s "${HERE}/authzen.lua" "${ZT}/access/v1/evaluation"
  WRK_BODIES="${BATCH}" measure "wrk-batch-c${c}" "ztgate POST /access/v1/evaluations (10)" 10 zt_pids \
    "${common[@]}" -s "${HERE}/authzen.lua" "${ZT}/access/v1/evaluations"
  WRK_BODIES="${SINGLE}" measure "wrk-nginx-c${c}" "nginx return 200 (same bodies)" 1 nginx_pids \
    "${common[@]}" -s "${HERE}/authzen.lua" "http://127.0.0.1:${NGINX_PORT}/access/v1/evaluation"
  measure "wrk-healthz-c${c}" "ztgate GET /healthz" 1 zt_pids "${common[@]}" "${ZT}/healthz"
done

curl -fsS "${ZT}/metrics" >"${OUT}/metrics.txt"
echo
echo "== results ($(nproc) cores shared by wrk and the server; ${DURATION} per run, wrk -t${THREADS};" \
  "load average ${LOAD_START} at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
echo "   µs CPU/req: the server's user+system CPU over the run divided by the requests served"
row_of() { local r; for r in "${ROWS[@]}"; do if [[ "${r%%|*}" == "$1" ]]; then echo "${r}"; fi; done; }
fmt='| %-40s | %5s | %9s | %11s | %7s | %7s | %9s | %s |\n'
# shellcheck disable=SC2059
printf "${fmt}" endpoint conns 'req/s' 'decisions/s' 'p50 ms' 'p99 ms' 'µs CPU/req' 'req/s vs nginx'
for c in ${CONNS}; do
  nginx_rps="$(row_of "wrk-nginx-c${c}" | cut -d'|' -f3)"
  for name in eval batch nginx healthz; do
    IFS='|' read -r _ label rps dps p50 p99 cpu <<<"$(row_of "wrk-${name}-c${c}")"
    ratio="$(awk -v a="${rps}" -v b="${nginx_rps}" 'BEGIN {printf "%.2f", a / b}')"
    [[ "${name}" == healthz || "${name}" == nginx ]] && dps="-"
    # shellcheck disable=SC2059
    printf "${fmt}" "${label}" "${c}" "${rps}" "${dps}" "${p50}" "${p99}" "${cpu}" "${ratio}"
  done
done
echo
echo "decisions served: $(grep '^ztgate_decisions_total' "${OUT}/metrics.txt" | tr '\n' ' ')"
echo "raw output: ${OUT}/wrk-*.txt, ${OUT}/metrics.txt"
exit "${FAILED}"
