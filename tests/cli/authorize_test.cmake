# Runs the real `ztgate authorize` on the quickstart example and checks the
# decision, the determining policy (with its annotations) and the exit code.
#   cmake -DZTGATE=path/to/ztgate -DEXAMPLE=examples/quickstart -P authorize_test.cmake

include(${CMAKE_CURRENT_LIST_DIR}/run_ztgate.cmake)
function(expect_authorize name expected_exit expected_text)
  run(${name} ${expected_exit} "${expected_text}" authorize --policies ${EXAMPLE}/policies.cedar
      --entities ${EXAMPLE}/entities.json --schema ${EXAMPLE}/schema.cedarschema ${ARGN})
endfunction()

expect_authorize(engineer-uses-model 0 "ALLOW"
  --principal "User::\"alice\"" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\"")
expect_authorize(sales-denied 2 "DENY"
  --principal "User::\"bob\"" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\"")
expect_authorize(agent-in-scope 0 "determined by policy1 @id(\"agents-call-docs-tools-within-scope\")"
  --context ${EXAMPLE}/context-delegated.json
  --principal "Agent::\"build-bot\"" --action "Action::\"call_tool\"" --resource "Tool::\"docs.search\"")
expect_authorize(agent-without-delegation 2 "DENY"
  --principal "Agent::\"build-bot\"" --action "Action::\"call_tool\"" --resource "Tool::\"docs.search\"")
expect_authorize(destructive-needs-approval 2 "@on_deny(\"require_approval\")"
  --context ${EXAMPLE}/context-delegated.json
  --principal "Agent::\"build-bot\"" --action "Action::\"call_tool\"" --resource "Tool::\"shell.exec\"")
expect_authorize(json-output 0 "\"decision\":\"allow\""
  --json --principal "User::\"alice\"" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\"")
# A request that does not fit the schema is an error, not a deny.
expect_authorize(request-violates-schema 1 "does not match the schema"
  --principal "Model::\"gpt-4o-mini\"" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\"")
expect_authorize(bad-uid 1 "--principal"
  --principal "alice" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\"")

# Templates: a linked template grants exactly what its slots name.
set(tmpl ${CMAKE_CURRENT_BINARY_DIR}/cli_template.cedar)
file(WRITE ${tmpl} "@id(\"share-model\")\npermit (principal == ?principal, action == Action::\"invoke_model\", resource == ?resource);\n")
foreach(who_code IN ITEMS "bob;0;ALLOW" "alice;2;DENY")
  list(GET who_code 0 who)
  list(GET who_code 1 want_code)
  list(GET who_code 2 want_text)
  execute_process(
    COMMAND ${ZTGATE} authorize --policies ${tmpl} --entities ${EXAMPLE}/entities.json
            --link "policy0:bob-model:principal=User::\"bob\",resource=Model::\"gpt-4o-mini\""
            --principal "User::\"${who}\"" --action "Action::\"invoke_model\"" --resource "Model::\"gpt-4o-mini\""
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL want_code OR NOT "${out}" MATCHES "${want_text}")
    message(FATAL_ERROR "template link for ${who}: exit ${code}, expected ${want_code} ${want_text}\n${out}${err}")
  endif()
endforeach()
message(STATUS "template link: ok")
