"""python -m nba_backfill.source --port 8765 [--host H] [--faults FILE] [--rate-limit N] [--latency S]
python -m nba_backfill.source correct --home DIR --game G --player P --stat pts --delta 2 [--since T]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from nba_backfill.source.corrections import STATS
from nba_backfill.source.faults import DEFAULT_FILE_NAME, FaultRule, validate_corrections


def correct(argv: list[str]) -> int:
    """Append a stat correction to the faults file (validated first; nothing written on error)."""
    ap = argparse.ArgumentParser(
        prog="python -m nba_backfill.source correct",
        description="Add a stat correction to the offline source's faults file; running sources "
                    "(and pipeline steps) answer with it from --since on.")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--home", help=f"NBA_BACKFILL_HOME: the file is HOME/{DEFAULT_FILE_NAME} "
                                      "(default: $NBA_BACKFILL_HOME)")
    where.add_argument("--faults", help="the faults file itself")
    ap.add_argument("--game", required=True, help="NBA game id, e.g. 0022300115")
    ap.add_argument("--player", required=True, type=int, help="NBA player id, e.g. 203924")
    ap.add_argument("--stat", required=True, choices=STATS)
    ap.add_argument("--delta", required=True, type=int, help="the change, e.g. 2 or -1")
    ap.add_argument("--since", default=None,
                    help="ISO-8601 time it takes effect, e.g. 2026-12-06T12:00:00Z (default: now on)")
    args = ap.parse_args(argv)
    home = args.home or os.environ.get("NBA_BACKFILL_HOME")
    if not args.faults and not home:
        ap.error("give --home DIR or --faults FILE (or set NBA_BACKFILL_HOME)")
    path = Path(args.faults) if args.faults else Path(home) / DEFAULT_FILE_NAME
    try:
        raw = json.loads(path.read_text() or "[]") if path.exists() else []
        rules = raw.get("faults", []) if isinstance(raw, dict) else raw
        if not isinstance(rules, list):
            raise ValueError(f"{path}: 'faults' is not a list")
        rule = FaultRule("correction", game_id=args.game, player_id=args.player, stat=args.stat,
                         delta=args.delta, since=args.since)
        validate_corrections([FaultRule.from_dict(d) for d in rules] + [rule])
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rules.append(rule.to_dict())
    if isinstance(raw, dict):
        raw["faults"] = rules
    else:
        raw = rules
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(raw, indent=2) + "\n")
    os.replace(tmp, path)  # a new mtime: running sources re-read the file on their next request
    print(f"{path}: {json.dumps(rule.to_dict())}")
    return 0


def serve(argv: list[str]) -> int:
    from nba_backfill.source.server import serve_offline

    ap = argparse.ArgumentParser(prog="python -m nba_backfill.source",
                                 description="Serve the offline NBA replay over HTTP "
                                             "(`correct --help`: add a stat correction).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--faults", default=None, help="JSON faults file (re-read when it changes)")
    ap.add_argument("--rate-limit", type=float, default=None, help="requests/second before 429s")
    ap.add_argument("--latency", type=float, default=0.0, help="base latency per request (s)")
    args = ap.parse_args(argv)
    server, thread, url = serve_offline(args.host, args.port, faults_file=args.faults,
                                        rate_limit_per_second=args.rate_limit,
                                        base_latency=args.latency)
    from nba_backfill.source.data_store import get_store

    get_store()  # load the data before announcing readiness
    print(f"offline NBA source listening on {url}", flush=True)
    try:
        while thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["correct"]:
        return correct(argv[1:])
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
