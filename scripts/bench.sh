#!/usr/bin/env bash
# make bench: builds release binaries (x86-64 to run here, arm64 for the sizes Lambda ships),
# then measures with DynamoDB Local on loopback and prints the report, also written to
# docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-lambdas.sh
bins=()
for dir in functions/*/; do bins+=(--bin "$(basename "${dir}")"); done
cargo build --release "${bins[@]}" --bin wxopen-bench
scripts/with-local-aws.sh target/release/wxopen-bench
