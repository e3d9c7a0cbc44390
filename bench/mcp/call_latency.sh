#!/usr/bin/env bash
# call_latency.sh -- issue 6's MCP benchmark: tools/call latency through
# ztgate against the same SDK client calling the same server directly, in
# the same run (tests/integration/node/mcp_call_latency.mjs interleaves the two).
#
#   bench/mcp/call_latency.sh [OUT_DIR]     (default /tmp/ztgate-mcp-bench; ~1 minute)
#   env: ZTGATE=path/to/ztgate (default build-release/src/cli/ztgate; builds nothing)
#        CALLS=4000 ROUNDS=4
# What runs on 127.0.0.1: the docs test server (tests/integration/node/
# mcp_server.mjs, official SDK, Streamable HTTP, bearer token required;
# --json: one JSON answer per request, as ztgate gives, so the client does
# the same work on both paths);
# ztgate with examples/mcp/policies.cedar (less the rate limit) and the schema, the MCP endpoint in
# front of that server, every stage on (authenticate a JWT from the test AS
# (ES256, aud-bound), session facts, Cedar over call_tool with context.tool
# and context.session, audit record into the SQLite trail, async); the
# client: the SDK's Client over Streamable HTTP, one call at a time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_DIR="${ROOT}/tests/integration/node"
OUT="${1:-/tmp/ztgate-mcp-bench}"
ZTGATE="${ZTGATE:-${ROOT}/build-release/src/cli/ztgate}"
CALLS="${CALLS:-4000}"
ROUNDS="${ROUNDS:-4}"
[[ -x "${ZTGATE}" ]] || { echo "no ztgate binary at ${ZTGATE} (cmake --build build-release --target ztgate)"; exit 1; }
rm -rf "${OUT}" && mkdir -p "${OUT}"
cd "${OUT}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timeout waiting for $1"; cat "$1"; exit 1; }

AS_PORT=$(free_port); GW_PORT=$(free_port)
node "${NODE_DIR}/oauth_as.mjs" --port "${AS_PORT}" --jwks "${OUT}/as-jwks.json" \
  --clients '{"alice":{"secret":"s","groups":["finance"]}}' > as.log 2>&1 & pids+=($!)
node "${NODE_DIR}/mcp_server.mjs" --persona docs --http --json --token docs-secret > docs.log 2>&1 & pids+=($!)
wait_line as.log listening; wait_line docs.log listening
DOCS_PORT=$(awk '/listening/{print $2}' docs.log)
# The example policies less the rate limit (the benchmark makes thousands of
# calls a minute in one session); the session-aware forbid stays, so every
# decision reads context.session.
grep -v '^//' "${ROOT}/examples/mcp/policies.cedar" | awk 'BEGIN{RS="";ORS="\n\n"} !/tool-call-rate-limit/' > policies.cedar
cat > ztgate.yaml <<YAML
data_dir: ./data
gateway: {issuer: urn:ztgate:bench, audience: ztgate, public_url: "https://127.0.0.1:${GW_PORT}"}
identity:
  issuers:
    - {id: corp, issuer: "http://127.0.0.1:${AS_PORT}", audience: "http://127.0.0.1:${GW_PORT}/mcp", jwks_file: as-jwks.json}
listeners: [{address: 127.0.0.1, port: ${GW_PORT}}]
limits: {threads: 2}
policies:
  schema: ${ROOT}/policies/ztgate.cedarschema
  files: [policies.cedar]
  entities: [${ROOT}/examples/mcp/entities.json]
egress:   # the gateway's own connection to the server is an egress decision (once per pooled connection)
  zones: [{name: mcp-servers, hosts: ["127.0.0.1"]}]
  allow_addresses: ["127.0.0.1/32"]
mcp:
  resource: "http://127.0.0.1:${GW_PORT}/mcp"
  servers:
    - {id: docs, url: "http://127.0.0.1:${DOCS_PORT}/mcp", token_env: DOCS_TOKEN}
YAML
DOCS_TOKEN=docs-secret "${ZTGATE}" serve --config ztgate.yaml > ztgate.log 2>&1 & pids+=($!)
wait_line ztgate.log listening
TOKEN=$(curl -s "http://127.0.0.1:${AS_PORT}/mint?sub=alice&aud=http://127.0.0.1:${GW_PORT}/mcp" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
cd "${NODE_DIR}"
node "${NODE_DIR}/mcp_call_latency.mjs" "http://127.0.0.1:${DOCS_PORT}/mcp" docs-secret \
  "http://127.0.0.1:${GW_PORT}/mcp" "${TOKEN}" "${CALLS}" "${ROUNDS}" | tee "${OUT}/result.txt"
curl -s "http://127.0.0.1:${GW_PORT}/metrics" > "${OUT}/metrics.txt"
grep -E '^ztgate_stage_duration_seconds_(sum|count)' "${OUT}/metrics.txt" | sed 's/^/  /' || true
