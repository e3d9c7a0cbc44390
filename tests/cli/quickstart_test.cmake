# The README's quickstart, minus install and build: scripts/quickstart.sh
# --check starts the demo model and the gateway on examples/quickstart and
# asserts one request allowed and one denied with its reason.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env ZTGATE=${ZTGATE} ZTGATE_PORT=18480 ZTGATE_DEMO_PORT=18481
          bash ${SOURCE_DIR}/scripts/quickstart.sh --check --no-install
  WORKING_DIRECTORY ${SOURCE_DIR}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "quickstart --check: exit ${code}\n${out}${err}")
endif()
foreach(expected "HTTP 200" "HTTP 403" "models-are-for-engineering" "Hello from the ztgate demo model")
  string(FIND "${out}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "quickstart --check: output lacks `${expected}`:\n${out}${err}")
  endif()
endforeach()
message(STATUS "quickstart: ok")
