#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages igw needs, only those missing. Used by `make run|test|bench`.
# Usage: .ci/deps.sh [build|test|bench]
set -euo pipefail
kind=${1:-build}
pkgs=(build-essential cmake pkg-config libnng-dev liblmdb-dev libcjson-dev libxml2-dev
      libcurl4-openssl-dev libyaml-dev python3)
case "$kind" in
  test)  pkgs+=(clang libclang-rt-14-dev clang-format lmdb-utils curl) ;;
  bench) pkgs+=(wrk nginx-light nodejs npm lmdb-utils curl) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "igw: installing missing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
