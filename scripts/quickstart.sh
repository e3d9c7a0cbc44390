#!/usr/bin/env bash
# Quickstart: install what ztgate needs, build it, and ask it for a few
# authorization decisions on the example in examples/quickstart/.
#
#   scripts/quickstart.sh
#
# The policies (policies.cedar) and entities (entities.json) there are plain
# files: edit them and rerun to see the decisions change.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

ZTGATE="./build/src/cli/ztgate"
EXAMPLE="examples/quickstart"

# Each request: principal | action | resource | the decision the example's
# policies should give | optional context file.
REQUESTS=(
  'User::"alice"|Action::"invoke_model"|Model::"gpt-4o-mini"|ALLOW|'
  'User::"bob"|Action::"invoke_model"|Model::"gpt-4o-mini"|DENY|'
  'Agent::"build-bot"|Action::"call_tool"|Tool::"docs.search"|ALLOW|context-delegated.json'
  'Agent::"build-bot"|Action::"call_tool"|Tool::"shell.exec"|DENY|context-delegated.json'
)

echo "== installing dependencies"
bash scripts/install-deps.sh
echo "== building"
bash scripts/build.sh

for f in "${EXAMPLE}/policies.cedar" "${EXAMPLE}/entities.json"; do
  [[ -f "${f}" ]] || { echo "quickstart: missing ${f}" >&2; exit 1; }
done

echo "== asking ztgate for decisions (${EXAMPLE})"
failures=0
for request in "${REQUESTS[@]}"; do
  IFS='|' read -r principal action resource expected context <<<"${request}"
  context_args=()
  [[ -n "${context}" ]] && context_args=(--context "${EXAMPLE}/${context}")
  echo
  echo "\$ ztgate authorize --principal '${principal}' --action '${action}' --resource '${resource}' ${context_args[*]}"
  # Like the Cedar CLI, `ztgate authorize` exits 0 on ALLOW and 2 on DENY.
  status=0
  output="$("${ZTGATE}" authorize \
    --policies "${EXAMPLE}/policies.cedar" \
    --entities "${EXAMPLE}/entities.json" \
    --principal "${principal}" \
    --action "${action}" \
    --resource "${resource}" --schema "${EXAMPLE}/schema.cedarschema" \
    "${context_args[@]}" 2>&1)" || status=$?
  echo "${output}"
  if [[ ${status} -ne 0 && ${status} -ne 2 ]]; then
    echo "quickstart: ztgate authorize failed with exit status ${status}" >&2
    failures=$((failures + 1))
  elif ! grep -qiw "${expected}" <<<"${output}"; then
    echo "quickstart: expected ${expected}" >&2
    failures=$((failures + 1))
  fi
done

echo
if ((failures > 0)); then
  echo "quickstart: ${failures} request(s) did not give the expected decision" >&2
  exit 1
fi
echo "quickstart: all ${#REQUESTS[@]} decisions as expected"
