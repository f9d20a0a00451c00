#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, then checks formatting,
# lints with warnings as errors, and runs every test against real loopback components.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "== sam validate --lint"
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region us-east-1
echo "== cargo test"
scripts/with-local-aws.sh cargo test --workspace --locked
echo "== browser test (make dev's stack, Debian's chromium)"
scripts/setup-e2e.sh
(cd tests/e2e && node --test --test-concurrency=1)
echo "== release build of every function for Lambda (arm64)"
scripts/build-lambdas.sh
