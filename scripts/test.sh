#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, then checks formatting,
# lints with warnings as errors, runs every test against real loopback components, and proves
# that every function cross-compiles and links for Lambda. Prints each step's duration.
set -euo pipefail
cd "$(dirname "$0")/.."

started=${SECONDS}
timings=()
summary() {
  local rc=$?
  trap - EXIT
  # A step that failed leaves the background cross-build running: stop it and its compilers.
  if [ -n "${cross_build:-}" ]; then kill -TERM -- "-${cross_build}" 2>/dev/null || true; fi
  echo "== step times"
  for line in "${timings[@]}"; do echo "  ${line}"; done
  printf '  %-54s %5d s\n' "total" "$((SECONDS - started))"
  exit "${rc}"
}
trap summary EXIT

# step NAME COMMAND...: runs one step and records how long it took.
step() {
  local name=$1 t0=${SECONDS}
  shift
  echo "== ${name}"
  "$@"
  timings+=("$(printf '%-54s %5d s' "${name}" "$((SECONDS - t0))")")
}

step "setup (Rust components, venv, DynamoDB Local)" scripts/setup.sh

# The browser's packages come from apt and npm: fetched while the Rust steps keep the cores busy.
mkdir -p target
e2e_log=target/setup-e2e.log
scripts/setup-e2e.sh >"${e2e_log}" 2>&1 &
e2e_setup=$!

step "cargo fmt --check" cargo fmt --all -- --check

# Clippy's lints as errors, in the same compilation that builds the tests: clippy-driver is rustc
# with the lints added, so as the workspace's compiler it lints every target that
# `cargo clippy --workspace --all-targets -- -D warnings` lints while producing the test binaries,
# instead of type-checking the whole dependency tree a second time. Exported, so the builds below
# (cargo lambda watch's, make dev's, the cross-build) see the same compiler and reuse the output.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
step "cargo build --all-targets (clippy's lints as errors)" \
  cargo build --workspace --all-targets --locked
# The functions as `cargo lambda watch` builds them (`cargo run --bin <name>`: the functions' own
# features, not the tests'), once, before the tests that start it race for the build lock.
function_bins=()
for dir in functions/*/; do function_bins+=(--bin "$(basename "${dir}")"); done
step "function binaries as cargo lambda watch runs them" cargo build --locked "${function_bins[@]}"
# The cross-build for Lambda (aarch64) is `make test`'s longest compile, and the steps below mostly
# wait on servers and a browser: it runs meanwhile, niced so that the tests keep the cores they
# ask for, and the last step waits for it. It builds in its own target directory: a cross-build
# holds the lock on the host's artifacts (its build scripts and proc macros) for its whole run,
# and the tests, `make dev` and `cargo lambda watch` all run cargo meanwhile.
cross_log=target/cross-build.log
cross_started=${SECONDS}
rm -f target/cross-build.seconds
# Without clippy: the host build linted the same code.
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS CARGO_TARGET_DIR=target/cross \
  setsid nice -n 19 bash -c 'scripts/build-lambdas.sh --check; rc=$?; echo "${SECONDS}" >"$0"; exit "${rc}"' \
  target/cross-build.seconds >"${cross_log}" 2>&1 &
cross_build=$!

# The template as deployed with the platform's own domain too (its parameters' defaults set), in
# the global partition's region and the two China regions.
python3 - <<'PY'
import re
text = open("template.yaml", encoding="utf-8").read()
for name, value in [("DomainName", "wx.platform.example"),
                    ("CertificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"),
                    ("HostedZoneId", "Z0123456789ABCDEFGHIJ")]:
    text, n = re.subn(rf'(\n  {name}:\n    Type: String\n    Default: )""', rf'\g<1>"{value}"', text)
    assert n == 1, name
open("target/template-with-domain.yaml", "w", encoding="utf-8").write(text)
PY
step "cfn-lint (us-east-1, cn-north-1, cn-northwest-1; domain unset and set)" \
  .venv/bin/cfn-lint --regions us-east-1 cn-north-1 cn-northwest-1 -- template.yaml target/template-with-domain.yaml
step "sam validate --lint" env SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint \
  --template template.yaml --region us-east-1
step "sam validate --lint (with a domain)" env SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint \
  --template target/template-with-domain.yaml --region us-east-1
step "cargo test (DynamoDB Local, moto)" scripts/with-local-aws.sh cargo test --workspace --locked

wait_e2e_setup() {
  if ! wait "${e2e_setup}"; then
    echo "installing the browser test's packages failed; its log:" >&2
    cat "${e2e_log}" >&2
    return 1
  fi
  cat "${e2e_log}"
}
step "browser test packages (chromium, playwright-core)" wait_e2e_setup
step "browser test (make dev's stack, Debian's chromium)" \
  bash -c 'cd tests/e2e && node --test --test-concurrency=1'
wait_cross_build() {
  local rc=0
  wait "${cross_build}" || rc=$?
  cat "${cross_log}"
  cross_elapsed=$(cat target/cross-build.seconds 2>/dev/null || echo "$((SECONDS - cross_started))")
  return "${rc}"
}
step "every function cross-built and linked for Lambda" wait_cross_build
timings+=("$(printf '%-54s %5d s' "  (its own time, from the end of the build)" "${cross_elapsed}")")
