#!/usr/bin/env bash
# Installs everything ztgate needs to build and test on Debian 12 (bookworm).
#
# Idempotent and fast on rerun: when every package is already installed it
# touches neither the network nor the apt lists. Runs as root, or through sudo.
# The list and the reason for each package live in docs/DEPENDENCIES.md; keep
# the two in step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

# Required: the build fails without them.
REQUIRED=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  # Boost 1.81, not Debian's default 1.74: 1.74's Asio coroutines break under
  # g++ 12 (C++20). The 1.81 packages install beside 1.74 and CMake pins 1.81.
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsimdjson-dev libyaml-cpp-dev libre2-dev libutf8proc-dev
  # The injection rule layer (src/inspect) compiles its rule pack with
  # Hyperscan: x86-64 only (Debian builds it for amd64).
  libhyperscan-dev
  libsqlite3-dev libpq-dev libhiredis-dev
  libspdlog-dev libfmt-dev libcli11-dev
  # The ztgate binary's allocator (tcmalloc_minimal; docs/DEPENDENCIES.md).
  libgoogle-perftools-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # libFuzzer and the sanitizer runtimes ship with clang's runtime package.
  clang-14 libclang-rt-14-dev
  # The quickstart's requests, and the HTTP benchmarks (bench/wrk) with nginx
  # as their baseline.
  curl wrk nginx-light
  # The audit syslog sink's integration test runs a real rsyslogd (imtcp, and
  # TLS with the OpenSSL netstream driver: the same TLS library as ztgate).
  rsyslog rsyslog-openssl
  # The retrieval pre-filter's rendered WHERE clause runs on a real PostgreSQL
  # (tests/integration/retrieval_http_itest.cpp: initdb in the test's directory).
  postgresql
)
# Optional: installed when the architecture has them.
OPTIONAL=(
)

log() { printf '[install-deps] %s\n' "$*"; }
die() { printf '[install-deps] error: %s\n' "$*" >&2; exit 1; }

if [[ "$(id -u)" -eq 0 ]]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
  AS_ROOT=(sudo --preserve-env=DEBIAN_FRONTEND)
else
  AS_ROOT=()
fi
as_root() {
  if [[ "$(id -u)" -ne 0 && ${#AS_ROOT[@]} -eq 0 ]]; then
    die "need root or sudo to run: $*"
  fi
  "${AS_ROOT[@]}" "$@"
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

# True when apt knows an installable version of the package.
has_candidate() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  [[ -n "${candidate}" && "${candidate}" != "(none)" ]]
}

missing_required=()
for pkg in "${REQUIRED[@]}"; do
  is_installed "${pkg}" || missing_required+=("${pkg}")
done
missing_optional=()
for pkg in "${OPTIONAL[@]}"; do
  is_installed "${pkg}" || missing_optional+=("${pkg}")
done
# Node.js may come from elsewhere than Debian (then Debian's nodejs/npm would
# conflict with it): only install Debian's when there is no node at all.
need_node=0
command -v node >/dev/null 2>&1 || need_node=1

if (( ${#missing_required[@]} + ${#missing_optional[@]} + need_node > 0 )); then
  wanted=("${missing_required[@]}" "${missing_optional[@]}")
  ((need_node)) && wanted+=(nodejs)
  log "not installed yet: ${wanted[*]}"
  as_root apt-get update -qq

  to_install=()
  for pkg in "${missing_required[@]}"; do
    has_candidate "${pkg}" || die "package ${pkg} is not available from apt"
    to_install+=("${pkg}")
  done
  for pkg in "${missing_optional[@]}"; do
    if has_candidate "${pkg}"; then
      to_install+=("${pkg}")
    else
      log "optional package ${pkg} is not available on $(dpkg --print-architecture); skipped"
    fi
  done
  if ((need_node)); then
    has_candidate nodejs || die "package nodejs is not available from apt"
    to_install+=(nodejs)
  fi

  if (( ${#to_install[@]} > 0 )); then
    log "installing: ${to_install[*]}"
    as_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${to_install[@]}"
  fi
  # Debian's nodejs ships npm separately; other builds of nodejs bundle it.
  if ((need_node)) && ! command -v npm >/dev/null 2>&1; then
    has_candidate npm || die "package npm is not available from apt"
    as_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends npm
  fi
else
  log "all system packages already installed"
fi

# Node packages the tests use as independent implementations: the official
# Cedar (npm @cedar-policy/cedar-wasm, tests/differential) and npm jose
# (tests/integration/node). Reinstall only when package.json or the lockfile changed.
manifest_hash() {
  local file
  for file in "$1/package.json" "$1/package-lock.json"; do
    if [[ -f "${file}" ]]; then cat "${file}"; fi
  done | sha256sum
}
npm_install_dir() {
  local dir="$1"
  [[ -f "${dir}/package.json" ]] || return 0
  local stamp="${dir}/node_modules/.ztgate-install-stamp"
  local hash
  hash="$(manifest_hash "${dir}")"
  if [[ -f "${stamp}" && "$(cat "${stamp}")" == "${hash}" ]]; then
    log "${dir#"${ROOT}/"}/node_modules is up to date"
    return 0
  fi
  local npm_flags=(--no-audit --no-fund --loglevel=error)
  if [[ -f "${dir}/package-lock.json" ]]; then
    log "npm ci in ${dir#"${ROOT}/"}"
    (cd "${dir}" && npm ci "${npm_flags[@]}")
  else
    log "npm install in ${dir#"${ROOT}/"} (no package-lock.json yet)"
    (cd "${dir}" && npm install "${npm_flags[@]}")
  fi
  # Hash after installing: npm install may have just written the lockfile.
  manifest_hash "${dir}" >"${stamp}"
}
npm_install_dir "${ROOT}/tests/differential"
npm_install_dir "${ROOT}/tests/integration/node"

log "done"
