#!/usr/bin/env bash
# make bench: builds the release bundle (x86-64 to run here, arm64 for the size Lambda ships),
# then measures with DynamoDB Local on loopback and prints the report, also written to
# docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-lambdas.sh
# The bundle serves every function, as on Lambda (x86-64 here, to run it).
cargo build --release --locked --bin bundle --bin wxopen-bench
scripts/with-local-aws.sh target/release/wxopen-bench
