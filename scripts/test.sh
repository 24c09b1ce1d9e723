#!/usr/bin/env bash
# Installs everything the test suite needs (project venv, Chromium from Debian, the BigQuery/GCS
# emulators in their own venv) and runs it. README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser suite (Playwright drives it; no browser download)
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

# BigQuery + GCS emulators for the prod-mode suite (own venv under .emulators/)
bash scripts/setup_emulators.sh

exec .venv/bin/pytest "$@"
