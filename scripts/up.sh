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
#   STOP_TIMEOUT=60                      seconds Dagster gets to stop before it is killed
# Stop with Ctrl-C or SIGTERM: the webserver, daemon and code servers stop with the script.
set -euo pipefail

# A shell started in the background by a script ignores SIGINT, and bash can neither trap nor
# reset a signal ignored on entry; `dagster dev` would inherit it, and (mapping SIGTERM to its SIGINT
# handler) ignore SIGTERM too. Start over once with both at their defaults.
if trap -p INT TERM | grep -q "''"; then
  exec python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)
os.execvp("bash", ["bash", *sys.argv[1:]])' "$0" "$@"
fi

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
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

export NBA_BACKFILL_HOME="${NBA_BACKFILL_HOME:-$ROOT/.nba_backfill}"
export DAGSTER_HOME="${DAGSTER_HOME:-$NBA_BACKFILL_HOME/dagster_home}"
PORT="${PORT:-3000}"
STOP_TIMEOUT="${STOP_TIMEOUT:-60}"
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
  echo "==> materializing $DEMO_DATE through every phase (offline source)"
  # Two runs: Phase 5 has its own partitions (the current season's days only), and one run can
  # only target assets that share a partitions definition.
  if .venv/bin/dagster asset materialize -m nba_backfill.definitions \
       --select 'not group:nba_predictions' --partition "$DEMO_DATE" >"$NBA_BACKFILL_HOME/demo_run.log" 2>&1 \
    && .venv/bin/dagster asset materialize -m nba_backfill.definitions \
       --select 'group:nba_predictions' --partition "$DEMO_DATE" >>"$NBA_BACKFILL_HOME/demo_run.log" 2>&1; then
    echo "    runs succeeded (log: $NBA_BACKFILL_HOME/demo_run.log)"
  else
    echo "    run FAILED: see $NBA_BACKFILL_HOME/demo_run.log and the run in the UI (Runs tab)" >&2
  fi
  .venv/bin/python -W ignore -m nba_backfill.ops.summary "$DEMO_DATE"
fi

echo "==> Dagster UI + daemon at http://127.0.0.1:$PORT (Ctrl-C to stop)"
echo "    headless: .venv/bin/nba-backfill --url http://127.0.0.1:$PORT preflight --season 2023-24"
# `dagster dev` runs in its own process group (set -m), so a terminal's Ctrl-C reaches only this
# script, which interrupts the group once (dagster dev then stops the webserver, daemon and code
# servers), waits up to STOP_TIMEOUT seconds for every member to exit and kills what is left.
# The CLI's own "dev_command is superseded" notice is silenced; nothing else is.
set -m
PYTHONWARNINGS='ignore:Function `dev_command` is superseded' \
  .venv/bin/dagster dev -h 127.0.0.1 -p "$PORT" -m nba_backfill.definitions &
DEV_GROUP=$!
set +m

stop_dev() {
  trap 'kill -KILL -- "-$DEV_GROUP" 2>/dev/null || true' INT TERM  # a second Ctrl-C: kill now
  echo "==> stopping Dagster (up to ${STOP_TIMEOUT}s)" >&2
  kill -INT -- "-$DEV_GROUP" 2>/dev/null || true
  local waited=0
  while kill -0 -- "-$DEV_GROUP" 2>/dev/null && [ "$waited" -lt "$((STOP_TIMEOUT * 10))" ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 -- "-$DEV_GROUP" 2>/dev/null; then
    echo "    still running after ${STOP_TIMEOUT}s: killed" >&2
    kill -KILL -- "-$DEV_GROUP" 2>/dev/null || true
  fi
  wait "$DEV_GROUP" 2>/dev/null || true
  exit "$1"
}
trap 'stop_dev 130' INT
trap 'stop_dev 143' TERM
status=0
wait "$DEV_GROUP" || status=$?
# dagster dev ended on its own (e.g. a failed start): take its group with it.
kill -KILL -- "-$DEV_GROUP" 2>/dev/null || true
exit "$status"
