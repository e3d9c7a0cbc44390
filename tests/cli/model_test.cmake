# Runs the real `ztgate model` commands end to end: keygen, manifest, sign,
# verify (ok, tampered weight, extra file, wrong publisher key, symlink).
#   cmake -DZTGATE=path/to/ztgate -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P model_test.cmake

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/model/weights)
set(M ${WORK_DIR}/model)
file(WRITE ${M}/config.json "{\"hidden_size\":64}\n")
file(WRITE ${M}/tokenizer.json "{\"vocab\":{\"a\":1,\"b\":2}}\n")
string(REPEAT "0123456789abcdef" 4096 shard)
file(WRITE ${M}/weights/model-00001.safetensors "${shard}")
file(WRITE ${M}/weights/model-00002.safetensors "${shard}${shard}")

include(${CMAKE_CURRENT_LIST_DIR}/run_ztgate.cmake)

run(keygen 0 "publisher.pub.jwk" model keygen --out ${WORK_DIR}/publisher)
run(keygen-other 0 "kid" model keygen --out ${WORK_DIR}/other)
run(keygen-never-overwrites 1 "signing_key_error" model keygen --out ${WORK_DIR}/publisher)
file(READ ${WORK_DIR}/publisher.pub.jwk jwk)
if(NOT jwk MATCHES "\"crv\":\"Ed25519\"")
  message(FATAL_ERROR "publisher.pub.jwk is not an Ed25519 JWK: ${jwk}")
endif()
execute_process(COMMAND stat -c %a ${WORK_DIR}/publisher.key.pem OUTPUT_VARIABLE mode OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT mode STREQUAL "600")
  message(FATAL_ERROR "publisher.key.pem has mode ${mode}, expected 600")
endif()

run(manifest 0 "4 files" model manifest ${M} --model acme/llm-8b --version 3 -o ${WORK_DIR}/manifest.json)
file(READ ${WORK_DIR}/manifest.json manifest)
if(NOT manifest MATCHES "^\\{\"format\":\"ztgate-model-manifest/1\",\"model\":\"acme/llm-8b\",\"version\":\"3\"")
  message(FATAL_ERROR "manifest is not canonical: ${manifest}")
endif()
string(FIND "${manifest}" "\"path\":\"weights/model-00002.safetensors\",\"size\":131072" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "manifest lacks the second shard with its size: ${manifest}")
endif()

# The signed manifest may live inside the model directory: verify skips it.
run(sign 0 "signed acme/llm-8b" model sign ${WORK_DIR}/manifest.json --key ${WORK_DIR}/publisher.key.pem
    -o ${M}/manifest.jws)
set(VERIFY model verify ${M} --manifest ${M}/manifest.jws)
run(verify-ok 0 "verified: acme/llm-8b version 3, 4 files" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk)
run(verify-json 0 "\"verified\":true" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk --json)
run(verify-wrong-key 2 "manifest_signature" ${VERIFY} --publisher-key ${WORK_DIR}/other.pub.jwk)
run(verify-missing-key 1 "cannot read" ${VERIFY} --publisher-key ${WORK_DIR}/absent.jwk)

# A private key readable by others is refused for signing.
file(COPY_FILE ${WORK_DIR}/publisher.key.pem ${WORK_DIR}/loose.key.pem)
file(CHMOD ${WORK_DIR}/loose.key.pem PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
run(sign-loose-key 1 "chmod 600" model sign ${WORK_DIR}/manifest.json --key ${WORK_DIR}/loose.key.pem)

# Tamper one byte of a shard (same size): exit 2 naming the file.
string(SUBSTRING "${shard}" 1 65535 rest)
file(WRITE ${M}/weights/model-00001.safetensors "X${rest}")
run(verify-tampered 2 "manifest_file_changed: weights/model-00001.safetensors: SHA-256" ${VERIFY}
    --publisher-key ${WORK_DIR}/publisher.pub.jwk)
file(WRITE ${M}/weights/model-00001.safetensors "${shard}")

# An unlisted file fails unless --allow-extra.
file(WRITE ${M}/tokenizer.json.bak "{}")
run(verify-extra 2 "manifest_file_extra: tokenizer.json.bak" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk)
run(verify-allow-extra 0 "verified" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk --allow-extra)
file(REMOVE ${M}/tokenizer.json.bak)

# A listed file swapped for a symlink is refused, not followed.
file(RENAME ${M}/tokenizer.json ${WORK_DIR}/tokenizer.json)
file(CREATE_LINK ${WORK_DIR}/tokenizer.json ${M}/tokenizer.json SYMBOLIC)
run(verify-symlink 2 "manifest_symlink: tokenizer.json" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk)
file(REMOVE ${M}/tokenizer.json)
file(RENAME ${WORK_DIR}/tokenizer.json ${M}/tokenizer.json)
run(verify-restored 0 "verified" ${VERIFY} --publisher-key ${WORK_DIR}/publisher.pub.jwk)

# The registry from ztgate.yaml: every model verified, and a tampered one
# reported untrusted with integrity_verified false for policy.
file(WRITE ${WORK_DIR}/ztgate.yaml "data_dir: data
models:
  - id: acme-llm
    weights_dir: model
    manifest: model/manifest.jws
    publisher_key: publisher.pub.jwk
    reverify_interval: 1h
")
run(check-ok 0 "VERIFIED  acme-llm" model check --config ${WORK_DIR}/ztgate.yaml)
run(check-json 0 "\"integrity_verified\":true" model check --config ${WORK_DIR}/ztgate.yaml --json)
file(WRITE ${M}/weights/model-00001.safetensors "X${rest}")
run(check-tampered 2 "\"integrity_verified\":false" model check --config ${WORK_DIR}/ztgate.yaml --json)
file(WRITE ${M}/weights/model-00001.safetensors "${shard}")
