#!/usr/bin/env bash
# Builds what Lambda runs (provided.al2023, arm64): the bundle (bundle/), one executable holding
# every function, which `sam build` ships as each function's bootstrap (the template's Handler
# picks the function). One cargo invocation, one link: with fat LTO, linking is most of a release
# build, and eleven binaries each re-optimised the whole program. cargo-lambda cross-links with
# zig from PyPI against Lambda's glibc.
#
#   scripts/build-lambdas.sh            release profile into target/lambda/bundle/bootstrap
#                                       (what `sam build` ships and `make bench` measures)
#   scripts/build-lambdas.sh --check    dev profile into target/lambda-check/: `make test`'s proof
#                                       that every function compiles for aarch64 and links against
#                                       Lambda's libraries. Compiling and linking do not depend on
#                                       the optimisation level, so this proves what the release
#                                       build would, in a fraction of its time; the bootstrap is
#                                       also checked to be an aarch64 executable whose glibc
#                                       symbols all exist on provided.al2023 (glibc 2.34).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${PWD}/.venv/bin:${PATH}"

mode=release
if [ "${1:-}" = "--check" ]; then mode=check; fi

arch=--arm64
target=aarch64-unknown-linux-gnu
if ! rustup target list --installed | grep -qx "${target}"; then
  echo "[build] adding the ${target} target" >&2
  if ! rustup target add "${target}"; then
    echo "[build] could not add ${target} on this machine: building x86-64 binaries instead" >&2
    arch=--x86-64
  fi
fi

if [ "${mode}" = release ]; then
  lambda_dir=target/lambda
  cargo lambda build --release "${arch}" --locked --bin bundle
else
  lambda_dir=target/lambda-check
  cargo lambda build "${arch}" --locked --lambda-dir "${lambda_dir}" --bin bundle
fi

echo "[build] ${mode} bootstrap (${arch#--}), serving every function:"
file="${lambda_dir}/bundle/bootstrap"
if [ ! -f "${file}" ]; then
  echo "[build] ${file} is missing" >&2
  exit 1
fi
if [ "${arch}" = --arm64 ]; then
  if ! readelf -h "${file}" | grep -q 'Machine:.*AArch64'; then
    echo "[build] ${file} is not an aarch64 executable" >&2
    exit 1
  fi
  # The newest glibc symbol version the binary needs must be one AL2023's glibc 2.34 has.
  newest=$(readelf -V --wide "${file}" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  if [ -n "${newest}" ] && [ "$(printf '%s\n2.34\n' "${newest}" | sort -V | tail -1)" != 2.34 ]; then
    echo "[build] ${file} needs glibc ${newest}, newer than provided.al2023's 2.34" >&2
    exit 1
  fi
fi
printf '  %-18s %9d bytes  %s\n' bundle "$(stat -c %s "${file}")" "$(file -b "${file}" 2>/dev/null | cut -d, -f1-2 || true)"
