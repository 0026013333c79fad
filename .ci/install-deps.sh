#!/usr/bin/env bash
# Installs bsonpipe's build and test dependencies from Debian's packages when any is missing.
# Idempotent and quiet when everything is present; both README commands and .ci/run call it.
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config git libcurl4-openssl-dev libexpat1-dev awscli
      libzstd-dev zstd zlib1g-dev gzip libboost1.81-dev libssl-dev openssl
      libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libyaml-cpp-dev libxxhash-dev xxhash libdeflate-dev libisal-dev libtbb-dev
      python3 python3-pymongo python3-bson clang libclang-rt-14-dev restic)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (driver interop tests only): the machine image may ship its own outside dpkg,
# and Debian's npm conflicts with it; take Debian's only when there is none.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
