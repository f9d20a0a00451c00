#!/usr/bin/env bash
# One function's `sam build` step: scripts/sam-build.sh <LogicalId without "Function"> ARTIFACTS_DIR
# (from the Makefile's build-%Function rule). Builds the bundle, every function in one executable,
# in release for arm64 (a no-op when it is up to date), then copies it as this function's
# bootstrap; the template's Handler tells the bundle which function it is.
set -euo pipefail
cd "$(dirname "$0")/.."
# AuthorizerInfo -> authorizer-info: the binary is the logical id in kebab case.
binary=$(printf '%s' "$1" | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]')
artifacts=$2
if [ ! -d "functions/${binary}" ]; then
  echo "[sam-build] no function crate functions/${binary} for the resource $1Function" >&2
  exit 1
fi
scripts/build-lambdas.sh >&2
mkdir -p "${artifacts}"
cp target/lambda/bundle/bootstrap "${artifacts}/bootstrap"
