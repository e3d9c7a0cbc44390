# `ztgate config check` on real files: the quickstart policies validate, and
# every kind of mistake is reported with its file and line.
#   cmake -DZTGATE=<binary> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P config_test.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(Q ${SOURCE_DIR}/examples/quickstart)

include(${CMAKE_CURRENT_LIST_DIR}/run_ztgate.cmake)
function(check name expected_exit expected_text)
  run(${name} ${expected_exit} "${expected_text}" config check --config ${WORK_DIR}/ztgate.yaml)
endfunction()

file(WRITE ${WORK_DIR}/ztgate.yaml "data_dir: data
policies:
  schema: ${Q}/schema.cedarschema
  files: [${Q}/policies.cedar]
  entities: [${Q}/entities.json]
identity:
  agents:
    - { id: build-bot, max_scopes: [tools:read] }
")
check(quickstart-ok 0 "ok — 0 issuer(s), 1 agent(s), 0 model(s), 6 policies, 21 entities")

# A policy that does not type-check against the schema: file, line, policy id.
file(WRITE ${WORK_DIR}/bad.cedar "permit (principal, action == Action::\"invoke_model\", resource)\nwhen { resource.provider > 3 };\n")
file(WRITE ${WORK_DIR}/ztgate.yaml "policies:
  schema: ${Q}/schema.cedarschema
  files: [${Q}/policies.cedar, bad.cedar]
")
check(type-error 1 "bad.cedar:2:")

# A syntax error names its file and line too.
file(WRITE ${WORK_DIR}/bad.cedar "permit (principal, action, resource) when { 1 + };\n")
check(parse-error 1 "bad.cedar:1:")

# A misspelt key gets a hint; a missing file is named.
file(WRITE ${WORK_DIR}/ztgate.yaml "policies:\n  file: [x.cedar]\n")
check(unknown-key 1 "did you mean `files`?")
file(WRITE ${WORK_DIR}/ztgate.yaml "policies:\n  files: [missing.cedar]\n")
check(missing-file 1 "cannot read ${WORK_DIR}/missing.cedar")

# An obligation the gateway does not know is refused at load time.
file(WRITE ${WORK_DIR}/bad.cedar "@on_deny(\"ask_nicely\")\nforbid (principal, action, resource);\n")
file(WRITE ${WORK_DIR}/ztgate.yaml "policies:\n  files: [bad.cedar]\n")
check(unknown-obligation 1 "unknown_obligation")
