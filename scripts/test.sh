#!/usr/bin/env bash
# The whole ztgate test suite, as CI runs it:
#
#   1. install dependencies            scripts/install-deps.sh
#   2. build (RelWithDebInfo)          build/
#   3. every test                      ctest in build/
#   4. unit, conformance, integration and CLI tests under ASan + UBSan (build-asan/)
#   5. a short run of each fuzzer      build-fuzz/fuzz/fuzz_*, if fuzz/ exists
#
# Environment:
#   FUZZ_SECONDS     seconds per fuzz target (default 30; 0 skips fuzzing)
#   ZTGATE_JOBS      parallel build/test jobs (default 2)
#   CI=true          warnings are errors (see scripts/build.sh)
#
# Exits non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
JOBS="${ZTGATE_JOBS:-2}"

# --- sections and timings ---------------------------------------------------

suite_start=${SECONDS}
section_names=()
section_times=()
current_section=""
current_start=0
passed=0
failed=0

end_section() {
  if [[ -n "${current_section}" ]]; then
    section_names+=("${current_section}")
    section_times+=($((SECONDS - current_start)))
    echo "-- ${current_section}: $((SECONDS - current_start))s"
    current_section=""
  fi
}

section() {
  end_section
  current_section="$1"
  current_start=${SECONDS}
  echo
  echo "=============================================================================="
  echo "== $1"
  echo "=============================================================================="
}

summary() {
  local status=$?
  local failed_section="${current_section}"
  end_section
  echo
  echo "=============================================================================="
  echo "== summary"
  local i
  for i in "${!section_names[@]}"; do
    printf '   %-50s %5ss\n' "${section_names[$i]}" "${section_times[$i]}"
  done
  printf '   %-50s %5ss\n' "total" "$((SECONDS - suite_start))"
  if ((status != 0)); then
    echo "FAILED in: ${failed_section:-setup} (exit status ${status})"
  else
    # The closing line: test executions (ctest tests and fuzz targets).
    echo "test.sh: ${passed} passed, ${failed} failed"
  fi
}
trap summary EXIT

# Counts the tests of a ctest run from its closing line
# ("100% tests passed, 0 tests failed out of 42").
count_ctest() {
  local log="$1" line total fails
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "${log}" | tail -n1)"
  [[ -n "${line}" ]] || return 0
  total="$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"${line}")"
  fails="$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"${line}")"
  passed=$((passed + total - fails))
  failed=$((failed + fails))
}

run_ctest() {
  local dir="$1"
  shift
  local log="${dir}/ctest-output.log"
  local status=0
  # --no-tests=error: a run that finds no test is a broken build, not a pass.
  ctest --test-dir "${dir}" --output-on-failure --no-tests=error -j"${JOBS}" "$@" \
    2>&1 | tee "${log}" || status=$?
  count_ctest "${log}"
  # A skipped test checked nothing (GoogleTest skips a suite whose
  # SetUpTestSuite failed): count it as a failure, never as a pass.
  local skipped
  skipped="$(grep -cE '\*\*\*Skipped|Not Run' "${log}" || true)"
  if ((skipped > 0)); then
    echo "error: ${skipped} test(s) did not run (skipped); see ${log}" >&2
    passed=$((passed - skipped))
    failed=$((failed + skipped))
    status=1
  fi
  return "${status}"
}

# --- 1. dependencies --------------------------------------------------------

section "1/5 install dependencies"
bash scripts/install-deps.sh

# --- 2. build ---------------------------------------------------------------

section "2/5 build (build/, RelWithDebInfo)"
bash scripts/build.sh

# --- 3. all tests -----------------------------------------------------------

section "3/5 tests (ctest, build/)"
run_ctest build

# --- 4. sanitizers ----------------------------------------------------------

section "4/5 unit, conformance, integration and CLI tests under ASan + UBSan (build-asan/)"
ZTGATE_SANITIZE=1 bash scripts/build.sh
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=${PWD}/tests/sanitizers/lsan.supp}"
run_ctest build-asan -L "unit|conformance|integration|cli"

# --- 5. fuzzing -------------------------------------------------------------

if [[ ! -f fuzz/CMakeLists.txt ]]; then
  echo
  echo "(no fuzz/CMakeLists.txt: fuzzing skipped)"
elif [[ "${FUZZ_SECONDS}" == "0" ]]; then
  echo
  echo "(FUZZ_SECONDS=0: fuzzing skipped)"
else
  section "5/5 fuzzing (build-fuzz/, ${FUZZ_SECONDS}s per target)"
  CC=clang-14 CXX=clang++-14 ZTGATE_FUZZ=1 bash scripts/build.sh

  mapfile -t targets < <(find build-fuzz/fuzz -type f -name 'fuzz_*' -perm -u+x | sort)
  if (( ${#targets[@]} == 0 )); then
    echo "no fuzz_* executables under build-fuzz/fuzz/" >&2
    exit 1
  fi

  # One fuzzer per core: each is single-threaded. A target's result is its
  # exit status, kept in its work directory and read when all are done.
  fuzz_one() {
    local bin="$1" name work log
    name="$(basename "${bin}")"
    work="build-fuzz/run/${name}"
    log="${work}/fuzz.log"
    # New inputs go to the scratch corpus (first directory); the checked-in
    # seeds are read only.
    local corpora=("${work}/corpus")
    [[ -d "fuzz/corpus/${name}" ]] && corpora+=("fuzz/corpus/${name}")
    local flags=(
      -max_total_time="${FUZZ_SECONDS}"
      -timeout=10
      -rss_limit_mb=4096
      -print_final_stats=1
      -artifact_prefix="${work}/artifacts/"
    )
    [[ -f "fuzz/${name}.dict" ]] && flags+=(-dict="fuzz/${name}.dict")
    local status=0
    "${bin}" "${flags[@]}" "${corpora[@]}" >"${log}" 2>&1 || status=$?
    echo "${status}" >"${work}/status"
  }

  for bin in "${targets[@]}"; do
    name="$(basename "${bin}")"
    rm -rf "build-fuzz/run/${name}"
    mkdir -p "build-fuzz/run/${name}/corpus" "build-fuzz/run/${name}/artifacts"
    while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || true; done
    fuzz_one "${bin}" &
  done
  wait

  fuzz_failed=0
  for bin in "${targets[@]}"; do
    name="$(basename "${bin}")"
    work="build-fuzz/run/${name}"
    seeds=""
    [[ -d "fuzz/corpus/${name}" ]] && seeds="fuzz/corpus/${name}"
    echo "-- ${name} (seeds: ${seeds:-none})"
    if [[ "$(cat "${work}/status" 2>/dev/null)" == "0" ]]; then
      grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "${work}/fuzz.log" \
        || tail -n 3 "${work}/fuzz.log"
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      fuzz_failed=1
      tail -n 80 "${work}/fuzz.log"
      echo "fuzz target ${name} failed; the input that failed is in ${work}/artifacts/" >&2
    fi
  done
  ((fuzz_failed == 0)) || exit 1
fi

end_section
echo
echo "all stages passed"
