#!/usr/bin/env bash
# Configures and builds ztgate with CMake + Ninja.
#
#   scripts/build.sh [extra cmake -D options...]
#
# Which tree is built follows the environment:
#   (default)          build/        RelWithDebInfo
#   ZTGATE_SANITIZE=1  build-asan/   + AddressSanitizer and UBSan
#   ZTGATE_FUZZ=1      build-fuzz/   libFuzzer targets; needs clang, e.g.
#                                    CC=clang-14 CXX=clang++-14
#   CI=true            any tree      + warnings are errors
#   ZTGATE_BUILD_DIR   overrides the directory
#   ZTGATE_JOBS        parallel jobs (default 2: the machines have 2 cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

build_dir="build"
cmake_args=(
  -G Ninja
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
)

if [[ "${ZTGATE_SANITIZE:-0}" == "1" ]]; then
  build_dir="build-asan"
  cmake_args+=(-DZTGATE_SANITIZE=ON)
fi
if [[ "${ZTGATE_FUZZ:-0}" == "1" ]]; then
  build_dir="build-fuzz"
  cmake_args+=(-DZTGATE_FUZZ=ON)
fi
if [[ "${CI:-}" == "true" ]]; then
  cmake_args+=(-DZTGATE_WERROR=ON)
fi
build_dir="${ZTGATE_BUILD_DIR:-${build_dir}}"
jobs="${ZTGATE_JOBS:-2}"

if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Share cache hits between clones at different paths (CI builds a fresh
  # clone): hash paths relative to the repository, not the working directory.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-${ROOT}}"
  export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
fi

# A tree configured earlier with another generator cannot be reconfigured
# with Ninja; drop its cache (only the cache, not the objects).
cache="${build_dir}/CMakeCache.txt"
if [[ -f "${cache}" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "${cache}"; then
  echo "[build] ${build_dir} was configured with another generator; reconfiguring"
  rm -rf "${cache}" "${build_dir}/CMakeFiles"
fi

echo "[build] configuring ${build_dir} (${cmake_args[*]} $*)"
cmake -S . -B "${build_dir}" "${cmake_args[@]}" "$@"
echo "[build] building ${build_dir} with -j${jobs}"
cmake --build "${build_dir}" -j"${jobs}"
