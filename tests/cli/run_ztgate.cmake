# Shared by the tests/cli/*_test.cmake scripts (include()d, not a test itself).
# run(name expected_exit expected_text args...): runs ${ZTGATE} args..., fails
# the script unless it exits with expected_exit and its output (stdout and
# stderr) contains expected_text.
function(run name expected_exit expected_text)
  execute_process(COMMAND ${ZTGATE} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected_exit)
    message(FATAL_ERROR "${name}: exit ${code}, expected ${expected_exit}\n${out}${err}")
  endif()
  string(FIND "${out}${err}" "${expected_text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${name}: output lacks `${expected_text}`:\n${out}${err}")
  endif()
  message(STATUS "${name}: ok")
endfunction()
