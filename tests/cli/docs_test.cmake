# Runs the real `ztgate docs ingest`: a folder with two labelled files and
# one without a sidecar is ingested (exit 2, the unlabelled one refused and
# named), a second run changes nothing, an edited file is updated and a
# deleted one removed from index and catalog; a configuration without
# retrieval.search.index and a missing folder are errors (exit 1).
#   cmake -DZTGATE=<binary> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P docs_test.cmake
include(${CMAKE_CURRENT_LIST_DIR}/run_ztgate.cmake)

file(REMOVE_RECURSE ${WORK_DIR})
set(DOCS ${WORK_DIR}/docs)
file(MAKE_DIRECTORY ${DOCS}/sub)
file(WRITE ${WORK_DIR}/ztgate.yaml "data_dir: data
retrieval:
  search: { index: data/docs }
")
file(WRITE ${WORK_DIR}/no-index.yaml "data_dir: data\n")
set(META "{\"readers\":[\"group:staff\"],\"classification\":\"internal\",\"tenant\":\"acme\"}")
file(WRITE ${DOCS}/guide.md "# Guide\n\nexpenses are filed monthly\n")
file(WRITE ${DOCS}/guide.md.meta.json "${META}")
file(WRITE ${DOCS}/sub/page.html "<title>Page</title><p>expenses page</p>")
file(WRITE ${DOCS}/sub/page.html.meta.json "{\"id\":\"page\",\"owner\":\"alice\",\"classification\":\"public\"}")
file(WRITE ${DOCS}/draft.txt "no sidecar")

run(docs_ingest_first 2 "\"added\":2" docs ingest --config ${WORK_DIR}/ztgate.yaml --from ${DOCS} --json)
run(docs_ingest_names_the_refused 2 "draft.txt: no metadata sidecar" docs ingest --config ${WORK_DIR}/ztgate.yaml --from ${DOCS})
file(READ ${WORK_DIR}/data/docs/catalog.jsonl catalog)
foreach(line "{\"kind\":\"document\",\"id\":\"guide.md\",\"readers\":[\"group:staff\"],\"classification\":\"internal\",\"tenant\":\"acme\"}"
             "{\"kind\":\"document\",\"id\":\"page\",\"owner\":\"alice\",\"classification\":\"public\"}")
  string(FIND "${catalog}" "${line}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "catalog.jsonl lacks ${line}:\n${catalog}")
  endif()
endforeach()
string(FIND "${catalog}" "draft" pos)
if(NOT pos EQUAL -1)
  message(FATAL_ERROR "the refused file is in the catalog:\n${catalog}")
endif()

file(REMOVE ${DOCS}/draft.txt)
run(docs_reingest_unchanged 0 "\"unchanged\":2" docs ingest --config ${WORK_DIR}/ztgate.yaml --from ${DOCS} --json)
file(WRITE ${DOCS}/guide.md "# Guide\n\nexpenses are filed weekly now\n")
file(REMOVE ${DOCS}/sub/page.html)
run(docs_reingest_changes 0 "\"documents\":1,\"added\":0,\"updated\":1,\"unchanged\":0,\"removed\":1"
    docs ingest --config ${WORK_DIR}/ztgate.yaml --from ${DOCS} --json)
file(READ ${WORK_DIR}/data/docs/catalog.jsonl catalog)
string(FIND "${catalog}" "page" pos)
if(NOT pos EQUAL -1)
  message(FATAL_ERROR "the deleted file is still in the catalog:\n${catalog}")
endif()

run(docs_ingest_needs_an_index 1 "retrieval.search.index" docs ingest --config ${WORK_DIR}/no-index.yaml --from ${DOCS})
run(docs_ingest_needs_a_folder 1 "is not a folder" docs ingest --config ${WORK_DIR}/ztgate.yaml --from ${WORK_DIR}/nope)
