#!/usr/bin/env bash
# Runs a command with a DynamoDB-compatible server (moto) on a free loopback port, and stops
# the server afterwards whatever happens. The command sees AWS_ENDPOINT_URL_DYNAMODB.
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log_file=target/moto.log
mkdir -p target
.venv/bin/python scripts/dynamodb_server.py 127.0.0.1 "${port}" >"${log_file}" 2>&1 &
moto_pid=$!
trap 'kill "${moto_pid}" 2>/dev/null || true; wait "${moto_pid}" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    break
  fi
  if ! kill -0 "${moto_pid}" 2>/dev/null; then
    echo "moto_server exited at start; its log:" >&2
    cat "${log_file}" >&2
    exit 1
  fi
  sleep 0.1
done

export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${port}"
export AWS_ENDPOINT_URL_SECRETS_MANAGER="http://127.0.0.1:${port}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
echo "moto_server on ${AWS_ENDPOINT_URL_DYNAMODB}" >&2
"$@"
