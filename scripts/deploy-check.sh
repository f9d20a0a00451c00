#!/usr/bin/env bash
# What a user runs before `sam deploy`: `sam validate --lint`, then `sam build`. Every function
# has `BuildMethod: makefile`: SAM runs `make build-<LogicalId>` per function, the first of which
# builds the bundle (every function in one executable, release profile, arm64, one fat-LTO link;
# scripts/sam-build.sh), the others find it built; each copies it as its bootstrap, and the
# function's Handler picks what it runs. Checks that each function in the template got its
# bootstrap into .aws-sam/build. Not part of `make test`, whose dev-profile cross-build of the
# same bundle proves the same compiling and linking.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${PWD}/.venv/bin:${PATH}"
export SAM_CLI_TELEMETRY=0

scripts/setup.sh
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

started=$(date +%s)
sam validate --lint --template template.yaml --region us-east-1
sam build --template template.yaml --build-dir .aws-sam/build

# Every function resource of the template, by logical id, must have its bootstrap.
functions=$(python3 - <<'PY'
import re
text = open("template.yaml").read()
ids = re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function$", text, re.M)
print(" ".join(ids))
PY
)
count=0
for id in ${functions}; do
  file=".aws-sam/build/${id}/bootstrap"
  if [ ! -x "${file}" ]; then
    echo "[deploy-check] ${file} is missing" >&2
    exit 1
  fi
  printf '  %-26s %9d bytes  %s\n' "${id}" "$(stat -c %s "${file}")" "$(file -b "${file}" 2>/dev/null | cut -d, -f1-2 || true)"
  count=$((count + 1))
done
echo "[deploy-check] sam build built ${count} functions in $(( $(date +%s) - started )) s; deploy with: sam deploy --guided"
