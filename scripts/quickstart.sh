#!/usr/bin/env bash
# Quickstart: install what ztgate needs, build it, and start the gateway on
# examples/quickstart/ with a local demo model behind it. Then it shows one
# request allowed and one denied, prints what to try, and keeps running
# until Ctrl-C.
#
#   scripts/quickstart.sh            install, build, start, demo, keep serving
#   scripts/quickstart.sh --check    ... demo, then stop (exit 1 if a demo
#                                    answer is not the expected one)
#   --no-install                     skip the dependency and build steps
#   env ZTGATE_PORT (8080), ZTGATE_DEMO_PORT (8081), ZTGATE (the binary)
#
# Everything is local: `ztgate demo-upstream` is a stand-in OpenAI-compatible
# server (it echoes, it is not a model). Edit examples/quickstart/policies.cedar
# while the gateway runs: it reloads on save.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

check=false install=true
for arg in "$@"; do
  case "${arg}" in
    --check) check=true ;;
    --no-install) install=false ;;
    *) echo "usage: scripts/quickstart.sh [--check] [--no-install]" >&2; exit 2 ;;
  esac
done

PORT="${ZTGATE_PORT:-8080}"
DEMO_PORT="${ZTGATE_DEMO_PORT:-8081}"
EXAMPLE="examples/quickstart"
DATA="${EXAMPLE}/.ztgate-data"
CONFIG="${EXAMPLE}/ztgate.local.yaml"
ZTGATE="${ZTGATE:-./build/src/cli/ztgate}"

if ${install}; then
  echo "== installing dependencies"
  bash scripts/install-deps.sh
  echo "== building"
  bash scripts/build.sh
fi
command -v curl >/dev/null || { echo "quickstart: curl is needed (apt-get install curl)" >&2; exit 1; }

# A fresh data directory each time: new API keys, an empty audit log.
rm -rf "${DATA}"
sed -e "s/port: 8080/port: ${PORT}/" -e "s#127.0.0.1:8081#127.0.0.1:${DEMO_PORT}#" \
  "${EXAMPLE}/ztgate.yaml" >"${CONFIG}"
"${ZTGATE}" config check --config "${CONFIG}"

key_for() {  # principal -> a new API key (the only time it is shown)
  "${ZTGATE}" keys create --data-dir "${DATA}" --name quickstart --principal "$1" 2>/dev/null |
    grep -o 'ztg_[A-Za-z0-9_-]*' | head -n1
}
APP_KEY="$(key_for 'Service::"chat-app"')"
MKT_KEY="$(key_for 'Service::"marketing-site"')"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "${p}" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"${ZTGATE}" demo-upstream --port "${DEMO_PORT}" >"${DATA}/demo-upstream.log" 2>&1 &
pids+=($!)
"${ZTGATE}" serve --config "${CONFIG}" >"${DATA}/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:${PORT}/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:${PORT}/readyz" >/dev/null || {
  echo "quickstart: the gateway did not start:" >&2; cat "${DATA}/gateway.log" >&2; exit 1; }

BODY='{"model":"demo-small","messages":[{"role":"user","content":"Hello, ztgate!"}]}'
# A made-up key of the OpenAI shape: the demo model echoes it back.
LEAKY='{"model":"demo-small","messages":[{"role":"user","content":"my key is sk-proj-PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA-2O76UMFx"}]}'
ask() {  # key [body] -> prints the HTTP status line and the body
  curl -s -w '\nHTTP %{http_code}\n' "http://127.0.0.1:${PORT}/v1/chat/completions" \
    -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "${2:-${BODY}}"
}

echo
echo "== ztgate is running on http://127.0.0.1:${PORT} (demo model on :${DEMO_PORT})"
echo
echo "-- chat-app (Service in Group::\"engineering\") asks the demo model:"
allowed="$(ask "${APP_KEY}")"
echo "${allowed}"
echo
echo "-- marketing-site (Service in Group::\"sales\") asks the same:"
denied="$(ask "${MKT_KEY}")"
echo "${denied}"
echo
echo "-- chat-app's answer would carry an API key: masked on the way out (@redact(\"secrets\")):"
redacted="$(ask "${APP_KEY}" "${LEAKY}")"
echo "${redacted}"
echo
echo "-- the audit trail (${DATA}/audit.db: hash-chained OCSF records, signed checkpoints):"
sleep 0.2
"${ZTGATE}" audit query --config "${CONFIG}" --limit 2
"${ZTGATE}" audit verify --config "${CONFIG}" || failures_audit=1
echo "   (one record as OCSF JSON: ${ZTGATE} audit query --config ${CONFIG} --limit 1 --json)"

failures=${failures_audit:-0}
grep -q 'HTTP 200' <<<"${allowed}" || { echo "quickstart: expected chat-app to be allowed" >&2; failures=1; }
grep -q 'REDACTED:openai_api_key' <<<"${redacted}" && ! grep -q 'PtYgjmUhBel31iEl' <<<"${redacted}" ||
  { echo "quickstart: expected the key in the answer to be masked" >&2; failures=1; }
grep -q 'HTTP 403' <<<"${denied}" && grep -q 'models-are-for-engineering' <<<"${denied}" ||
  { echo "quickstart: expected marketing-site to be denied by models-are-for-engineering" >&2; failures=1; }
if ${check}; then
  exit "${failures}"
fi

cat <<EOF

== try it yourself (keys for this run only)
  export APP_KEY=${APP_KEY}
  export MKT_KEY=${MKT_KEY}
  curl -s localhost:${PORT}/v1/chat/completions -H "Authorization: Bearer \$APP_KEY" \\
       -H 'Content-Type: application/json' -d '${BODY}'
  curl -sN localhost:${PORT}/v1/chat/completions -H "Authorization: Bearer \$APP_KEY" \\
       -H 'Content-Type: application/json' \\
       -d '{"model":"demo-small","stream":true,"messages":[{"role":"user","content":"stream please"}]}'
  curl -s localhost:${PORT}/v1/models -H "Authorization: Bearer \$MKT_KEY"   # models it may use: none
  curl -s localhost:${PORT}/metrics | grep ztgate_decisions_total
Edit ${EXAMPLE}/policies.cedar (e.g. let Group::"sales" in): ztgate reloads it on save.
Ctrl-C stops the gateway and the demo model.
EOF
wait
