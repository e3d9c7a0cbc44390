# The README's retrieval quickstart: scripts/quickstart-retrieval.sh --check
# ingests examples/retrieval/docs, starts the gateway and asserts that alice
# and bob get different documents for the same search, and neither the
# injected one.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env ZTGATE=${ZTGATE} ZTGATE_PORT=18490
          bash ${SOURCE_DIR}/scripts/quickstart-retrieval.sh --check
  WORKING_DIRECTORY ${SOURCE_DIR}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "quickstart-retrieval --check: exit ${code}\n${out}${err}")
endif()
foreach(expected "kb-incident-db-outage" "kb-expense-guide" "unlabeled-draft.txt: no metadata sidecar")
  string(FIND "${out}${err}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "quickstart-retrieval --check: output lacks `${expected}`:\n${out}${err}")
  endif()
endforeach()
message(STATUS "quickstart-retrieval: ok")
