#!/usr/bin/env bash
# Start nba_backfill locally: install into .venv, prepare the Dagster instance, materialize one
# real date offline (all phases, bundled data), then run the Dagster UI + daemon in the foreground.
#
#   bash scripts/up.sh [--skip-install] [--skip-demo] [--demo-date YYYY-MM-DD]
#
# Environment (defaults):
#   PORT=3000                            UI at http://127.0.0.1:$PORT
#   NBA_BACKFILL_HOME=.nba_backfill      warehouse.duckdb + lake/ (git-ignored)
#   DAGSTER_HOME=$NBA_BACKFILL_HOME/dagster_home   instance (dagster.yaml from the package template)
#   NBA_BACKFILL_CURRENT_SEASON=2024-25  the bundled offline data ends with 2024-25
# Stop with Ctrl-C.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

SKIP_INSTALL=0
SKIP_DEMO=0
# The 2024-25 opener: every lookback window starts at the opener, so one date is complete on its
# own and flows through every phase (a mid-season date alone fails its window-completeness checks).
DEMO_DATE="2024-10-22"
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-install) SKIP_INSTALL=1 ;;
    --skip-demo) SKIP_DEMO=1 ;;
    --demo-date)
      [ $# -ge 2 ] || { echo "up.sh: --demo-date needs a date YYYY-MM-DD" >&2; exit 2; }
      DEMO_DATE="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

export NBA_BACKFILL_HOME="${NBA_BACKFILL_HOME:-$ROOT/.nba_backfill}"
export NBA_BACKFILL_CURRENT_SEASON="${NBA_BACKFILL_CURRENT_SEASON:-2024-25}"
export DAGSTER_HOME="${DAGSTER_HOME:-$NBA_BACKFILL_HOME/dagster_home}"
PORT="${PORT:-3000}"
mkdir -p "$NBA_BACKFILL_HOME"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
if [ "$SKIP_INSTALL" = 0 ]; then
  echo "==> installing nba_backfill into .venv (pip install -e '.[test]')"
  .venv/bin/pip install --disable-pip-version-check -q -e '.[test]'
fi

echo "==> preparing DAGSTER_HOME=$DAGSTER_HOME"
eval "$(.venv/bin/python -W ignore -m nba_backfill.instance "$DAGSTER_HOME")"

if [ "$SKIP_DEMO" = 0 ]; then
  echo "==> materializing $DEMO_DATE through every phase (offline source, job nba_pipeline)"
  if .venv/bin/dagster job execute -m nba_backfill.definitions -j nba_pipeline \
    --tags "{\"dagster/partition\": \"$DEMO_DATE\"}" >"$NBA_BACKFILL_HOME/demo_run.log" 2>&1; then
    echo "    run succeeded (log: $NBA_BACKFILL_HOME/demo_run.log)"
  else
    echo "    run FAILED: see $NBA_BACKFILL_HOME/demo_run.log and the run in the UI (Runs tab)" >&2
  fi
  .venv/bin/python -W ignore -m nba_backfill.ops.summary "$DEMO_DATE"
fi

echo "==> Dagster UI + daemon at http://127.0.0.1:$PORT (Ctrl-C to stop)"
echo "    headless: .venv/bin/nba-backfill --url http://127.0.0.1:$PORT preflight --season 2023-24"
exec .venv/bin/dagster dev -h 127.0.0.1 -p "$PORT" -m nba_backfill.definitions
