"""One factory turns every `ScraperSpec` into a Phase 1 asset step.

Naming rule: each name in `spec.names` becomes the asset `nba_lake/<name>` (group nba_lake);
a spec with two names is one `multi_asset` step called `<endpoint>_scraper` that materializes
both from one fetch. Every step:
- runs in pool `nba_api` with `SCRAPER_BACKFILL_POLICY` (chunks of partitions per run);
- for each date of the run reads the landed schedule slice (`nba-com/schedule/<date>/...`,
  dependency `nba_lake/nbac_schedule`, same date), fetches every response of the date into
  memory, then lands them at once with `Lake.replace_prefix` (a date is never landed partially;
  re-landing replaces exactly that date's objects);
- records requests, bytes, games, retries and seconds as materialization metadata;
- turns a request that failed for good into a `dagster.Failure` naming the asset, partition
  date, endpoint, game id and HTTP status.
The schedule scraper itself fetches scheduleleaguev2 once per season in the run.
"""

import json
import time
from typing import Any

import pandas as pd

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    multi_asset,
)

from nba_backfill.assets.common import NBA_API_POOL, partition_keys
from nba_backfill.assets.core import content
from nba_backfill.assets.core.changes import previous_versions
from nba_backfill.assets.core.content import Change
from nba_backfill.assets.core.windows import window_text
from nba_backfill.data_versions import apply_partition_data_versions
from nba_backfill.assets.scrapers.fetch import (
    FetchError,
    FetchStats,
    fetch_date,
    fetch_season_schedule,
    season_label,
)
from nba_backfill.assets.scrapers.schedule import (
    ScheduleError,
    games_in_slice,
    schedule_key,
    scraped_games,
    slice_for_date,
)
from nba_backfill.assets.scrapers.specs import ScraperSpec
from nba_backfill.checks.lake import FILES_LANDED, files_landed, files_landed_spec
from nba_backfill.checks.results import Outcome, emit_check
from nba_backfill.layers import LAKE
from nba_backfill.partitions import DAILY_PARTITIONS, SCRAPER_BACKFILL_POLICY
from nba_backfill.resources.lake import Lake
from nba_backfill.resources.nba_api import NbaApiClient

SCHEDULE_ASSET = AssetKey([LAKE, "nbac_schedule"])
# Each partition's Dagster data version is the content version of its landed objects.
apply_partition_data_versions()
CODE_VERSION = "1"


def lake_key(name: str) -> AssetKey:
    return AssetKey([LAKE, name])


def api_failure(asset: str, exc: FetchError, landed: list[str]) -> Failure:
    """The step failure for a request that failed for good (names date, endpoint, game, status)."""
    error = exc.error
    game = exc.game_id or "none (date-level request)"
    status = error.status if error.status is not None else "none (no HTTP response)"
    description = (
        f"{asset} partition {exc.day}: endpoint {error.endpoint} failed for game {game} "
        f"with HTTP status {status}: {error.cause}. Nothing was landed for {exc.day}."
    )
    if landed:
        description += f" Dates landed earlier in this run: {', '.join(landed)}."
    return Failure(
        description=description,
        metadata={"partition": exc.day, "endpoint": error.endpoint, "game_id": game,
                  "status": str(status)},
    )


def read_schedule_slice(lake: Lake, day: str, asset: str) -> dict[str, Any]:
    key = schedule_key(day)
    try:
        return lake.read_json(key)
    except FileNotFoundError:
        raise Failure(
            description=f"{asset} partition {day}: the schedule slice {key} is not landed; "
            f"materialize nba_lake/nbac_schedule for {day} first."
        ) from None
    except ValueError as exc:
        raise Failure(description=f"{asset} partition {day}: {key} is not valid JSON: {exc}") from None


def _reads(deps: list[AssetDep]) -> str:
    """What partition D reads, derived from each dependency's mapping (`windows.window_text`)."""
    if not deps:
        return "**Reads, for partition D:** no asset (it fetches the season's schedule from the source)."
    lines = [f"- (read directly) ← {d.asset_key.to_user_string()}: {window_text(d.partition_mapping)}"
             " — the date's schedule slice: which games to fetch" for d in deps]
    return "**Reads, for partition D:**\n" + "\n".join(lines)


def _asset_specs(spec: ScraperSpec) -> list[AssetSpec]:
    deps = [] if spec.plan == "season_schedule" else [AssetDep(SCHEDULE_ASSET)]
    return [
        AssetSpec(
            key=lake_key(name),
            deps=deps,
            description=(
                f"{spec.description} Lands `{spec.lake_kind}/<date>/*.json` "
                f"(one object per {'game' if spec.plan.endswith('per_game') else 'request'}).\n\n"
                + _reads(deps)
            ),
            group_name=LAKE,
            kinds={"python", "json"},
            owners=["team:nba-data"],
            code_version=CODE_VERSION,
            metadata={"lake_prefix": f"{spec.lake_kind}/<date>/", "endpoint": spec.endpoint},
        )
        for name in spec.names
    ]


def fetch_one_date(spec: ScraperSpec, day: str, lake: Lake, nba_api: NbaApiClient,
                   stats: FetchStats, seasons: dict[str, dict[str, Any]]):
    """(objects to land, scraped games, files_landed outcome) of one date; FetchError on a
    request that failed for good. `seasons` caches scheduleleaguev2 per season for the run."""
    asset_label = "/".join(f"{LAKE}/{n}" for n in spec.names)
    if spec.plan == "season_schedule":
        season = season_label(day)
        if season not in seasons:
            seasons[season] = fetch_season_schedule(nba_api, spec, season, day, stats)
        try:
            sliced = slice_for_date(seasons[season], day)
            games = scraped_games(sliced)
        except ScheduleError as exc:
            raise Failure(description=f"{asset_label} partition {day}: scheduleleaguev2 {season} "
                                      f"response is malformed: {exc}") from None
        counts = {"games": len(games_in_slice(sliced)), "games_scraped": len(games)}
        return {"schedule.json": sliced}, games, Outcome(True, counts)
    try:
        games = scraped_games(read_schedule_slice(lake, day, asset_label))
    except ScheduleError as exc:
        raise Failure(description=f"{asset_label} partition {day}: {exc}") from None
    objects = fetch_date(nba_api, spec, day, games, stats)
    return objects, games, files_landed(spec.plan, spec.endpoint, objects, games)


def lake_change(lake: Lake, prefix: str, landing: dict[str, Any], previous: str | None) -> Change:
    """What landing `landing` under `prefix` changes: its content version against `previous`
    (the partition's last recorded one); when they differ, the objects landed there now are
    read to name the ones added, removed and changed."""
    bodies = {key: json.dumps(value, separators=(",", ":")).encode() for key, value in landing.items()}
    new = pd.Series({key[len(prefix):]: content.bytes_version({key: body}) for key, body in bodies.items()},
                    dtype="string")
    version = content.bytes_version(bodies)
    if previous is None or previous == version:
        return content.Change(version, previous, added=len(new) if previous is None else 0)
    old = pd.Series({key[len(prefix):]: content.bytes_version({key: lake.read_bytes(key)})
                     for key in lake.list_keys(prefix)}, dtype="string")
    names = lambda s: pd.Series(s.index, index=s.index, dtype="string")  # noqa: E731
    changed = content.change(pd.Series(new.to_numpy(), dtype="string"), previous, new_keys=names(new),
                             old_hashes=pd.Series(old.to_numpy(), dtype="string"), old_keys=names(old))
    return content.Change(version, previous, changed.added, changed.removed, changed.changed, changed.sample)


def build_scraper(spec: ScraperSpec):
    """The asset step of one scraper spec (one or two lake assets)."""
    keys = [lake_key(name) for name in spec.names]
    asset_label = "/".join(f"{LAKE}/{n}" for n in spec.names)

    @multi_asset(
        name=spec.op_name,
        specs=_asset_specs(spec),
        check_specs=[files_landed_spec(k) for k in keys],
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=SCRAPER_BACKFILL_POLICY,
        pool=NBA_API_POOL,
        can_subset=False,
    )
    def _scrape(context: AssetExecutionContext, lake: Lake, nba_api: NbaApiClient):
        started = time.monotonic()
        stats = FetchStats()
        days = partition_keys(context)
        seasons: dict[str, dict[str, Any]] = {}
        outcomes: dict[str, Outcome] = {}
        landed: list[str] = []
        games_total = 0
        previous = previous_versions(context.instance, keys[0], days)
        for day in days:
            before = (stats.requests, stats.bytes, stats.retries, time.monotonic())
            try:
                objects, games, outcome = fetch_one_date(spec, day, lake, nba_api, stats, seasons)
            except FetchError as exc:
                raise api_failure(asset_label, exc, landed) from exc
            prefix = spec.prefix(day)
            landing = {prefix + name: body for name, body in objects.items()}
            change = lake_change(lake, prefix, landing, previous[day])
            lake.replace_prefix(prefix, landing)
            landed.append(day)
            outcomes[day] = outcome
            games_total += len(games)
            figures = {"games": len(games), "objects": len(objects), "requests": stats.requests - before[0],
                       "retries": stats.retries - before[2], "bytes": stats.bytes - before[1],
                       "seconds": round(time.monotonic() - before[3], 3), "lake_prefix": prefix,
                       **change.metadata()}
            for key in keys:
                context.add_asset_metadata(figures, asset_key=key, partition_key=day)
            context.log.debug(f"{asset_label} {day}: landed {len(objects)} objects under {prefix} ({change.summary()})")
        context.log.info(f"{asset_label} {days[0]}..{days[-1]}: {len(days)} partitions, {games_total} games, "
                         f"{stats.requests} requests, {stats.retries} retries, {stats.bytes} bytes, "
                         f"{time.monotonic() - started:.1f} s")
        for key in keys:
            yield MaterializeResult(asset_key=key)
        for key in keys:
            yield emit_check(context, key, FILES_LANDED, outcomes, blocking=False)

    return _scrape
