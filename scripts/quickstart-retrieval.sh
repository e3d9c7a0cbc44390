#!/usr/bin/env bash
# The retrieval quickstart: ztgate as a retrieval proxy over its embedded
# document index. It ingests examples/retrieval/docs (files with metadata
# sidecars), starts the gateway on examples/retrieval/ztgate.yaml, and runs
# the same search as two users who see different documents.
#
#   scripts/quickstart-retrieval.sh           ingest, start, search, keep serving
#   scripts/quickstart-retrieval.sh --check   ... search, then stop (exit 1 if an
#                                             answer is not the expected one)
#   env ZTGATE_PORT (8090), ZTGATE (the binary; build it first: scripts/build.sh)
#
# Users sign in with JWTs from a local demo IdP: an Ed25519 key made here
# with openssl, its public key the issuer's JWKS. Nothing leaves the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

check=false
for arg in "$@"; do
  case "${arg}" in
    --check) check=true ;;
    *) echo "usage: scripts/quickstart-retrieval.sh [--check]" >&2; exit 2 ;;
  esac
done

PORT="${ZTGATE_PORT:-8090}"
EXAMPLE="examples/retrieval"
DATA="${EXAMPLE}/.ztgate-data"
CONFIG="${EXAMPLE}/ztgate.local.yaml"
ZTGATE="${ZTGATE:-./build/src/cli/ztgate}"
for tool in curl openssl base64; do
  command -v "${tool}" >/dev/null || { echo "quickstart-retrieval: ${tool} is needed" >&2; exit 1; }
done

rm -rf "${DATA}"
mkdir -p "${DATA}"
chmod 700 "${DATA}"
sed -e "s/port: 8090/port: ${PORT}/" "${EXAMPLE}/ztgate.yaml" >"${CONFIG}"

# --- the demo IdP: one Ed25519 key, its JWKS, a token per user -------------
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
openssl genpkey -algorithm ed25519 -out "${DATA}/idp-key.pem" 2>/dev/null
x="$(openssl pkey -in "${DATA}/idp-key.pem" -pubout -outform DER | tail -c 32 | b64url)"
printf '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"demo","alg":"EdDSA","use":"sig","x":"%s"}]}\n' "${x}" \
  >"${DATA}/idp.jwks.json"
token_for() {  # user [groups JSON] -> a JWT for an hour
  local now header payload
  now="$(date +%s)"
  header="$(printf '{"alg":"EdDSA","kid":"demo","typ":"JWT"}' | b64url)"
  payload="$(printf '{"iss":"https://idp.quickstart.local","aud":"ztgate-api","sub":"%s","iat":%d,"exp":%d}' \
    "$1" "$((now - 5))" "$((now + 3600))" | b64url)"
  printf '%s.%s' "${header}" "${payload}" >"${DATA}/signing-input"
  printf '%s.%s.%s' "${header}" "${payload}" \
    "$(openssl pkeyutl -sign -inkey "${DATA}/idp-key.pem" -rawin -in "${DATA}/signing-input" | b64url)"
}
ALICE="$(token_for alice)"  # platform engineer, cleared confidential (examples/retrieval/documents.jsonl)
BOB="$(token_for bob)"      # finance, cleared internal

echo "== ingesting ${EXAMPLE}/docs (each file has a <file>.meta.json sidecar: owner, readers, classification)"
set +e
"${ZTGATE}" docs ingest --config "${CONFIG}" --from "${EXAMPLE}/docs"
ingest_code=$?
set -e
# Exit 2: some files were refused (the example has one without a sidecar on purpose).
[[ ${ingest_code} -eq 0 || ${ingest_code} -eq 2 ]] || exit 1
"${ZTGATE}" config check --config "${CONFIG}"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "${p}" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"${ZTGATE}" serve --config "${CONFIG}" >"${DATA}/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:${PORT}/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:${PORT}/readyz" >/dev/null || {
  echo "quickstart-retrieval: the gateway did not start:" >&2; cat "${DATA}/gateway.log" >&2; exit 1; }

search() {  # token query [purpose] -> the answer
  curl -s "http://127.0.0.1:${PORT}/v1/retrieval/search" -H "Authorization: Bearer $1" \
    -d "{\"query\":\"$2\",\"purpose\":\"${3:-default}\"}"
}
show() {  # answer -> one line per result
  grep -o '"id":"[^"]*","title":"[^"]*"' <<<"$1" | sed -e 's/"id":"\([^"]*\)","title":"\([^"]*\)"/   \1  (\2)/' || echo "   (nothing)"
}

echo
echo "== the same search, \"database\", as two users"
alice="$(search "${ALICE}" database)"
echo "-- alice (group platform, cleared confidential):"
show "${alice}"
bob="$(search "${BOB}" database)"
echo "-- bob (group finance, cleared internal):"
show "${bob}"
echo "   (the vendor notes match too, but hide an instruction for the model: dropped by"
echo "    flagged-documents-never-reach-a-model; the finance forecast is confidential: not for bob)"
triage="$(search "${ALICE}" database triage)"
echo "-- alice with purpose triage: at most 3 documents, 600 characters, confidential ones as summaries"
show "${triage}"

failures=0
grep -q '"kb-incident-db-outage"' <<<"${alice}" && ! grep -q '"kb-expense-guide"' <<<"${alice}" ||
  { echo "quickstart-retrieval: expected alice to get the incident report and not the expense guide" >&2; failures=1; }
grep -q '"kb-expense-guide"' <<<"${bob}" && ! grep -q '"kb-incident-db-outage"\|"kb-budget-forecast"' <<<"${bob}" ||
  { echo "quickstart-retrieval: expected bob to get the expense guide, not the incident or the forecast" >&2; failures=1; }
! grep -q '"kb-vendor-notes"' <<<"${alice}${bob}" ||
  { echo "quickstart-retrieval: the injected vendor notes were handed out" >&2; failures=1; }
if ${check}; then
  exit "${failures}"
fi

cat <<MSG

== try it yourself (tokens for an hour)
  export ALICE=${ALICE}
  export BOB=${BOB}
  curl -s localhost:${PORT}/v1/retrieval/search -H "Authorization: Bearer \$ALICE" -d '{"query":"database","k":3}'
  curl -s localhost:${PORT}/v1/retrieval/search -H "Authorization: Bearer \$BOB" -d '{"query":"budget forecast"}'
  ${ZTGATE} audit query --config ${CONFIG} --limit 3
Add a file and its .meta.json under ${EXAMPLE}/docs, run
  ${ZTGATE} docs ingest --config ${CONFIG} --from ${EXAMPLE}/docs
and search again (the gateway reloads the catalog within reload.interval).
Ctrl-C stops the gateway.
MSG
wait
