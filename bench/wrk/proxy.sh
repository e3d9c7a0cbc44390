#!/usr/bin/env bash
# proxy.sh -- OpenAI chat-completions proxying under wrk: ztgate with every
# pipeline stage on, against nginx proxying the same upstream with no checks,
# in the same run.
#
#   bench/wrk/proxy.sh [OUT_DIR]          (default /tmp/ztgate-wrk-proxy; ~2.5 minutes)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        WRK_DURATION=15s  WRK_THREADS=2  WRK_CONNS="32 64"
#        PROXY_REDACT=1   the permit carries @redact("secrets,pii") (output DLP on every answer)
# Needs: wrk, nginx (Debian `wrk`, `nginx-light`), node, curl.
#
# What runs, all on 127.0.0.1 over plain HTTP with keep-alive:
#  - upstream: nginx (1 worker, access_log off) answering
#    POST /v1/chat/completions with a fixed non-streaming chat.completion
#    (~600 bytes, with usage) through `return 200 '...'`;
#  - baseline: nginx (2 workers, access_log off) proxying /v1/ to it, HTTP/1.1
#    with an upstream block `keepalive 64` (pooled, as ztgate's are);
#  - ztgate: `ztgate serve`, limits.threads 2, one upstream and one model
#    (bench-model) on it, a Cedar policy letting Group::"bench" invoke_model on
#    ModelTier::"bench", an API key for Service::"bench" from `ztgate keys
#    create`, the audit trail in its data dir (the default, async). Every stage runs:
#    authenticate, enrich, authorize (decision cache), enforce, forward,
#    output meter, audit record (OCSF event sealed into the SQLite trail).
# wrk (proxy.lua) posts {"model":"bench-model","messages":[...]} with the
# key; nginx ignores it. For each connection count: the upstream directly
# (context), the nginx proxy, ztgate. Every server gets a 3 s warm-up first.
# wrk and the servers share the machine's cores: nothing is pinned.
# Output: the table, the ratios against the targets (ztgate/nginx req/s
# >= 0.75, ztgate p50 - nginx p50 < 300 µs), and ztgate's per-stage means
# (ztgate_stage_duration_seconds sum/count over the measured runs) on stdout;
# raw wrk output, /metrics and logs in OUT_DIR.
# Exit 1 when a run had non-2xx answers or socket errors, or ztgate counted
# any chat-completions answer other than 200 or any upstream error (other
# than client_gone: wrk stopping mid-request). Missing a target is reported,
# not a failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/bench/wrk"
OUT="${1:-/tmp/ztgate-wrk-proxy}"
DURATION="${WRK_DURATION:-15s}"
THREADS="${WRK_THREADS:-2}"
CONNS="${WRK_CONNS:-32 64}"
# shellcheck source=common.sh
source "${HERE}/common.sh"
ZTGATE_BIN="$(ztgate_binary)"
NGINX="$(nginx_binary)"

WORK="${OUT}/work"
rm -rf "${WORK}" "${OUT}"/wrk-*.txt
mkdir -p "${WORK}/upstream" "${WORK}/nginx" "${OUT}"
ZT_PID="" UP_PID="" NGINX_PID=""
# shellcheck disable=SC2317
cleanup() { stop_pid "${ZT_PID}"; stop_pid "${NGINX_PID}"; stop_pid "${UP_PID}"; }
trap cleanup EXIT

# What a model server answers: no '$' or "'" (nginx would read them).
ANSWER='{"id":"chatcmpl-bench0000000000000000000000001","object":"chat.completion","created":1732435200,"model":"bench-model","system_fingerprint":"fp_bench0001","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today? This is a fixed benchmark answer, the same for every request, about as long as a short reply from a real chat model.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":36,"total_tokens":45,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}'
BODY='{"model":"bench-model","messages":[{"role":"user","content":"Say hello"}]}'

start_nginx() {  # DIR (holding nginx.conf): the pid in REPLY
  "${NGINX}" -e "$1/error.log" -p "$1" -c "$1/nginx.conf" &
  REPLY=$!
}
nginx_head() {  # DIR WORKERS
  cat <<NGINX
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
NGINX
}

echo "== upstream nginx (1 worker, canned chat.completion, ${#ANSWER} bytes)"
UP_PORT="$(free_port)"
{
  nginx_head "${WORK}/upstream" 1
  cat <<NGINX
  server {
    listen 127.0.0.1:${UP_PORT};
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '${ANSWER}';
    }
    location / { return 404; }
  }
}
NGINX
} >"${WORK}/upstream/nginx.conf"
start_nginx "${WORK}/upstream"
UP_PID="${REPLY}"
UP="http://127.0.0.1:${UP_PORT}"
wait_http "${UP}/v1/chat/completions" 20

echo "== nginx proxy (2 workers, keepalive 64 to the upstream)"
NGINX_PORT="$(free_port)"
{
  nginx_head "${WORK}/nginx" 2
  cat <<NGINX
  upstream llm { server 127.0.0.1:${UP_PORT}; keepalive 64; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:${NGINX_PORT};
    location /v1/ {
      proxy_pass http://llm;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
} >"${WORK}/nginx/nginx.conf"
start_nginx "${WORK}/nginx"
NGINX_PID="${REPLY}"
NG="http://127.0.0.1:${NGINX_PORT}"
wait_http "${NG}/v1/chat/completions" 20

echo "== ztgate serve (all stages on)"
# PROXY_REDACT=1: the permit asks for output DLP (@redact("secrets,pii")):
# every answer is held, scanned and written again (docs/PERFORMANCE.md).
redact_line=""
[[ "${PROXY_REDACT:-0}" == "1" ]] && redact_line='@redact("secrets,pii")'
{ echo '@id("bench-services-use-bench-models")'; [[ -n "${redact_line}" ]] && echo "${redact_line}"; true; } \
  >"${WORK}/policies.cedar"
cat >>"${WORK}/policies.cedar" <<'CEDAR'
permit (
  principal in Group::"bench",
  action == Action::"invoke_model",
  resource in ModelTier::"bench"
);
CEDAR
cat >"${WORK}/entities.json" <<'JSON'
[
  {"uid": {"type": "Service", "id": "bench"}, "attrs": {}, "parents": [{"type": "Group", "id": "bench"}]},
  {"uid": {"type": "Group", "id": "bench"}, "attrs": {}, "parents": []},
  {"uid": {"type": "Model", "id": "bench-model"}, "attrs": {"provider": "nginx"},
   "parents": [{"type": "ModelTier", "id": "bench"}]},
  {"uid": {"type": "ModelTier", "id": "bench"}, "attrs": {}, "parents": []}
]
JSON
cat >"${WORK}/ztgate.yaml" <<YAML
data_dir: data
listeners: [ { address: 127.0.0.1, port: 0 } ]
limits: { threads: 2, max_connections: 4096 }
upstreams:
  - { id: bench-upstream, url: "${UP}/v1", timeout: 30s }
models:
  - { id: bench-model, upstream: bench-upstream }
policies:
  files: [policies.cedar]
  entities: [entities.json]
YAML
KEY="$("${ZTGATE_BIN}" keys create --data-dir "${WORK}/data" --name wrk-proxy --principal 'Service::"bench"' |
  grep -m1 '^ztg_')"
[[ -n "${KEY}" ]] || { echo "ztgate keys create printed no key" >&2; exit 1; }
start_ztgate "${WORK}/ztgate.yaml" "${OUT}/ztgate.log"
ZT="http://127.0.0.1:${ZT_PORT}"

# One request through each path first: exactly 200 and the upstream's answer.
for url in "${UP}" "${NG}" "${ZT}"; do
  got="$(curl -sS -o "${WORK}/answer.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer ${KEY}" --data-binary "${BODY}" "${url}/v1/chat/completions")"
  [[ "${got}" == 200 ]] || { echo "${url}: HTTP ${got}: $(cat "${WORK}/answer.json")" >&2; exit 1; }
  node -e 'const [a, b] = process.argv.slice(1).map(JSON.parse); if (a.usage.total_tokens !== b.usage.total_tokens ||
    a.choices[0].message.content !== b.choices[0].message.content) process.exit(1)' \
    "$(cat "${WORK}/answer.json")" "${ANSWER}" || { echo "${url}: unexpected answer $(cat "${WORK}/answer.json")" >&2; exit 1; }
done

# shellcheck disable=SC2046,SC2317
nginx_pids() { echo "${NGINX_PID}" $(ps -o pid= --ppid "${NGINX_PID}"); }
# shellcheck disable=SC2046,SC2317
up_pids() { echo "${UP_PID}" $(ps -o pid= --ppid "${UP_PID}"); }
# shellcheck disable=SC2317
zt_pids() { echo "${ZT_PID}"; }

export WRK_KEY="${KEY}"
echo "== warm-up"
for url in "${UP}" "${NG}" "${ZT}"; do
  run_wrk "warmup-${url##*:}" "${WORK}" -t"${THREADS}" -c32 -d3s -s "${HERE}/proxy.lua" "${url}/v1/chat/completions"
done
curl -fsS "${ZT}/metrics" >"${OUT}/metrics-before.txt"

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
ROWS=()
FAILED=0
measure() {  # NAME PIDS-FUNC wrk-args...
  wrk_measured "$@"
  local name="$1" f="${MEASURED_FILE}" rps="${MEASURED_RPS}"
  ROWS+=("${name}|${rps}|$(wrk_field "${f}" p50)|$(wrk_field "${f}" p99)|${MEASURED_CPU_US}")
  echo "   ${name}: ${rps} req/s, p50 $(wrk_field "${f}" p50) ms, p99 $(wrk_field "${f}" p99) ms"
}

for c in ${CONNS}; do
  echo "== ${c} connections, ${DURATION} each"
  common=(-t"${THREADS}" -c"${c}" -d"${DURATION}" -s "${HERE}/proxy.lua")
  measure "wrk-upstream-c${c}" up_pids "${common[@]}" "${UP}/v1/chat/completions"
  measure "wrk-nginx-c${c}" nginx_pids "${common[@]}" "${NG}/v1/chat/completions"
  measure "wrk-ztgate-c${c}" zt_pids "${common[@]}" "${ZT}/v1/chat/completions"
done
curl -fsS "${ZT}/metrics" >"${OUT}/metrics.txt"

# ztgate's own count of chat-completions answers: all must be 200.
bad="$(awk '/^ztgate_http_requests_total[{]/ && /route="\/v1\/chat\/completions"/ && !/status="200"/ && $NF > 0' \
  "${OUT}/metrics.txt")"
# client_gone is wrk closing its connections with requests in flight at the
# end of each run: expected, reported below, not a failure.
bad+="$(awk '/^ztgate_upstream_errors_total[{]/ && !/code="client_gone"/ && $NF > 0' "${OUT}/metrics.txt")"
if [[ -n "${bad}" ]]; then
  echo "!! ztgate counted answers other than 200 or upstream errors:" >&2
  echo "${bad}" >&2
  FAILED=1
fi

echo
echo "== results ($(nproc) cores shared by wrk, the proxy and the upstream; ${DURATION} per run, wrk -t${THREADS};" \
  "load average ${LOAD_START} at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
echo "   µs CPU/req: that server's user+system CPU over the run divided by the requests served" \
  "(the proxies' figures leave out the upstream's)"
row_of() { local r; for r in "${ROWS[@]}"; do if [[ "${r%%|*}" == "$1" ]]; then echo "${r}"; fi; done; }
fmt='| %-34s | %5s | %9s | %7s | %7s | %10s | %14s |\n'
# shellcheck disable=SC2059
printf "${fmt}" path conns 'req/s' 'p50 ms' 'p99 ms' 'µs CPU/req' 'req/s vs nginx'
for c in ${CONNS}; do
  nginx_rps="$(row_of "wrk-nginx-c${c}" | cut -d'|' -f2)"
  for name in upstream nginx ztgate; do
    IFS='|' read -r _ rps p50 p99 cpu <<<"$(row_of "wrk-${name}-c${c}")"
    case "${name}" in
      upstream) label="upstream directly (nginx return)" ;;
      nginx) label="nginx proxy (no checks)" ;;
      ztgate) label="ztgate proxy (all stages)" ;;
    esac
    # shellcheck disable=SC2059
    printf "${fmt}" "${label}" "${c}" "${rps}" "${p50}" "${p99}" "${cpu}" \
      "$(awk -v a="${rps}" -v b="${nginx_rps}" 'BEGIN {printf "%.2f", a / b}')"
  done
done
echo
for c in ${CONNS}; do
  IFS='|' read -r _ _ up_p50 _ _ <<<"$(row_of "wrk-upstream-c${c}")"
  IFS='|' read -r _ ng_rps ng_p50 _ _ <<<"$(row_of "wrk-nginx-c${c}")"
  IFS='|' read -r _ zt_rps zt_p50 _ _ <<<"$(row_of "wrk-ztgate-c${c}")"
  awk -v c="${c}" -v zr="${zt_rps}" -v nr="${ng_rps}" -v zp="${zt_p50}" -v np="${ng_p50}" -v up="${up_p50}" 'BEGIN {
    ratio = zr / nr; added = (zp - np) * 1000
    printf "c%-3s ztgate/nginx req/s %.2f (target >= 0.75: %s); p50 added vs nginx %+.0f µs (target < 300: %s);" \
      " vs upstream directly %+.0f µs\n", c, ratio, (ratio >= 0.75 ? "met" : "MISSED"), added,
      (added < 300 ? "met" : "MISSED"), (zp - up) * 1000 }'
done
echo
echo "ztgate per-stage means over the measured runs (ztgate_stage_duration_seconds sum/count):"
awk '
  function key(line) { match(line, /stage="[^"]*"/); return substr(line, RSTART + 7, RLENGTH - 8) }
  /^ztgate_stage_duration_seconds_sum[{]/   { s = key($0); if (FNR == NR) s0[s] = $NF; else { s1[s] = $NF; order[++n] = s } }
  /^ztgate_stage_duration_seconds_count[{]/ { s = key($0); if (FNR == NR) c0[s] = $NF; else c1[s] = $NF }
  END {
    for (i = 1; i <= n; ++i) {
      s = order[i]; dc = c1[s] - c0[s]
      if (dc > 0) printf "  %-14s %8.1f µs  (%d observations)\n", s, (s1[s] - s0[s]) / dc * 1e6, dc
      else printf "  %-14s        -    (no observations)\n", s
    }
  }' "${OUT}/metrics-before.txt" "${OUT}/metrics.txt"
echo
echo "ztgate chat-completions answers: $(grep '^ztgate_http_requests_total{.*chat/completions' "${OUT}/metrics.txt" |
  awk '$NF > 0' | tr '\n' ' ')"
echo "ztgate upstream errors: $(grep '^ztgate_upstream_errors_total{' "${OUT}/metrics.txt" | awk '$NF > 0' |
  tr '\n' ' ') (client_gone: wrk stopping mid-request at the end of a run)"
echo "audit trail: $(grep '^ztgate_audit_records_committed_total' "${OUT}/metrics.txt" | awk '{print $2}') records committed, store $(du -ch "${WORK}"/data/audit.db* | tail -1 | cut -f1)"
echo "raw output: ${OUT}/wrk-*.txt, ${OUT}/metrics.txt"
exit "${FAILED}"
