#!/usr/bin/env bash
# Release build of every function as Lambda runs it (provided.al2023, arm64), with
# cargo-lambda (zig from PyPI cross-links). Lists each bootstrap with its size.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${PWD}/.venv/bin:${PATH}"

arch=--arm64
target=aarch64-unknown-linux-gnu
if ! rustup target list --installed | grep -qx "${target}"; then
  echo "[build] adding the ${target} target" >&2
  if ! rustup target add "${target}"; then
    echo "[build] could not add ${target} on this machine: building x86-64 binaries instead" >&2
    arch=--x86-64
  fi
fi

bins=()
for dir in functions/*/; do bins+=(--bin "$(basename "${dir}")"); done
cargo lambda build --release "${arch}" "${bins[@]}"

echo "[build] release bootstraps (${arch#--}):"
for dir in functions/*/; do
  name=$(basename "${dir}")
  file="target/lambda/${name}/bootstrap"
  if [ ! -f "${file}" ]; then
    echo "[build] ${file} is missing" >&2
    exit 1
  fi
  printf '  %-18s %9d bytes  %s\n' "${name}" "$(stat -c %s "${file}")" "$(file -b "${file}" 2>/dev/null | cut -d, -f1-2 || true)"
done
