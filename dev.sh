#!/usr/bin/env bash
# mriotrace developer entry point: installs what it needs, then builds and runs.
#
#   ./dev.sh demo    build, then run the demo on the embedded default system
#   ./dev.sh test    build, then run the C++ (ctest) and Python (pytest) tests
#   ./dev.sh bench   build, then run the benchmark suite (bench/run.py; options pass through)
#   ./dev.sh fuzz [--minutes N]   build the libFuzzer targets (clang, build/fuzz) and fuzz
#                    every target for N minutes in all (default 40); report in build/fuzz/long/report.json
#   ./dev.sh setup   only install the system and Python dependencies
#
# System packages come from Debian (apt-get), Python packages from PyPI into
# ./.venv. Nothing else is downloaded; nothing is vendored.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv

APT_PACKAGES=(
  build-essential pkg-config
  libeigen3-dev libopenblas-dev libsuitesparse-dev libtbb-dev libhdf5-dev
  libopenmpi-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libtomlplusplus-dev openmpi-bin libzip-dev libexpat1-dev libcsv-dev
  clang libclang-rt-14-dev libomp-14-dev
)
PIP_PACKAGES=(
  "cmake>=3.25" ninja "nanobind>=2" "scikit-build-core>=0.10"
  numpy scipy pandas h5py pytest pymrio matplotlib tqdm pint python-calamine xlsxwriter requests platformdirs
  pyarrow xarray  # tidy exports of results (to_parquet, to_xarray); optional at run time
)

log() { printf '\033[1m[dev.sh]\033[0m %s\n' "$*" >&2; }

install_system() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the Python environment $VENV"
    python3 -m venv "$VENV"
  fi
  log "installing Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  export PATH="$VENV/bin:$PATH"
}

setup() {
  install_system
  install_python
}

build_python_package() {
  # scikit-build-core builds the extension and the CLI into build/py (kept
  # between runs, so rebuilds are incremental) and installs both into .venv.
  log "building and installing the mriotrace Python package and CLI"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps "$ROOT"
}

run_tests() {
  local status=0
  # One build serves both runners: the package's CMake build (scikit-build-core,
  # build/test) also builds the GoogleTest binary, so CI compiles everything once.
  log "building the C++ engine, its tests, the CLI and the Python package (build/test)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --config-settings=build-dir=build/test \
    --config-settings=cmake.define.MRIOTRACE_BUILD_TESTS=ON "$ROOT"
  log "running the C++ tests"
  ctest --test-dir "$ROOT/build/test" -j "$(nproc)" --output-on-failure || status=1
  log "running the Python tests"
  (cd "$ROOT" && "$VENV/bin/python" -m pytest tests/python -q -p no:cacheprovider) || status=1
  # A short bounded fuzz run of every reader (docs/reliability.md, "Fuzzing"):
  # MRIOTRACE_FUZZ_SECONDS of fuzzing in total (default 140, CI's budget),
  # split evenly over the targets; 0 switches it off.
  local seconds=${MRIOTRACE_FUZZ_SECONDS:-140}
  if [ "$seconds" != 0 ]; then
    build_fuzz || status=1
    log "fuzzing every reader for ${seconds} s in all (tests/fuzz/run.py)"
    "$VENV/bin/python" "$ROOT/tests/fuzz/run.py" --total-seconds "$seconds" || status=1
  fi
  return $status
}

build_fuzz() {
  # Its own clang build with libFuzzer and sanitizers, beside the gcc package build.
  log "building the fuzz targets with clang (build/fuzz)"
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$ROOT" -B "$ROOT/build/fuzz" -G Ninja -Wno-dev \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ=-O1 -DCMAKE_C_FLAGS_FUZZ=-O1 \
    -DMRIOTRACE_BUILD_FUZZ=ON -DMRIOTRACE_BUILD_TESTS=OFF -DMRIOTRACE_BUILD_CLI=OFF \
    -DCMAKE_PREFIX_PATH="$VENV" >/dev/null
  cmake --build "$ROOT/build/fuzz" --parallel "$(nproc)"
}

run_fuzz() {
  local minutes=40
  while (($#)); do
    case "$1" in
      --minutes) minutes=$2; shift 2 ;;
      *) echo "usage: ./dev.sh fuzz [--minutes N]" >&2; return 2 ;;
    esac
  done
  build_fuzz
  # The target list is run.py's (the one that CMake and harness.cpp mirror).
  local count
  count=$("$VENV/bin/python" "$ROOT/tests/fuzz/run.py" --list | wc -l)
  local seconds=$((minutes * 60 / count))
  log "fuzzing ${count} targets for ${seconds} s each, continuing from build/fuzz/long/corpus"
  "$VENV/bin/python" "$ROOT/tests/fuzz/run.py" --seconds "$seconds" --keep-corpus \
    --work "$ROOT/build/fuzz/long" --report "$ROOT/build/fuzz/long/report.json"
}

run_demo() {
  build_python_package
  log "running: mriotrace demo"
  "$VENV/bin/mriotrace" demo "$@"
}

run_bench() {
  build_python_package
  log "running: python bench/run.py $*"
  "$VENV/bin/python" "$ROOT/bench/run.py" "$@"
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  test) setup; run_tests ;;
  demo) setup; run_demo "$@" ;;
  bench) setup; run_bench "$@" ;;
  fuzz) setup; run_fuzz "$@" ;;
  *) echo "usage: ./dev.sh {demo|test|bench|fuzz|setup}" >&2; exit 2 ;;
esac
