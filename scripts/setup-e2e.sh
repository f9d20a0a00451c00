#!/usr/bin/env bash
# What the browser test needs: Debian's chromium and a CJK font, and playwright-core from npm (which drives
# the system browser and downloads none). Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup-e2e] %s\n' "$*" >&2; }

# Chromium, and a CJK font so that the Chinese result page reads in its screenshot too.
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -d /usr/share/fonts/truetype/wqy ] || packages+=(fonts-wqy-microhei)
if [ "${#packages[@]}" -gt 0 ]; then
  log "installing Debian's ${packages[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    log "installing packages needs root: run 'apt-get install ${packages[*]}' as root, then make test again"
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

lock=tests/e2e/package-lock.json
stamp=tests/e2e/node_modules/.installed-lock
if [ ! -f "${stamp}" ] || ! cmp -s "${lock}" "${stamp}"; then
  log "installing tests/e2e node modules"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  cp "${lock}" "${stamp}"
fi
