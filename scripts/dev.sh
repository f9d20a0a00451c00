#!/usr/bin/env bash
# The whole stack on this machine with one command: Amazon DynamoDB Local with the table from
# template.yaml, the WeChat simulator, every function under `cargo lambda watch`, and moto for
# EventBridge and SQS with the table's stream fed to the notifier; the events a rule on the bus
# delivers are printed as they arrive. Prints the URL to open; Ctrl-C stops everything it started.
#
# Ports: DEV_PORT (functions, default 9000), SIM_PORT (simulator, default 9100),
# DYNAMODB_PORT (default 9200), MOTO_PORT (EventBridge and SQS, default 9300). To use real WeChat instead of the simulator, set
# WECHAT_API_BASE (and the platform's real variables); see the README.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV_PORT="${DEV_PORT:-9000}"
SIM_PORT="${SIM_PORT:-9100}"
DYNAMODB_PORT="${DYNAMODB_PORT:-9200}"
MOTO_PORT="${MOTO_PORT:-9300}"
# One folder per stack, so that two stacks on other ports keep their logs apart.
state_dir=".dev/${DEV_PORT}"
mkdir -p "${state_dir}"

log() { printf '[dev] %s\n' "$*" >&2; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local port=$1 name=$2 deadline=$((SECONDS + ${3:-120}))
  until ! port_free "${port}"; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      log "${name} did not start on port ${port}; its log is in ${state_dir}/"
      exit 1
    fi
    sleep 0.2
  done
}

busy=()
for pair in "DEV_PORT=${DEV_PORT}" "SIM_PORT=${SIM_PORT}" "DYNAMODB_PORT=${DYNAMODB_PORT}" "MOTO_PORT=${MOTO_PORT}"; do
  port=${pair#*=}
  if ! [[ "${port}" =~ ^[0-9]+$ ]] || [ "${port}" -lt 1 ] || [ "${port}" -gt 65535 ]; then
    log "${pair%%=*} must be a port number (1-65535), not '${port}'"
    exit 1
  fi
  if ! port_free "${port}"; then busy+=("${pair}"); fi
done
if [ "${#busy[@]}" -gt 0 ]; then
  log "in use: ${busy[*]}: stop what uses them (an earlier make dev?) or set other ports for them"
  exit 1
fi

scripts/setup.sh

# Every process is started in its own process group, so one kill stops it and its children.
groups=()
cleanup() {
  # Stop first, talk after: when Ctrl-C also killed a pipe reader (`make dev | tee`), any
  # write would raise SIGPIPE and end this script before it stopped anything.
  local rc=$?
  trap '' PIPE
  trap - EXIT INT TERM HUP
  if [ "${#groups[@]}" -gt 0 ]; then
    log "stopping everything make dev started" || true
    for pgid in "${groups[@]}"; do kill -TERM -- "-${pgid}" 2>/dev/null || true; done
    sleep 1
    for pgid in "${groups[@]}"; do kill -KILL -- "-${pgid}" 2>/dev/null || true; done
    log "stopped" || true
  fi
  exit "${rc}"
}
trap cleanup EXIT INT TERM HUP
start() {
  local name=$1; shift
  setsid "$@" >"${state_dir}/${name}.log" 2>&1 &
  groups+=("$!")
}
# As start, but its output also goes to this terminal.
start_shown() {
  local name=$1; shift
  setsid bash -c '"$@" 2>&1 | tee "$0"' "${state_dir}/${name}.log" "$@" &
  groups+=("$!")
}

use_simulator=1
if [ -n "${WECHAT_API_BASE:-}" ]; then
  use_simulator=0
  log "WECHAT_API_BASE is set: using ${WECHAT_API_BASE} instead of the simulator"
fi

# Local values; real ones come from the environment when the simulator is not used.
export WECHAT_COMPONENT_APPID="${WECHAT_COMPONENT_APPID:-wx1234567890abcdef}"
export WECHAT_COMPONENT_APPSECRET="${WECHAT_COMPONENT_APPSECRET:-dev-appsecret}"
export WECHAT_MSG_TOKEN="${WECHAT_MSG_TOKEN:-dev-msg-token}"
export WECHAT_ENCODING_AES_KEY="${WECHAT_ENCODING_AES_KEY:-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG}"
export AUTH_STATE_SECRET="${AUTH_STATE_SECRET:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')}"
functions_url="http://127.0.0.1:${DEV_PORT}/lambda-url"
table=wxopen-dev
bus=wxopen-dev
if [ "${use_simulator}" = 1 ]; then
  api_base="http://127.0.0.1:${SIM_PORT}"
  page_base="${api_base}"
else
  api_base="${WECHAT_API_BASE}"
  page_base="${WECHAT_AUTH_PAGE_BASE:-https://mp.weixin.qq.com}"
fi

# The functions' environment (as the template sets it on Lambda).
function_env=(
  "WECHAT_COMPONENT_APPID=${WECHAT_COMPONENT_APPID}"
  "WECHAT_COMPONENT_APPSECRET=${WECHAT_COMPONENT_APPSECRET}"
  "WECHAT_MSG_TOKEN=${WECHAT_MSG_TOKEN}"
  "WECHAT_ENCODING_AES_KEY=${WECHAT_ENCODING_AES_KEY}"
  "WECHAT_API_BASE=${api_base}"
  "WECHAT_AUTH_PAGE_BASE=${page_base}"
  "TABLE_NAME=${table}"
  "AUTH_CALLBACK_URL=${AUTH_CALLBACK_URL:-${functions_url}/callback}"
  "AUTH_STATE_SECRET=${AUTH_STATE_SECRET}"
  # The local browser flow starts from the plain authorize URL; deployed, links only by default.
  "AUTH_ANONYMOUS=${AUTH_ANONYMOUS:-true}"
  "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:${DYNAMODB_PORT}"
  "AWS_ENDPOINT_URL_EVENTBRIDGE=http://127.0.0.1:${MOTO_PORT}"
  "AWS_ENDPOINT_URL_KMS=http://127.0.0.1:${MOTO_PORT}"
  # Tokens are sealed under a key of moto's KMS, created below under this alias.
  "TOKEN_KMS_KEY_ID=${TOKEN_KMS_KEY_ID:-alias/wxopen-dev}"
  "EVENT_BUS_NAME=${bus}"
  # The rollouts' work queue on moto (dev_events.py creates it and plays Lambda polling it).
  "ROLLOUT_QUEUE_URL=http://127.0.0.1:${MOTO_PORT}/123456789012/${bus}-rollouts"
  "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:${MOTO_PORT}"
  "ROLLOUT_RETRY_SECONDS=${ROLLOUT_RETRY_SECONDS:-5}"
  "ROLLOUT_AUDIT_POLL_SECONDS=${ROLLOUT_AUDIT_POLL_SECONDS:-60}"
  "AWS_REGION=us-east-1"
  "AWS_ACCESS_KEY_ID=testing"
  "AWS_SECRET_ACCESS_KEY=testing"
)
for name in WECHAT_ENCODING_AES_KEY_PREVIOUS AUTH_SUCCESS_URL AUTH_SUCCESS_SIGNING_KEY; do
  if [ -n "${!name:-}" ]; then function_env+=("${name}=${!name}"); fi
done

# The simulator, and the functions as `cargo lambda watch` builds them (`cargo run --bin`, the
# functions' own features), so that watch starts each one without compiling.
log "building the functions and the simulator (the first time takes a few minutes)"
function_names=()
function_bins=()
for dir in functions/*/; do
  function_names+=("$(basename "${dir}")")
  function_bins+=(--bin "$(basename "${dir}")")
done
# The simulator with the workspace's features (`--workspace`): built alone (`-p wechat-sim`) it
# resolves serde, tokio and a few more with fewer features, and its whole dependency tree
# compiles a second time (three minutes here) beside the one `make test` and the functions use.
cargo build --quiet --locked --workspace --bin wechat-sim
cargo build --quiet --locked "${function_bins[@]}"

# Every function reads its configuration as at a cold start and says what is wrong, before
# anything is started: a bad setting fails here, naming the variable.
declare -A refused=()
for name in "${function_names[@]}"; do
  if ! out=$(env "${function_env[@]}" "target/debug/${name}" --check-config 2>&1 >/dev/null); then
    refused["${out}"]+="${refused[${out}]:+, }${name}"
  fi
done
if [ "${#refused[@]}" -gt 0 ]; then
  for reason in "${!refused[@]}"; do log "${reason} (${refused[${reason}]} cannot start)"; done
  log "fix the variables above and run make dev again"
  exit 1
fi

start dynamodb scripts/dynamodb-local.sh "${DYNAMODB_PORT}"
wait_port "${DYNAMODB_PORT}" "DynamoDB Local" 60
.venv/bin/python scripts/create_table.py "http://127.0.0.1:${DYNAMODB_PORT}" "${table}" >&2
start moto .venv/bin/python scripts/moto-server.py -H 127.0.0.1 -p "${MOTO_PORT}"
wait_port "${MOTO_PORT}" "moto_server" 60
if [ -z "${TOKEN_KMS_KEY_ID:-}" ]; then
  .venv/bin/python - "http://127.0.0.1:${MOTO_PORT}" <<'PY' >&2
import sys, boto3
kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
key = kms.create_key(Description="make dev: seals tokens at rest")["KeyMetadata"]["KeyId"]
kms.create_alias(AliasName="alias/wxopen-dev", TargetKeyId=key)
PY
fi

if [ "${use_simulator}" = 1 ]; then
  SIM_ADDR="127.0.0.1:${SIM_PORT}" SIM_EVENTS_URL="${functions_url}/events" \
    SIM_MESSAGES_URL="${functions_url}/messages/\$APPID\$" \
    start wechat-sim target/debug/wechat-sim
  wait_port "${SIM_PORT}" "the WeChat simulator" 30
fi

env_args=()
for pair in "${function_env[@]}"; do env_args+=(--env-var "${pair}"); done
# Plain text in the log: no colour codes from cargo or the emulator.
NO_COLOR=1 CARGO_TERM_COLOR=never start functions .venv/bin/cargo-lambda lambda watch \
  --invoke-address 127.0.0.1 --invoke-port "${DEV_PORT}" "${env_args[@]}"
wait_port "${DEV_PORT}" "cargo lambda watch" 120

# A function that fails at its cold start anyway (a panic, say) stops the stack with its own
# words on screen, rather than leaving a "Ready" whose requests never answer.
setsid bash -c '
  until line=$(grep -m1 -E "configuration error|panicked at" "$1"); do sleep 0.5; done
  printf "[dev] a function could not start: %s\n[dev] its log: %s\n" "${line}" "$1" >&2
  kill -TERM "$2"' watcher "${state_dir}/functions.log" "$$" &
groups+=("$!")
start_shown events env PYTHONPATH=scripts .venv/bin/python scripts/dev_events.py \
  "http://127.0.0.1:${DYNAMODB_PORT}" "http://127.0.0.1:${MOTO_PORT}" "${table}" "${bus}" "${functions_url}"

if [ "${use_simulator}" = 1 ]; then
  # Ready when the simulator's first ticket reached the events function.
  deadline=$((SECONDS + 180))
  until python3 -c "import json,sys,urllib.request; sys.exit(0 if json.load(urllib.request.urlopen('http://127.0.0.1:${SIM_PORT}/_sim/status'))['tickets_delivered'] > 0 else 1)" 2>/dev/null; do
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      log "the first ticket push never reached the events function; see ${state_dir}/functions.log and ${state_dir}/wechat-sim.log"
      exit 1
    fi
    sleep 0.5
  done
fi

cat <<MSG

  Ready. Open this URL in a browser to authorize an account:

    ${functions_url}/authorize

  Functions: ${functions_url}/<name>
    .venv/bin/cargo-lambda lambda invoke <name> --invoke-address 127.0.0.1 --invoke-port ${DEV_PORT} --data-ascii '{...}'
  WeChat simulator: http://127.0.0.1:${SIM_PORT}/_sim/status     Logs: ${state_dir}/
  WeChat's release test against the message URL (a random group, or {"group": 1..5}):
    curl -s -X POST -H 'content-type: application/json' -d '{}' http://127.0.0.1:${SIM_PORT}/_sim/release-test
  Events on the bus ${bus} are printed below as [event] lines as they arrive.
  Press Ctrl-C to stop everything.

MSG
echo "DEV_READY ${functions_url}/authorize"

# Stay in the foreground until Ctrl-C (or until a component exits).
wait -n || true
log "a component exited; see ${state_dir}/"
