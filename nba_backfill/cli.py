"""`nba-backfill`: headless backfill operations against a running Dagster (GraphQL).

    nba-backfill backfill --season 2023-24 | --from D1 --to D2 [--phases 1-4] [--assets A ...]
                          [--only-missing-or-failed] [--with-history] [--dry-run]
    nba-backfill status [ID] [--limit N] [--all]
    nba-backfill preflight [--season S | --from D1 --to D2]
    nba-backfill needs ASSET DATE [--direct] [--limit N]   (exit 1 when a needed partition is not ok)
    nba-backfill stale [--season S | --from D1 --to D2] [--assets A ...] [--launch]   (default: all dates)

Every command takes `--url` (default $NBA_BACKFILL_DAGSTER_URL or http://127.0.0.1:3000/graphql).
Backfills are submitted as one asset backfill with exact per-asset ranges, so they appear in
the UI (Overview > Backfills) like UI-launched ones. `backfill` prints the id on stdout (the
summary goes to stderr). Exit codes: 0 ok, 1 failure (unreachable server, refused launch,
failed preflight check, backfill with failures), 2 bad input (nothing launched), 3 `stale`:
nothing is stale (with --launch stdout is then empty; otherwise it holds only the id).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nba_backfill.ops.graphql import DEFAULT_URL, DagsterGraphQL, OpsError
from nba_backfill.ops.plan import BackfillInputError, parse_phases, resolve_keys

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOTHING_STALE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own usage errors: same exit code as ours
        self.print_usage(sys.stderr)
        print(f"nba-backfill: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _split_assets(values: Sequence[str] | None) -> list[str] | None:
    """None when --assets was not given; its names otherwise (BackfillInputError if it names none:
    an empty list must not widen the selection to every asset)."""
    if values is None:
        return None
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not names:
        raise BackfillInputError(
            f"--assets {' '.join(map(repr, values))} names no asset: give layer/table names (or leave "
            "the option out for every asset of the phases)"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    url_help = "Dagster webserver (root or /graphql); default $NBA_BACKFILL_DAGSTER_URL or " + DEFAULT_URL
    # `--url` is accepted before and after the command; the subcommands must not reset it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help=url_help)
    ranged = argparse.ArgumentParser(add_help=False)
    ranged.add_argument("--season", help="season label, e.g. 2023-24")
    ranged.add_argument("--from", dest="start", metavar="D1", help="first date YYYY-MM-DD")
    ranged.add_argument("--to", dest="end", metavar="D2", help="last date YYYY-MM-DD (inclusive)")

    parser = _Parser(prog="nba-backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("NBA_BACKFILL_DAGSTER_URL", DEFAULT_URL), help=url_help
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    bf = sub.add_parser("backfill", parents=[common, ranged], help="launch one asset backfill")
    bf.add_argument("--phases", default="1-4", help="phases 1-5, e.g. 1-4 (default), 2, 1,3")
    bf.add_argument("--assets", nargs="+", help="only these assets (layer/table or table)")
    bf.add_argument(
        "--only-missing-or-failed",
        action="store_true",
        help="leave out partitions already materialized with passing blocking checks; add the lake "
        "partitions that failed tables name for re-scraping",
    )
    bf.add_argument(
        "--with-history",
        action="store_true",
        help="add the earlier dates of the season that the range reads and that are not done "
        "(without it such a range is refused, naming them)",
    )
    bf.add_argument("--dry-run", action="store_true", help="print the plan, launch nothing")

    st = sub.add_parser("status", parents=[common], help="progress and failures of a backfill")
    st.add_argument("backfill_id", nargs="?", help="backfill id (default: the latest)")
    st.add_argument("--limit", type=int, default=50,
                    help="lines per listing (partitions by cause, step errors); a longer one ends "
                    "with how many more")
    st.add_argument("--all", dest="show_all", action="store_true",
                    help="list everything, with every line of each error")

    sub.add_parser("preflight", parents=[common, ranged], help="check what a backfill needs")

    sl = sub.add_parser("stale", parents=[common, ranged], help="list (and re-launch) stale partitions")
    sl.add_argument("--assets", nargs="+", help="only these assets (layer/table or table)")
    sl.add_argument("--launch", action="store_true", help="launch one backfill for them")
    sl.add_argument("--limit", type=int, default=100, help="stale partitions to list")

    nd = sub.add_parser("needs", parents=[common], help="the upstream partitions one partition reads, and their state")
    nd.add_argument("asset", help="layer/table (or a table name found in one layer only)")
    nd.add_argument("date", help="the partition, YYYY-MM-DD")
    nd.add_argument("--direct", action="store_true", help="only its own inputs (default: down to the scrapers)")
    nd.add_argument("--limit", type=int, default=50, help="failed partitions to list with their causes")
    return parser


def _keys_or_default(args, all_keys: Sequence[str]) -> list[str]:
    """Range of preflight/stale: --season or --from/--to; default the current season."""
    from nba_backfill.seasons import current_season

    if not args.season and not args.start and not args.end:
        return resolve_keys(all_keys, season=current_season().label)
    return resolve_keys(all_keys, season=args.season, start=args.start, end=args.end)


def cmd_backfill(args, client: DagsterGraphQL) -> int:
    from nba_backfill.ops.backfill import ensure_history, launch, plan_backfill
    from nba_backfill.ops.history import describe_missing
    from nba_backfill.partitions import all_partition_keys

    request = plan_backfill(
        client,
        season=args.season,
        start=args.start,
        end=args.end,
        phases=args.phases,
        assets=_split_assets(args.assets),
        only_missing_or_failed=args.only_missing_or_failed,
    )
    if request is None:
        print("Nothing to backfill: every selected partition is materialized with passing checks.",
              file=sys.stderr)
        return EXIT_OK
    if args.only_missing_or_failed:
        from nba_backfill.ops.recover import describe, find_refetch, with_refetch
        from nba_backfill.partitions import DAILY_PARTITIONS

        all_keys = DAILY_PARTITIONS.get_partition_keys()
        refetch = find_refetch(client, request, all_keys)
        request = with_refetch(request, refetch, all_keys)
        for line in describe(refetch, all_keys):
            print(line, file=sys.stderr)
    request, history = ensure_history(client, request, with_history=args.with_history)
    print(f"{request.title}: {len(request.asset_keys)} assets, {request.num_asset_partitions} "
          f"asset-partitions, {request.first_key}..{request.last_key}", file=sys.stderr)
    if args.dry_run:
        for item in request.partitions_by_assets:
            ranges = ", ".join(f"{a}..{b}" for a, b in item.ranges)
            print(f"  {item.asset}: {ranges} ({item.num_keys})")
        for line in describe_missing(history, all_partition_keys()):
            print(f"  history added by --with-history: {line}")
        return EXIT_OK
    backfill_id = launch(client, request)
    root = client.url.removesuffix("/graphql")
    print(f"Launched backfill {backfill_id}: {root}/runs/b/{backfill_id}?tab=partitions",
          file=sys.stderr)
    print(backfill_id)
    return EXIT_OK


def cmd_status(args, client: DagsterGraphQL) -> int:
    from nba_backfill.ops.status import backfill_status
    from nba_backfill.ops.status_render import render

    report = backfill_status(client, args.backfill_id)
    print(render(report, limit=args.limit, show_all=args.show_all))
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_preflight(args, client: DagsterGraphQL, keys: Sequence[str]) -> int:
    from nba_backfill.ops.preflight import FAIL, render, run_preflight

    print(f"Preflight for {keys[0]}..{keys[-1]} ({len(keys)} in-season days)")
    lines = run_preflight(client, keys)
    print(render(lines))
    return EXIT_FAILED if any(line.status == FAIL for line in lines) else EXIT_OK


def cmd_stale(args, client: DagsterGraphQL, keys: Sequence[str], all_keys: Sequence[str]) -> int:
    """List the stale partitions (failed `up_to_date`) and, with --launch, refresh them in one
    backfill. stdout: the listing, or with --launch only the backfill id. Exit 0 when something
    is stale (and launched), EXIT_NOTHING_STALE when nothing is."""
    from nba_backfill.ops.backfill import launch
    from nba_backfill.ops.plan import build_stale_request, resolve_assets
    from nba_backfill.ops.stale import find_stale, sensor_running
    from nba_backfill.ops.state import fetch_asset_nodes
    from nba_backfill.seasons import current_season
    from nba_backfill.staleness import SENSOR_NAME

    assets = None
    if args.assets is not None:
        known = [n.key for n in fetch_asset_nodes(client) if n.partitioned]
        assets = resolve_assets(known, (1, 2, 3, 4, 5), _split_assets(args.assets))
    if sensor_running(client, SENSOR_NAME) is False:
        print(f"warning: sensor {SENSOR_NAME} is stopped: changes since it stopped are not marked "
              "stale (Automation > Sensors)", file=sys.stderr)
    stale = find_stale(client, keys, all_keys, assets)
    listing = sys.stderr if args.launch else sys.stdout
    by_asset: dict[str, list[str]] = {}
    for item in stale:
        by_asset.setdefault(item.asset, []).append(item.partition)
    print(f"{len(stale)} stale partitions in {keys[0]}..{keys[-1]} across {len(by_asset)} assets", file=listing)
    for item in stale[: args.limit]:
        print(f"  {item.asset} {item.partition}: {item.cause}", file=listing)
    if len(stale) > args.limit:
        print(f"  ... {len(stale) - args.limit} more (use --limit)", file=listing)
    if not stale:
        return EXIT_NOTHING_STALE
    if not args.launch:
        return EXIT_OK
    request, skipped = build_stale_request(by_asset, all_keys, current_season())
    for asset, partitions in skipped.items():
        print(f"  not re-run (phase 5 outside the current season): {asset} "
              f"{partitions[0]}..{partitions[-1]} ({len(partitions)})", file=sys.stderr)
    if request is None:
        return EXIT_NOTHING_STALE
    backfill_id = launch(client, request)
    print(f"Launched backfill {backfill_id} for {request.num_asset_partitions} stale asset-partitions",
          file=sys.stderr)
    print(backfill_id)
    return EXIT_OK


def cmd_needs(args, client: DagsterGraphQL, target, all_keys: Sequence[str]) -> int:
    """What one partition reads (docs/needs.md); exit 0 only when every needed partition is ok."""
    from nba_backfill.ops.needs import needs_report, render

    graph, key, day = target
    report = needs_report(client, graph, key, day, all_keys, transitive=not args.direct)
    print(render(report, all_keys, args.limit))
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from nba_backfill.partitions import DAILY_PARTITIONS

    try:
        all_keys = DAILY_PARTITIONS.get_partition_keys()
        keys: list[str] = []
        # Validate every argument that needs no server before talking to it.
        if args.command in {"backfill", "stale"}:
            _split_assets(args.assets)
        if args.command == "backfill":
            parse_phases(args.phases)
            resolve_keys(all_keys, season=args.season, start=args.start, end=args.end)
        elif args.command == "preflight":
            keys = _keys_or_default(args, all_keys)
        elif args.command == "stale":  # default: every partition (the stale set is small)
            keys = resolve_keys(all_keys, season=args.season, start=args.start, end=args.end) \
                if (args.season or args.start or args.end) else list(all_keys)
        elif args.command == "needs":
            from nba_backfill.ops.needs import asset_graph, resolve_date, resolve_target

            resolve_date(args.date, all_keys)  # before loading the definitions
            graph = asset_graph()
            needs_target = (graph, *resolve_target(graph, args.asset, args.date, all_keys))
        if getattr(args, "limit", 1) < 1:
            raise BackfillInputError(f"--limit must be at least 1, got {args.limit}")
    except BackfillInputError as exc:
        print(f"nba-backfill {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    try:
        with DagsterGraphQL(args.url) as client:
            if args.command == "backfill":
                return cmd_backfill(args, client)
            if args.command == "status":
                return cmd_status(args, client)
            if args.command == "preflight":
                return cmd_preflight(args, client, keys)
            if args.command == "needs":
                return cmd_needs(args, client, needs_target, all_keys)
            return cmd_stale(args, client, keys, all_keys)
    except BackfillInputError as exc:
        print(f"nba-backfill {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OpsError as exc:
        print(f"nba-backfill {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `nba-backfill status ID | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
