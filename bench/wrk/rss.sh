#!/usr/bin/env bash
# rss.sh -- memory of `ztgate serve` with 0, 10,000 and 100,000 Cedar entities.
#
#   bench/wrk/rss.sh [OUT_DIR]       (default /tmp/ztgate-rss; ~30 s)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        RSS_POLICIES=100
# Needs: node, curl.
#
# Entities come from bench/inputs/generate.mjs (deterministic): users in teams
# in departments in divisions in orgs, documents in four levels of folders
# (owner, sensitivity, classification, tags), agents acting for users, tools
# in servers; users carry email, clearance, active, department, roles. The
# same RSS_POLICIES policies every time, no schema. For each store the script
# starts `ztgate serve` (127.0.0.1, any port, limits.threads 2), waits for
# /readyz, waits 1 s more, reads VmRSS (resident now) and VmHWM (peak
# resident, which includes parsing the entity JSON) from /proc/PID/status,
# and stops it. Prints MiB, and the growth over the 0-entity server. With gdb
# installed (and ptrace allowed) it also calls malloc_trim(0) in the server
# and reads VmRSS again: what is left is the heap really in use, the rest is
# freed memory (mostly the parsed entity JSON) that glibc kept.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/bench/wrk"
OUT="${1:-/tmp/ztgate-rss}"
POLICIES="${RSS_POLICIES:-100}"
# shellcheck source=common.sh
source "${HERE}/common.sh"
ZTGATE_BIN="$(ztgate_binary)"

mkdir -p "${OUT}/work"
ZT_PID=""
trap 'stop_pid "${ZT_PID}"' EXIT
[[ -f "${OUT}/inputs/entities_100k.json" ]] || node "${ROOT}/bench/inputs/generate.mjs" --out "${OUT}/inputs" >/dev/null
sed 's/context\.source_ip\.isInRange(/ip(context.source_ip).isInRange(/g' \
  "${OUT}/inputs/policies_${POLICIES}.cedar" >"${OUT}/work/policies.cedar"
echo '[]' >"${OUT}/inputs/entities_0.json"

kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

trimmed_kib() {  # PID: VmRSS after malloc_trim(0), or "" without gdb
  command -v gdb >/dev/null || return 0
  gdb -batch -p "$1" -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1 || return 0
  kib "$1" VmRSS
}

printf '| %-9s | %8s | %9s | %9s | %10s | %12s | %17s | %s |\n' entities 'JSON MiB' 'VmRSS MiB' 'VmHWM MiB' 'RSS - base' 'bytes/entity' 'RSS trimmed MiB' 'trimmed bytes/entity'
base="" tbase=""
for n in 0 10k 100k; do
  entities="${OUT}/inputs/entities_${n}.json"
  count="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).length)' "${entities}")"
  cat >"${OUT}/work/ztgate-${n}.yaml" <<YAML
data_dir: data
listeners: [ { address: 127.0.0.1, port: 0 } ]
limits: { threads: 2 }
policies:
  files: [policies.cedar]
  entities: [${entities}]
YAML
  start_ztgate "${OUT}/work/ztgate-${n}.yaml" "${OUT}/ztgate-${n}.log"
  sleep 1
  rss="$(kib "${ZT_PID}" VmRSS)" hwm="$(kib "${ZT_PID}" VmHWM)"
  trimmed="$(trimmed_kib "${ZT_PID}")"
  stop_pid "${ZT_PID}"
  ZT_PID=""
  [[ -n "${base}" ]] || base="${rss}"
  [[ -n "${tbase}" ]] || tbase="${trimmed}"
  per="-" tper="-" tmib="n/a"
  ((count > 0)) && per="$(( (rss - base) * 1024 / count ))"
  if [[ -n "${trimmed}" ]]; then
    tmib="$(mib "${trimmed}")"
    ((count > 0)) && tper="$(( (trimmed - tbase) * 1024 / count ))"
  fi
  printf '| %9s | %8s | %9s | %9s | %10s | %12s | %17s | %s |\n' "${count}" \
    "$(mib $(( $(stat -c %s "${entities}") / 1024 )))" "$(mib "${rss}")" "$(mib "${hwm}")" "$(mib $((rss - base)))" \
    "${per}" "${tmib}" "${tper}"
done
