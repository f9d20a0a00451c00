#!/usr/bin/env bash
# Installs what the tests and the local stack need, into the project where possible:
# Rust components, a venv at .venv with moto[server] (Secrets Manager, EventBridge, SQS on
# loopback) and the test tools, and Amazon DynamoDB Local in .dynamodb-local.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    log "adding rust component ${component}"
    rustup component add "${component}"
  fi
done

venv=.venv
if [ ! -x "${venv}/bin/python" ]; then
  log "creating ${venv}"
  if ! python3 -m venv "${venv}" 2>/dev/null; then
    # Debian splits venv support into its own package.
    log "python3 -m venv failed; installing python3-venv with apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "${venv}"
    python3 -m venv "${venv}"
  fi
fi

# Pinned so that every machine tests against the same server. wechatpy is an independent
# implementation of the push encryption, used by the events tests to seal pushes; cargo-lambda
# runs the functions under the Lambda runtime emulator and builds them for arm64; cfn-lint
# checks template.yaml; SAM CLI validates it (`sam validate --lint`) and builds the functions as
# a user's `sam build` does (`make deploy-check`).
requirements="moto[server]==5.2.5 wechatpy==1.8.18 cryptography cargo-lambda==1.9.2 cfn-lint==1.58.0 aws-sam-cli==1.170.0"
stamp="${venv}/.installed"
if [ ! -f "${stamp}" ] || [ "$(cat "${stamp}")" != "${requirements}" ]; then
  log "installing ${requirements} into ${venv}"
  # uv resolves and installs the same pinned packages in a fraction of pip's time (SAM CLI alone
  # has over a hundred dependencies); pip only installs uv itself.
  if [ ! -x "${venv}/bin/uv" ]; then
    "${venv}/bin/pip" install --quiet --disable-pip-version-check uv==0.13.8
  fi
  "${venv}/bin/uv" pip install --quiet --python "${venv}/bin/python" ${requirements}
  echo "${requirements}" > "${stamp}"
fi

# Amazon DynamoDB Local (AWS's own emulator) from Maven Central, with its dependencies and the
# sqlite4java native libraries, into .dynamodb-local/lib. Java and Maven come from Debian when
# the machine lacks them.
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  log "installing Java and Maven with apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless maven >/dev/null
fi
ddb_pom=scripts/dynamodb-local/pom.xml
ddb_stamp=.dynamodb-local/.installed-pom
if [ ! -f "${ddb_stamp}" ] || ! cmp -s "${ddb_pom}" "${ddb_stamp}"; then
  log "installing DynamoDB Local into .dynamodb-local"
  rm -rf .dynamodb-local/lib
  mkdir -p .dynamodb-local
  if ! mvn -B -f "${ddb_pom}" dependency:copy-dependencies \
      -DoutputDirectory="$(pwd)/.dynamodb-local/lib" >.dynamodb-local/mvn.log 2>&1; then
    log "Maven could not resolve DynamoDB Local; its log:"
    cat .dynamodb-local/mvn.log >&2
    exit 1
  fi
  cp "${ddb_pom}" "${ddb_stamp}"
fi
