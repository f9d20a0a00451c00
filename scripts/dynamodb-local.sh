#!/usr/bin/env bash
# Runs Amazon DynamoDB Local (installed by scripts/setup.sh) in memory on 127.0.0.1:PORT, in the
# foreground. Usage: scripts/dynamodb-local.sh PORT
set -euo pipefail
cd "$(dirname "$0")/.."
lib=.dynamodb-local/lib
if [ ! -f "${lib}/DynamoDBLocal-3.1.0.jar" ]; then
  echo "DynamoDB Local is not installed: run scripts/setup.sh (make setup)" >&2
  exit 1
fi
# The heap is bounded so that a large bench leaves room for everything else on the machine.
exec java -Xmx4g -Djava.library.path="${lib}" -cp "${lib}/*" \
  software.amazon.dynamodb.services.local.main.ServerRunner \
  -inMemory -disableTelemetry -port "$1"
