# Runs the real `ztgate keys` commands against a fresh data directory:
# create prints the key once, list never shows it, verify accepts it, revoke
# makes verify refuse it (exit 2).
#   cmake -DZTGATE=<binary> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P keys_test.cmake

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(DATA ${WORK_DIR}/data)

function(run_ztgate expected_exit)
  execute_process(COMMAND ${ZTGATE} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected_exit)
    message(FATAL_ERROR "ztgate ${ARGN}: exit ${code}, expected ${expected_exit}\n${out}${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
  set(ERR "${err}" PARENT_SCOPE)
endfunction()

function(expect_contains text needle what)
  string(FIND "${text}" "${needle}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${what}: output lacks `${needle}`:\n${text}")
  endif()
endfunction()

function(verify_key key_file expected_exit)
  execute_process(COMMAND ${ZTGATE} keys verify --data-dir ${DATA} INPUT_FILE ${key_file}
                  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expected_exit)
    message(FATAL_ERROR "keys verify: exit ${code}, expected ${expected_exit}\n${out}${err}")
  endif()
  set(OUT "${out}${err}" PARENT_SCOPE)
endfunction()

# create: the key on stdout, once, with the warning that it is shown only now.
run_ztgate(0 keys create --name billing-prod --principal "Service::\"billing\"" --scope invoices:read
           --scope invoices:write --ttl 30d --data-dir ${DATA})
string(STRIP "${OUT}" KEY)
if(NOT KEY MATCHES "^ztg_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]_[A-Za-z0-9_-]+$")
  message(FATAL_ERROR "keys create: stdout is not a key: ${OUT}")
endif()
expect_contains("${ERR}" "only time the key is shown" "keys create")
string(SUBSTRING "${KEY}" 4 16 KEY_ID)
string(SUBSTRING "${KEY}" 21 -1 SECRET)
message(STATUS "create: ok (${KEY_ID})")

# Bad input is an error (exit 1) with a stable code.
run_ztgate(1 keys create --name x --principal "User::\"alice\"" --data-dir ${DATA})
expect_contains("${ERR}" "api_key_spec_invalid" "keys create with a User principal")
run_ztgate(1 keys create --name x --principal "Service::\"x\"" --ttl 5y --data-dir ${DATA})
expect_contains("${ERR}" "ttl_invalid" "keys create --ttl 5y")

# list: state and principal, never the secret.
run_ztgate(0 keys list --data-dir ${DATA})
expect_contains("${OUT}" "${KEY_ID}" "keys list")
expect_contains("${OUT}" "active" "keys list")
expect_contains("${OUT}" "Service::\"billing\"" "keys list")
string(FIND "${OUT}${ERR}" "${SECRET}" pos)
if(NOT pos EQUAL -1)
  message(FATAL_ERROR "keys list printed the secret:\n${OUT}")
endif()
run_ztgate(0 keys list --json --data-dir ${DATA})
expect_contains("${OUT}" "\"state\":\"active\"" "keys list --json")
string(FIND "${OUT}" "${SECRET}" pos)
if(NOT pos EQUAL -1 OR "${OUT}" MATCHES "digest|salt")
  message(FATAL_ERROR "keys list --json printed the secret or its digest:\n${OUT}")
endif()
message(STATUS "list: ok")

# verify from stdin: valid, then a wrong secret is refused.
file(WRITE ${WORK_DIR}/key.txt "${KEY}\n")
verify_key(${WORK_DIR}/key.txt 0)
expect_contains("${OUT}" "valid" "keys verify")
string(SUBSTRING "${KEY}" 0 40 KEY_HEAD)
file(WRITE ${WORK_DIR}/wrong.txt "${KEY_HEAD}AAAAAAAAAAAAAAAAAAAAAAAA\n")
verify_key(${WORK_DIR}/wrong.txt 2)
expect_contains("${OUT}" "api_key_invalid" "keys verify with a wrong secret")
message(STATUS "verify: ok")

# The data directory and database are private.
file(READ ${DATA}/identity.db db_bytes HEX)
string(HEX "${SECRET}" secret_hex)
string(FIND "${db_bytes}" "${secret_hex}" pos)
if(NOT pos EQUAL -1)
  message(FATAL_ERROR "identity.db contains the secret")
endif()

# revoke, then verify is refused (exit 2); unknown ids are errors (exit 1).
run_ztgate(0 keys revoke ${KEY_ID} --data-dir ${DATA})
verify_key(${WORK_DIR}/key.txt 2)
expect_contains("${OUT}" "api_key_revoked" "keys verify after revoke")
run_ztgate(0 keys list --data-dir ${DATA})
expect_contains("${OUT}" "revoked" "keys list after revoke")
run_ztgate(1 keys revoke 0000000000000000 --data-dir ${DATA})
expect_contains("${ERR}" "api_key_unknown" "keys revoke of an unknown id")
message(STATUS "revoke: ok")
