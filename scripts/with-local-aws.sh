#!/usr/bin/env bash
# Runs a command with AWS on loopback, and stops it afterwards whatever happens:
# Amazon DynamoDB Local (in memory) for DynamoDB, and moto_server for the AWS APIs DynamoDB
# Local lacks (Secrets Manager, EventBridge, SQS, KMS: scripts/moto-server.py). Each listens on
# a free port; the command sees AWS_ENDPOINT_URL_DYNAMODB and
# AWS_ENDPOINT_URL_{SECRETS_MANAGER,EVENTBRIDGE,SQS,KMS}.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p target
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "${pid}" 2>/dev/null || true; done
}
trap cleanup EXIT

# start NAME LOG PORT COMMAND...: starts a server and waits until it accepts connections.
start() {
  local name=$1 log=$2 port=$3
  shift 3
  "$@" >"${log}" 2>&1 &
  local pid=$!
  pids+=("${pid}")
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${name} on http://127.0.0.1:${port}" >&2
      return 0
    fi
    if ! kill -0 "${pid}" 2>/dev/null; then
      echo "${name} exited at start; its log:" >&2
      cat "${log}" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "${name} did not listen on ${port} within 30 s; its log:" >&2
  cat "${log}" >&2
  exit 1
}

ddb_port=$(free_port)
start "DynamoDB Local" target/dynamodb-local.log "${ddb_port}" scripts/dynamodb-local.sh "${ddb_port}"
moto_port=$(free_port)
start "moto_server" target/moto.log "${moto_port}" .venv/bin/python scripts/moto-server.py -H 127.0.0.1 -p "${moto_port}"

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${ddb_port}"
export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:${moto_port}"
export AWS_ENDPOINT_URL_EVENTBRIDGE="http://127.0.0.1:${moto_port}"
export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:${moto_port}"
export AWS_ENDPOINT_URL_KMS="http://127.0.0.1:${moto_port}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
"$@"
