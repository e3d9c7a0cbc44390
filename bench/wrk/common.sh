# shellcheck shell=bash
# common.sh -- helpers shared by the bench/wrk/*.sh scripts (sourced, not
# run). Expects ROOT and OUT to be set by the caller.
#   ztgate_binary           $ZTGATE or build-release/src/cli/ztgate, must exist
#   nginx_binary            $NGINX or nginx, once wrk, node, curl and it exist
#   free_port               prints a free TCP port on 127.0.0.1
#   start_ztgate CONFIG LOG starts `ztgate serve`, sets ZT_PID and ZT_PORT,
#                           waits (<= 120 s) for /readyz
#   stop_pid PID            SIGTERM, then SIGKILL after 10 s
#   make_key DATA_DIR       prints a fresh API key (ztgate keys create)
#   run_wrk NAME OUT ARGS.. runs wrk --latency, keeps its output in OUT/NAME.txt
#   wrk_field FILE rps|p50|p99|non2xx|errors  one figure from a wrk output
ztgate_binary() {
  local bin="${ZTGATE:-${ROOT}/build-release/src/cli/ztgate}"
  [[ -x "${bin}" ]] || { echo "no ztgate binary at ${bin} (set ZTGATE=...)" >&2; return 1; }
  echo "${bin}"
}

nginx_binary() {
  local nginx="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}" tool
  for tool in wrk node curl "${nginx}"; do
    command -v "${tool}" >/dev/null || { echo "missing ${tool} (apt-get install wrk nginx-light)" >&2; return 1; }
  done
  echo "${nginx}"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

wait_http() {  # URL TIMEOUT_S: until it answers 200
  local url="$1" deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "${url}" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "timed out waiting for ${url}" >&2; return 1; }
    sleep 0.2
  done
}

start_ztgate() {  # CONFIG LOG
  local config="$1" log="$2" deadline=$((SECONDS + 120))
  # Emptied here, not by the redirection below: that truncates in the
  # background child, and the loop could read an earlier run's port first.
  : >"${log}"
  "${ZTGATE_BIN}" serve --config "${config}" >>"${log}" 2>&1 &
  ZT_PID=$!
  ZT_PORT=""
  while [[ -z "${ZT_PORT}" ]]; do
    kill -0 "${ZT_PID}" 2>/dev/null || { echo "ztgate serve exited:" >&2; cat "${log}" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "ztgate serve did not start" >&2; return 1; }
    ZT_PORT="$(sed -n 's/^ztgate listening on [a-z]*:\/\/[^ ]*:\([0-9][0-9]*\)\( .*\)\{0,1\}$/\1/p' "${log}" | head -1)"
    [[ -n "${ZT_PORT}" ]] || sleep 0.2
  done
  wait_http "http://127.0.0.1:${ZT_PORT}/readyz" 120
}

stop_pid() {
  local pid="$1"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || return 0
  kill -TERM "${pid}" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

make_key() {  # DATA_DIR
  "${ZTGATE_BIN}" keys create --data-dir "$1" --name wrk-bench --principal 'Service::"wrk-bench"' |
    grep -m1 '^ztg_'
}

run_wrk() {  # NAME OUT wrk-args...
  local name="$1" out="$2"
  shift 2
  wrk --latency "$@" >"${out}/${name}.txt" 2>&1 || { cat "${out}/${name}.txt" >&2; return 1; }
}

# wrk prints latencies as 812.00us / 1.23ms / 1.01s; figures come out in ms.
wrk_field() {  # FILE FIELD
  local file="$1" field="$2"
  case "${field}" in
    rps) awk '/^Requests\/sec:/ {print $2}' "${file}" ;;
    p50|p99)
      awk -v want="${field#p}%" '$1 == want {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        f = (unit == "us") ? 0.001 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
        printf "%.3f\n", v * f }' "${file}" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ {print $NF; found=1} END {if (!found) print 0}' "${file}" ;;
    errors) awk '/Socket errors:/ {print; found=1} END {if (!found) print "none"}' "${file}" ;;
  esac
}

# cpu_ms PID...: the processes' utime + stime, in ms.
cpu_ms() {
  local total=0 pid t
  for pid in "$@"; do
    [[ -r "/proc/${pid}/stat" ]] || continue
    t="$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/${pid}/stat")"
    total=$((total + t))
  done
  echo $((total * 1000 / $(getconf CLK_TCK)))
}

# wrk_measured NAME PIDS-FUNC wrk-args...: one wrk run (run_wrk) with the
# CPU of the processes PIDS-FUNC prints measured around it. Sets
# MEASURED_FILE, MEASURED_RPS and MEASURED_CPU_US (their user+system CPU per
# request served, in µs); sets FAILED=1 on non-2xx answers or socket errors.
wrk_measured() {
  local name="$1" pids="$2"
  shift 2
  local before after non2xx errors
  # shellcheck disable=SC2046
  before="$(cpu_ms $(${pids}))"
  run_wrk "${name}" "${OUT}" "$@"
  # shellcheck disable=SC2046
  after="$(cpu_ms $(${pids}))"
  MEASURED_FILE="${OUT}/${name}.txt"
  MEASURED_RPS="$(wrk_field "${MEASURED_FILE}" rps)"
  non2xx="$(wrk_field "${MEASURED_FILE}" non2xx)"
  errors="$(wrk_field "${MEASURED_FILE}" errors)"
  if [[ "${non2xx}" != 0 || "${errors}" != none ]]; then
    echo "!! ${name}: non-2xx=${non2xx} ${errors}" >&2
    FAILED=1
  fi
  MEASURED_CPU_US="$(awk -v c="$((after - before))" -v r="${MEASURED_RPS}" -v s="${DURATION%s}" \
    'BEGIN {printf "%.1f", c * 1000 / (r * s)}')"
}
