"""`nba-backfill preflight`: is everything a backfill over a range needs in place?

Checks, each PASS / WARN / FAIL with the reason:
- dagster: the webserver answers and the code location is loaded;
- daemon: the daemons a backfill needs (backfill, run queue, scheduler, sensors) are healthy;
- sources: stats.nba.com (scheduleleaguev2), cdn.nba.com play-by-play and balldontlie answer;
- schedule: the schedule lists games for the range, per season (and how much of it is landed);
- warehouse / lake: writable (a probe table / object is written, read back and removed).

Sources, warehouse and lake are reached with this process's resources (`build_resources()`:
NBA_BACKFILL_ENV, NBA_BACKFILL_HOME), so run the CLI with the same environment as Dagster.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.state import fetch_daemon_health, fetch_location_errors
from nba_backfill.seasons import season_for_date

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
NEEDED_DAEMONS = ("BACKFILL", "QUEUED_RUN_COORDINATOR", "SCHEDULER", "SENSOR")
PROBE_SCHEMA = "nba_ops"
PROBE_TABLE = "preflight_probe"
PROBE_PREFIX = "_preflight/"


@dataclass(frozen=True)
class CheckLine:
    name: str
    status: str
    detail: str


def _guard(name: str, fn: Callable[[], CheckLine]) -> CheckLine:
    try:
        return fn()
    except Exception as exc:  # every failure becomes a FAIL line naming its cause
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return CheckLine(name, FAIL, f"{type(exc).__name__}: {first_line}")


def check_dagster(client: DagsterGraphQL) -> CheckLine:
    errors = fetch_location_errors(client)
    if errors:
        return CheckLine("dagster", FAIL, "code location not loaded: " + "; ".join(errors))
    return CheckLine("dagster", PASS, f"webserver at {client.url}, code location loaded")


def check_daemon(client: DagsterGraphQL) -> CheckLine:
    health = fetch_daemon_health(client)
    missing = [d for d in NEEDED_DAEMONS if not health.get(d)]
    if missing:
        return CheckLine(
            "daemon", FAIL,
            f"not running or unhealthy: {', '.join(missing)} (start `dagster dev` or `dagster-daemon run`)",
        )
    return CheckLine("daemon", PASS, "healthy: " + ", ".join(NEEDED_DAEMONS))


def _season_schedules(nba_api, keys: Sequence[str]) -> dict[str, dict]:
    from nba_backfill.assets.scrapers.specs import SCRAPER_BY_NAME

    spec = SCRAPER_BY_NAME["nbac_schedule"]
    labels = sorted({season_for_date(k).label for k in keys if season_for_date(k)})
    return {
        label: nba_api.stats(spec.endpoint, dict(spec.params, Season=label), context="preflight").data
        for label in labels
    }


def check_sources(nba_api, keys: Sequence[str], schedules: dict[str, dict]) -> CheckLine:
    from nba_backfill.assets.scrapers.schedule import games_in_slice, slice_for_date

    first_game = None
    for key in keys:
        season = season_for_date(key)
        games = games_in_slice(slice_for_date(schedules[season.label], key)) if season else []
        if games:
            first_game = (key, games[0].nba_game_id)
            break
    if first_game is None:
        return CheckLine("sources", FAIL, "stats.nba.com scheduleleaguev2 lists no game in the range")
    day, game_id = first_game
    started = time.monotonic()
    pbp = nba_api.cdn_playbyplay(game_id, context=f"preflight {day}")
    bdl = nba_api.bdl("games", {"dates[]": day, "per_page": 100}, context=f"preflight {day}")
    if not pbp.data:
        return CheckLine("sources", FAIL, f"cdn.nba.com play-by-play of {game_id} is empty")
    bdl_games = len((bdl.data or {}).get("data") or [])
    return CheckLine(
        "sources", PASS,
        f"stats.nba.com scheduleleaguev2 ({len(schedules)} season(s)), cdn.nba.com playbyplay "
        f"{game_id}, balldontlie games {day} ({bdl_games} games) answered in "
        f"{time.monotonic() - started:.1f}s",
    )


def check_schedule(lake, keys: Sequence[str], schedules: dict[str, dict]) -> CheckLine:
    from nba_backfill.assets.scrapers.schedule import games_in_slice, schedule_key, slice_for_date

    problems: list[str] = []
    notes: list[str] = []
    for label, body in sorted(schedules.items()):
        season_keys = [k for k in keys if (s := season_for_date(k)) and s.label == label]
        with_games = [k for k in season_keys if games_in_slice(slice_for_date(body, k))]
        if not with_games:
            problems.append(f"{label}: no scheduled game in {season_keys[0]}..{season_keys[-1]}")
            continue
        last = with_games[-1]
        if last < season_keys[-1]:
            notes.append(
                f"{label}: last scheduled game {last}; {sum(k > last for k in season_keys)} later "
                "day(s) of the range have no games"
            )
        notes.append(f"{label}: {len(with_games)}/{len(season_keys)} days with games")
    landed = sum(lake.exists(schedule_key(k)) for k in keys)
    notes.append(f"schedule landed in the lake for {landed}/{len(keys)} days")
    if problems:
        return CheckLine("schedule", FAIL, "; ".join(problems + notes))
    status = WARN if any("later day" in n for n in notes) else PASS
    return CheckLine("schedule", status, "; ".join(notes))


def check_warehouse(warehouse) -> CheckLine:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    table = f"{PROBE_SCHEMA}.{PROBE_TABLE}_{stamp}"
    warehouse.query(f"CREATE SCHEMA IF NOT EXISTS {PROBE_SCHEMA}")
    warehouse.query(f"CREATE TABLE {table} AS SELECT 1 AS probe")
    try:
        count = int(warehouse.query(f"SELECT COUNT(*) AS n FROM {table}")["n"].iloc[0])
    finally:
        warehouse.query(f"DROP TABLE IF EXISTS {table}")
    if count != 1:
        return CheckLine("warehouse", FAIL, f"probe table {table} read back {count} rows, expected 1")
    return CheckLine("warehouse", PASS, f"{type(warehouse).__name__}: created, read and dropped {table}")


def check_lake(lake) -> CheckLine:
    key = f"{PROBE_PREFIX}probe.json"
    body = {"probe": dt.datetime.now(dt.timezone.utc).isoformat()}
    lake.write_json(key, body)
    try:
        back = lake.read_json(key)
    finally:
        lake.delete(key)
    if back != body:
        return CheckLine("lake", FAIL, f"probe {key} read back {back!r}")
    return CheckLine("lake", PASS, f"{type(lake).__name__}: wrote, read and deleted {key}")


def run_preflight(client: DagsterGraphQL, keys: Sequence[str], resources: dict | None = None) -> list[CheckLine]:
    """Every check for the partition keys of the range (resources default to build_resources())."""
    if not keys:
        raise OpsError("preflight needs a non-empty range")
    lines = [_guard("dagster", lambda: check_dagster(client)), _guard("daemon", lambda: check_daemon(client))]
    if resources is None:
        from nba_backfill.resources import build_resources

        resources = build_resources()
    nba_api, lake, warehouse = resources["nba_api"], resources["lake"], resources["warehouse"]
    schedules: dict[str, dict] = {}
    try:
        schedules = _season_schedules(nba_api, keys)
    except Exception as exc:  # the schedule request itself failed: both checks fail with it
        lines.append(CheckLine("sources", FAIL, f"scheduleleaguev2: {type(exc).__name__}: {exc}"))
        lines.append(CheckLine("schedule", FAIL, "schedule unavailable (see sources)"))
    else:
        lines.append(_guard("sources", lambda: check_sources(nba_api, keys, schedules)))
        lines.append(_guard("schedule", lambda: check_schedule(lake, keys, schedules)))
    lines.append(_guard("warehouse", lambda: check_warehouse(warehouse)))
    lines.append(_guard("lake", lambda: check_lake(lake)))
    return lines


def render(lines: Sequence[CheckLine]) -> str:
    width = max(len(line.name) for line in lines)
    return "\n".join(f"{line.status:<5} {line.name:<{width}}  {line.detail}" for line in lines)
