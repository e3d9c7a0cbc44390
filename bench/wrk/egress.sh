#!/usr/bin/env bash
# egress.sh -- throughput through ztgate's egress forward proxy against the
# same clients going to the upstream directly, in the same run.
#
#   bench/wrk/egress.sh [OUT_DIR]          (default /tmp/ztgate-wrk-egress; ~2 minutes)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        WRK_DURATION=15s  WRK_THREADS=2  WRK_CONNS="32"  CONNECT_SECONDS=10
# Needs: wrk, nginx (Debian `wrk`, `nginx-light`), node, curl.
#
# What runs, all on 127.0.0.1 over plain HTTP:
#  - upstream: nginx (1 worker, access_log off) answering GET /hello with a
#    fixed 1 KiB body (`return 200`), and GET /big.bin, a 256 MiB file;
#  - ztgate: `ztgate serve` with an egress listener (egress.threads 2), a
#    zone holding 127.0.0.1 (allow-listed: loopback is otherwise refused), a
#    Cedar policy letting Service::"bench" egress into it, an API key for
#    it, the audit trail on (async, the default). Every request: the proxy
#    request parsed, authenticate, enrich, authorize (decision cache),
#    enforce, the SSRF floor, connect (or the connection's kept upstream),
#    relay, the audit record (OCSF event sealed into the SQLite trail).
# Measured, each the direct path first, then through the proxy:
#  (a) absolute-form plain HTTP under wrk (egress.lua sets the absolute URL
#      and Proxy-Authorization), keep-alive: requests/s, p50, p99;
#  (b) CONNECT: a new tunnel per request (connect_rate.mjs: CONNECT, one
#      GET, close) against a new direct connection per request;
#  (c) one tunnel's bulk throughput: curl downloading /big.bin (MB/s).
# wrk, node, curl and the servers share the machine's cores: nothing is pinned.
# Exit 1 when a run had non-2xx answers or errors.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/bench/wrk"
OUT="${1:-/tmp/ztgate-wrk-egress}"
DURATION="${WRK_DURATION:-15s}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-32}"
CONNECT_SECONDS="${CONNECT_SECONDS:-10}"
# shellcheck source=common.sh
source "${HERE}/common.sh"
ZTGATE_BIN="$(ztgate_binary)"
NGINX="$(nginx_binary)"

WORK="${OUT}/work"
rm -rf "${WORK}" "${OUT}"/wrk-*.txt
mkdir -p "${WORK}/upstream/www" "${OUT}"
ZT_PID="" UP_PID=""
# shellcheck disable=SC2317
cleanup() { stop_pid "${ZT_PID}"; stop_pid "${UP_PID}"; }
trap cleanup EXIT

BODY="$(head -c 1024 /dev/zero | tr '\0' 'x')"
dd if=/dev/zero of="${WORK}/upstream/www/big.bin" bs=1M count=256 status=none

echo "== upstream nginx (1 worker, 1 KiB /hello, 256 MiB /big.bin)"
UP_PORT="$(free_port)"
cat >"${WORK}/upstream/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid ${WORK}/upstream/nginx.pid;
error_log ${WORK}/upstream/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path ${WORK}/upstream/body;
  server {
    listen 127.0.0.1:${UP_PORT};
    location = /hello { default_type text/plain; return 200 '${BODY}'; }
    location = /big.bin { root ${WORK}/upstream/www; }
  }
}
NGINX
"${NGINX}" -e "${WORK}/upstream/error.log" -p "${WORK}/upstream" -c "${WORK}/upstream/nginx.conf" &
UP_PID=$!
UP="http://127.0.0.1:${UP_PORT}"
wait_http "${UP}/hello" 20

echo "== ztgate serve (egress listener, all stages on)"
cat >"${WORK}/policies.cedar" <<'CEDAR'
@id("bench-reaches-the-bench-zone")
permit (principal == Service::"bench", action == Action::"egress", resource in Zone::"bench");
CEDAR
echo '[{"uid": {"type": "Service", "id": "bench"}, "attrs": {}, "parents": []}]' >"${WORK}/entities.json"
cat >"${WORK}/ztgate.yaml" <<YAML
data_dir: data
listeners: [ { address: 127.0.0.1, port: 0 } ]
egress:
  listener: { address: 127.0.0.1, port: 0 }
  allow_addresses: [127.0.0.1/32]
  zones: [ { name: bench, hosts: [127.0.0.1] } ]
  limits: { threads: 2, max_connections: 4096, max_tunnels: 4096 }
policies:
  files: [policies.cedar]
  entities: [entities.json]
YAML
KEY="$("${ZTGATE_BIN}" keys create --data-dir "${WORK}/data" --name wrk-egress --principal 'Service::"bench"' |
  grep -m1 '^ztg_')"
[[ -n "${KEY}" ]] || { echo "ztgate keys create printed no key" >&2; exit 1; }
start_ztgate "${WORK}/ztgate.yaml" "${OUT}/ztgate.log"
PROXY_PORT=""
for _ in $(seq 1 100); do
  PROXY_PORT="$(sed -n 's/^ztgate egress proxy listening on http:\/\/[0-9.]*:\([0-9]*\)$/\1/p' "${OUT}/ztgate.log" | head -1)"
  [[ -n "${PROXY_PORT}" ]] && break
  sleep 0.1
done
[[ -n "${PROXY_PORT}" ]] || { echo "no egress listener in the log" >&2; cat "${OUT}/ztgate.log" >&2; exit 1; }
PROXY="127.0.0.1:${PROXY_PORT}"

# One request each way first: exactly 200 and the upstream's body; denied without the key.
got="$(curl -sS -x "http://${PROXY}" -U "bench:${KEY}" -o "${WORK}/answer" -w '%{http_code}' "${UP}/hello")"
[[ "${got}" == 200 && "$(cat "${WORK}/answer")" == "${BODY}" ]] || { echo "proxy: HTTP ${got}" >&2; exit 1; }
got="$(curl -sS -x "http://${PROXY}" -o /dev/null -w '%{http_code}' "${UP}/hello")"
[[ "${got}" == 407 ]] || { echo "proxy without a key: HTTP ${got}, expected 407" >&2; exit 1; }

# shellcheck disable=SC2046,SC2317
up_pids() { echo "${UP_PID}" $(ps -o pid= --ppid "${UP_PID}"); }
# shellcheck disable=SC2317
zt_pids() { echo "${ZT_PID}"; }

export WRK_KEY="${KEY}" WRK_TARGET="${UP}/hello"
echo "== warm-up"
run_wrk warmup-direct "${WORK}" -t"${THREADS}" -c32 -d3s "${UP}/hello"
run_wrk warmup-proxy "${WORK}" -t"${THREADS}" -c32 -d3s -s "${HERE}/egress.lua" "http://${PROXY}/"

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
ROWS=()
FAILED=0
for c in ${CONNS}; do
  echo "== (a) absolute-form, ${c} connections, ${DURATION} each"
  wrk_measured "wrk-direct-c${c}" up_pids -t"${THREADS}" -c"${c}" -d"${DURATION}" "${UP}/hello"
  ROWS+=("direct|${c}|${MEASURED_RPS}|$(wrk_field "${MEASURED_FILE}" p50)|$(wrk_field "${MEASURED_FILE}" p99)|-")
  wrk_measured "wrk-proxy-c${c}" zt_pids -t"${THREADS}" -c"${c}" -d"${DURATION}" -s "${HERE}/egress.lua" "http://${PROXY}/"
  ROWS+=("proxy|${c}|${MEASURED_RPS}|$(wrk_field "${MEASURED_FILE}" p50)|$(wrk_field "${MEASURED_FILE}" p99)|${MEASURED_CPU_US}")
done

echo "== (b) a new connection per request, 32 concurrent, ${CONNECT_SECONDS}s each"
node "${HERE}/connect_rate.mjs" --target "127.0.0.1:${UP_PORT}" --path /hello --concurrency 32 \
  --seconds "${CONNECT_SECONDS}" >"${OUT}/connect-direct.json"
before="$(cpu_ms "${ZT_PID}")"
node "${HERE}/connect_rate.mjs" --target "127.0.0.1:${UP_PORT}" --path /hello --concurrency 32 \
  --seconds "${CONNECT_SECONDS}" --proxy "${PROXY}" --key "${KEY}" >"${OUT}/connect-proxy.json"
after="$(cpu_ms "${ZT_PID}")"
for f in connect-direct connect-proxy; do
  errors="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).errors)' "${OUT}/${f}.json")"
  [[ "${errors}" == 0 ]] || { echo "!! ${f}: ${errors} errors" >&2; FAILED=1; }
done
TUNNEL_CPU="$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log((Number(process.argv[2]) * 1000 / r.requests).toFixed(1))' "${OUT}/connect-proxy.json" "$((after - before))")"

echo "== (c) one tunnel's bulk throughput (256 MiB)"
DIRECT_MBS="$(curl -sS -o /dev/null -w '%{speed_download}' "${UP}/big.bin" | awk '{printf "%.0f", $1 / 1048576}')"
TUNNEL_MBS="$(curl -sS -p -x "http://${PROXY}" -U "bench:${KEY}" -o /dev/null -w '%{speed_download}' "${UP}/big.bin" |
  awk '{printf "%.0f", $1 / 1048576}')"
PLAIN_MBS="$(curl -sS -x "http://${PROXY}" -U "bench:${KEY}" -o /dev/null -w '%{speed_download}' "${UP}/big.bin" |
  awk '{printf "%.0f", $1 / 1048576}')"
curl -fsS "http://127.0.0.1:${ZT_PORT}/metrics" >"${OUT}/metrics.txt"

echo
echo "== results ($(nproc) cores shared by the clients, the proxy and nginx; load average ${LOAD_START} at the start," \
  "$(cut -d' ' -f1-3 /proc/loadavg) at the end)"
fmt='| %-40s | %5s | %9s | %7s | %7s | %10s | %9s |\n'
# shellcheck disable=SC2059
printf "${fmt}" path conns 'req/s' 'p50 ms' 'p99 ms' 'µs CPU/req' 'vs direct'
for c in ${CONNS}; do
  direct_rps=""
  for row in "${ROWS[@]}"; do
    IFS='|' read -r name rc rps p50 p99 cpu <<<"${row}"
    [[ "${rc}" == "${c}" ]] || continue
    [[ "${name}" == direct ]] && direct_rps="${rps}"
    label="(a) wrk -> nginx directly, keep-alive"
    [[ "${name}" == proxy ]] && label="(a) wrk -> ztgate egress (absolute-form)"
    # shellcheck disable=SC2059
    printf "${fmt}" "${label}" "${c}" "${rps}" "${p50}" "${p99}" "${cpu}" \
      "$(awk -v a="${rps}" -v b="${direct_rps}" 'BEGIN {printf "%.2f", a / b}')"
  done
done
read -r d_rps d_p50 d_p99 < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log(r.rps.toFixed(0), r.p50_ms.toFixed(3), r.p99_ms.toFixed(3))' "${OUT}/connect-direct.json")
read -r t_rps t_p50 t_p99 < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
  console.log(r.rps.toFixed(0), r.p50_ms.toFixed(3), r.p99_ms.toFixed(3))' "${OUT}/connect-proxy.json")
# shellcheck disable=SC2059
printf "${fmt}" "(b) node, new connection per request" 32 "${d_rps}" "${d_p50}" "${d_p99}" - 1.00
# shellcheck disable=SC2059
printf "${fmt}" "(b) node, new CONNECT tunnel per request" 32 "${t_rps}" "${t_p50}" "${t_p99}" "${TUNNEL_CPU}" \
  "$(awk -v a="${t_rps}" -v b="${d_rps}" 'BEGIN {printf "%.2f", a / b}')"
echo
echo "(c) 256 MiB download: direct ${DIRECT_MBS} MB/s, through a CONNECT tunnel ${TUNNEL_MBS} MB/s," \
  "absolute-form ${PLAIN_MBS} MB/s"
echo
echo "ztgate egress decisions: $(grep '^ztgate_egress_decisions_total{' "${OUT}/metrics.txt" | awk '$NF > 0' | tr '\n' ' ')"
echo "audit trail: $(grep '^ztgate_audit_records_committed_total' "${OUT}/metrics.txt" | awk '{print $2}') records committed"
echo "raw output: ${OUT}/wrk-*.txt, ${OUT}/connect-*.json, ${OUT}/metrics.txt"
exit "${FAILED}"
