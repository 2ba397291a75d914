#!/usr/bin/env bash
# Install Debian's chromium (the e2e browser tests) and Pango with fonts (WeasyPrint's PDF reports); idempotent and quiet.
set -euo pipefail
want=()
[ -x /usr/bin/chromium ] || want+=(chromium chromium-driver)
ldconfig -p | grep -q libpangoft2-1.0 || want+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -qi dejavu || want+=(fonts-dejavu-core)
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
