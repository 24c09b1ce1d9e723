"""Asset checks of the nba_lake layer.

`files_landed` (WARN) compares, per date, the games the landed objects cover with the scraped
games of the date's schedule. It is computed inside the scraper step from the objects it has just
landed (no re-read). It is a warning, not a block: the blocking completeness gate is the raw
layer's `games_complete`, which sees the parsed rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetKey

from nba_backfill.assets.scrapers.schedule import ScheduledGame
from nba_backfill.checks.results import Outcome, check_spec

checks: list = []

FILES_LANDED = "files_landed"


def files_landed_spec(asset_key: AssetKey) -> AssetCheckSpec:
    return check_spec(
        asset_key,
        FILES_LANDED,
        "Every scraped (Final) game of the date's schedule is covered by the landed objects.",
        blocking=False,
    )


def _bdl_pair(item: dict[str, Any]) -> tuple[str, str]:
    return item["home_team"]["abbreviation"], item["visitor_team"]["abbreviation"]


def has_game_data(body: Any) -> bool:
    """False for stats.nba.com's "no box score" answers (HTTP 200 with team ids 0 / empty row
    sets) and for a play-by-play without actions."""
    if not isinstance(body, Mapping):
        return False
    if "resultSets" in body:
        return any(rs.get("rowSet") for rs in body["resultSets"])
    if "game" in body:
        return bool(body["game"].get("actions"))
    roots = [v for k, v in body.items() if k.startswith("boxScore")]
    return bool(roots) and all(r.get("homeTeamId") or r.get("awayTeamId") for r in roots)


def covered_games(plan: str, endpoint: str, objects: Mapping[str, Any],
                  games: list[ScheduledGame]) -> set[str]:
    """NBA game ids of `games` that the landed objects (name -> JSON) contain."""
    if plan in ("stats_per_game", "cdn_per_game"):
        names = {name.removesuffix(".json") for name, body in objects.items() if has_game_data(body)}
        return {g.nba_game_id for g in games if g.nba_game_id in names}
    if plan == "gamelog_per_season_type":
        ids: set[str] = set()
        for body in objects.values():
            result = body["resultSets"][0]
            col = result["headers"].index("GAME_ID")
            ids.update(str(row[col]) for row in result["rowSet"])
        return {g.nba_game_id for g in games if g.nba_game_id in ids}
    items = [item for body in objects.values() for item in body.get("data") or []]
    if endpoint == "stats":  # player lines: the nested game carries only balldontlie team ids
        pairs = {(i["game"]["id"], i["team"]["abbreviation"]) for i in items}
        teams_by_game: dict[Any, set[str]] = {}
        for gid, abbr in pairs:
            teams_by_game.setdefault(gid, set()).add(abbr)
        covered = {frozenset(t) for t in teams_by_game.values()}
        return {g.nba_game_id for g in games
                if frozenset({g.home_tricode, g.away_tricode}) in covered}
    landed_pairs = {_bdl_pair(i) for i in items}
    return {g.nba_game_id for g in games if (g.home_tricode, g.away_tricode) in landed_pairs}


def files_landed(plan: str, endpoint: str, objects: Mapping[str, Any],
                 games: list[ScheduledGame]) -> Outcome:
    """Outcome for one date: objects landed vs scraped games expected."""
    try:
        covered = covered_games(plan, endpoint, objects, games)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        return Outcome(False, {"games_expected": len(games), "objects_landed": len(objects)},
                       message=f"landed objects do not have the expected shape: {exc!r}")
    missing = sorted(g.nba_game_id for g in games if g.nba_game_id not in covered)
    return Outcome(
        passed=not missing,
        counts={"games_expected": len(games), "games_landed": len(covered),
                "objects_landed": len(objects)},
        offending=missing,
        message=f"{len(missing)} scheduled games not landed" if missing else "",
    )
