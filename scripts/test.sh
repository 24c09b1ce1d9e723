#!/usr/bin/env bash
# Installs everything the test suite needs (project venv, Chromium from Debian, the BigQuery/GCS
# emulators in their own venv) and runs it. README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

# BigQuery + GCS emulators for the prod-mode suite (own venv under .emulators/)
bash scripts/setup_emulators.sh

exec .venv/bin/pytest "$@"
