"""Asset checks of the nba_analytics layer.

Per-partition checks are pure functions of the rows an analytics step just built for one date
(and of that step's inputs for the same date); the table factory
(`nba_backfill/assets/analytics/factory.py`) declares them as partitioned check specs and emits
one result per partition through `emit_check`. `TABLE_CHECKS` lists them per table.
`checks` holds the one season-level check (not partitioned): points per player-game of each
season in the warehouse against the band of the real seasons.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, asset_check

from nba_backfill.checks.results import SAMPLE_SIZE, Outcome
from nba_backfill.layers import ANALYTICS

if TYPE_CHECKING:  # the asset package imports this module; avoid the cycle at run time
    from nba_backfill.assets.analytics.frames import Inputs

# SPEC §7 per-table thresholds.
PLAYERS_PER_GAME_ALERT = (18, 36)  # expected 19–34; alert below 18 or above 36
PLAYERS_PER_TEAM_ALERT = 8  # fewer than 8 active players per team alerts
PGS_RANGES = {"points": (0, 80), "minutes_played": (0, 60), "assists": (0, 30), "total_rebounds": (0, 40)}
TOGS_RANGES = {"offensive_rating": (80, 160)}
TDGS_RANGES = {"defensive_rating": (80, 150)}
CROSS_PHASE_MIN_SHARE = 0.99  # PGS players vs raw box-score players per date
FINAL = 3  # nbac_schedule.game_status of a finished game


@dataclass(frozen=True)
class DayView:
    """What a per-partition check sees: the date, the rows written for it, the step's inputs."""

    day: dt.date
    rows: pd.DataFrame
    inputs: Inputs


@dataclass(frozen=True)
class AnalyticsCheck:
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[DayView], Outcome]


# --- pure check functions ----------------------------------------------------------------------


def keys_unique(rows: pd.DataFrame, key: list[str]) -> Outcome:
    dupes = rows[rows.duplicated(key, keep=False)]
    offending = sorted({"|".join(map(str, k)) for k in dupes[key].itertuples(index=False)})
    return Outcome(
        passed=not offending,
        counts={"rows": len(rows), "duplicate_rows": len(dupes)},
        offending=offending,
        message=f"{len(offending)} duplicated keys ({', '.join(key)})" if offending else "",
    )


def not_null(rows: pd.DataFrame, column: str, label: list[str]) -> Outcome:
    bad = rows[rows[column].isna()]
    offending = ["|".join(map(str, k)) for k in bad[label].itertuples(index=False)]
    return Outcome(
        passed=bad.empty,
        counts={"rows": len(rows), f"null_{column}": len(bad)},
        offending=offending,
        message=f"{len(bad)} rows with NULL {column}" if len(bad) else "",
    )


def value_ranges(rows: pd.DataFrame, ranges: dict[str, tuple[float, float]], label: list[str]) -> Outcome:
    counts: dict[str, int | float] = {"rows": len(rows)}
    offending: list[str] = []
    for column, (lo, hi) in ranges.items():
        values = pd.to_numeric(rows[column], errors="coerce")
        bad = rows[(values < lo) | (values > hi)]
        counts[f"{column}_out_of_range"] = len(bad)
        offending += [
            f"{'|'.join(map(str, k))} {column}={v}"
            for k, v in zip(bad[label].itertuples(index=False), bad[column])
        ]
    return Outcome(
        passed=not offending,
        counts=counts,
        offending=offending,
        message=f"{len(offending)} values outside {ranges}" if offending else "",
    )


def game_teams(game_id: str) -> tuple[str, str]:
    """(away, home) from a game code YYYYMMDD_AWAY_HOME."""
    parts = str(game_id).split("_")
    if len(parts) != 3:
        raise ValueError(f"game_id {game_id!r} is not YYYYMMDD_AWAY_HOME")
    return parts[1], parts[2]


def player_count_per_game(players: pd.DataFrame, games: list[str]) -> Outcome:
    """Critical (fails): a game of the date with 0 players, or with only one team present.
    Alerts (counted, not failing): games outside 18–36 players, teams below 8 players."""
    all_games = sorted(set(games) | set(players["game_id"].dropna().astype(str)))
    per_team = players.groupby(["game_id", "team_abbr"]).size()
    critical, below, above, thin_teams = [], 0, 0, 0
    for game in all_games:
        away, home = game_teams(game)
        counts = {team: int(per_team.get((game, team), 0)) for team in (away, home)}
        total = sum(counts.values())
        if total == 0:
            critical.append(f"{game}: no players")
        elif 0 in counts.values():
            missing = [t for t, n in counts.items() if n == 0]
            critical.append(f"{game}: only one team present ({missing[0]} missing)")
        below += total < PLAYERS_PER_GAME_ALERT[0]
        above += total > PLAYERS_PER_GAME_ALERT[1]
        thin_teams += sum(0 < n < PLAYERS_PER_TEAM_ALERT for n in counts.values())
    return Outcome(
        passed=not critical,
        counts={
            "games": len(all_games),
            "players": len(players),
            "games_below_18": below,
            "games_above_36": above,
            "teams_below_8": thin_teams,
        },
        offending=critical,
        message="; ".join(critical[:SAMPLE_SIZE]),
    )


def player_count_band(players: pd.DataFrame) -> Outcome:
    """SPEC §7 alert band: 18–36 players per game."""
    lo, hi = PLAYERS_PER_GAME_ALERT
    per_game = players.groupby("game_id").size()
    bad = per_game[(per_game < lo) | (per_game > hi)]
    return Outcome(
        passed=bad.empty,
        counts={"games": len(per_game), "games_outside_band": len(bad)},
        offending=[f"{g}: {n} players" for g, n in bad.items()],
        message=f"{len(bad)} games outside {lo}–{hi} players" if len(bad) else "",
    )


def team_points_consistent(players: pd.DataFrame, teams: pd.DataFrame) -> Outcome:
    """Sum of PGS points per team-game equals TOGS points_scored, for every team-game of either."""
    player_sum = players.groupby(["game_id", "team_abbr"])["points"].sum()
    team_pts = teams.set_index(["game_id", "team_abbr"])["points_scored"]
    keys = sorted(set(player_sum.index) | set(team_pts.index))
    offending = []
    for key in keys:
        a = player_sum.get(key)
        b = team_pts.get(key)
        if a is None or b is None or pd.isna(a) or pd.isna(b) or int(a) != int(b):
            offending.append(f"{key[0]} {key[1]}: players {a} vs team {b}")
    return Outcome(
        passed=not offending,
        counts={"team_games": len(keys), "mismatched": len(offending)},
        offending=offending,
        message="; ".join(offending[:3]),
    )


def cross_phase_players(players: pd.DataFrame, raw_players: pd.DataFrame) -> Outcome:
    """At least 99 % of the raw box score's (game, player) pairs are in PGS; lists the missing."""
    raw = set(zip(raw_players["game_id"].astype(str), raw_players["player_lookup"].astype(str)))
    have = set(zip(players["game_id"].astype(str), players["player_lookup"].astype(str)))
    missing = sorted(raw - have)
    share = 1.0 if not raw else (len(raw) - len(missing)) / len(raw)
    return Outcome(
        passed=share >= CROSS_PHASE_MIN_SHARE,
        counts={"raw_players": len(raw), "analytics_players": len(have), "missing": len(missing),
                "share_pct": round(100 * share, 2)},
        offending=[f"{g} {p}" for g, p in missing],
        message=f"{len(missing)} of {len(raw)} raw players missing ({100 * share:.2f} %)" if missing else "",
    )


def teams_complete(rows: pd.DataFrame, schedule: pd.DataFrame, team_column: str) -> Outcome:
    """Exactly two rows (home and away team) per Final scheduled game of the date, and no rows
    for games the schedule does not list as Final. Days without games pass (0 expected)."""
    finals = schedule[(schedule["game_status"] == FINAL) & ~schedule["is_all_star"].fillna(False).astype(bool)]
    expected = {
        str(g): {str(a), str(h)}
        for g, a, h in zip(finals["game_id"], finals["away_team_tricode"], finals["home_team_tricode"])
    }
    present = rows.groupby("game_id")[team_column].agg(list).to_dict() if len(rows) else {}
    offending = []
    for game, teams in sorted(expected.items()):
        got = [str(t) for t in present.get(game, [])]
        problems = [f"missing {t}" for t in sorted(teams - set(got))]
        problems += [f"{got.count(t)} rows for {t}" for t in sorted(set(got)) if got.count(t) > 1]
        problems += [f"unexpected team {t}" for t in sorted(set(got) - teams)]
        if problems:
            offending.append(f"{game}: {', '.join(problems)}")
    for game in sorted(set(present) - set(expected)):
        offending.append(f"{game}: not a Final game of the schedule")
    return Outcome(
        passed=not offending,
        counts={"final_games": len(expected), "rows": len(rows), "games_with_problems": len(offending)},
        offending=offending,
        message="; ".join(offending[:3]),
    )


# --- wiring per table --------------------------------------------------------------------------

_PGS_LABEL = ["game_id", "player_lookup"]


def _pgs_checks() -> tuple[AnalyticsCheck, ...]:
    return (
        AnalyticsCheck(
            "player_count_per_game",
            "SPEC §7: every game of the date (from TOGS and PGS) has players of both teams; a "
            "game with 0 players or one team only is critical. Metadata counts the alerts "
            "(games outside 18–36 players, teams below 8).",
            True,
            lambda v: player_count_per_game(v.rows, list(v.inputs.on("team_offense", v.day)["game_id"].astype(str))),
        ),
        AnalyticsCheck(
            "player_count_band",
            "SPEC §7 alert: games with fewer than 18 or more than 36 players.",
            False,
            lambda v: player_count_band(v.rows),
        ),
        AnalyticsCheck(
            "player_lookup_not_null",
            "Every row has a player_lookup.",
            True,
            lambda v: not_null(v.rows, "player_lookup", ["game_id", "player_full_name"]),
        ),
        AnalyticsCheck(
            "keys_unique",
            "One row per (game_date, player_lookup).",
            True,
            lambda v: keys_unique(v.rows, ["game_date", "player_lookup"]),
        ),
        AnalyticsCheck(
            "value_ranges",
            "SPEC §7: points 0–80, minutes 0–60, assists 0–30, rebounds 0–40.",
            False,
            lambda v: value_ranges(v.rows, PGS_RANGES, _PGS_LABEL),
        ),
        AnalyticsCheck(
            "team_points_consistent",
            "Sum of player points per team-game equals team_offense_game_summary.points_scored.",
            True,
            lambda v: team_points_consistent(v.rows, v.inputs.on("team_offense", v.day)),
        ),
        AnalyticsCheck(
            "cross_phase_players",
            "At least 99 % of nba_raw.nbac_player_boxscore players of the date are in PGS.",
            True,
            lambda v: cross_phase_players(v.rows, v.inputs.on("player_boxscore", v.day)),
        ),
    )


def _team_checks(team_column: str, ranges: dict) -> tuple[AnalyticsCheck, ...]:
    return (
        AnalyticsCheck(
            "teams_complete",
            "Exactly 2 rows per Final game of nba_raw.nbac_schedule for the date; names the "
            "missing game and team.",
            True,
            lambda v: teams_complete(v.rows, v.inputs.on("schedule", v.day), team_column),
        ),
        AnalyticsCheck(
            "keys_unique",
            f"One row per (game_date, {team_column}).",
            True,
            lambda v: keys_unique(v.rows, ["game_date", team_column]),
        ),
        AnalyticsCheck(
            "rating_ranges",
            "SPEC §7: " + ", ".join(f"{c} {lo}–{hi}" for c, (lo, hi) in ranges.items()) + ".",
            False,
            lambda v: value_ranges(v.rows, ranges, ["game_id", team_column]),
        ),
    )


def _upcoming_checks(key: list[str]) -> tuple[AnalyticsCheck, ...]:
    return (
        AnalyticsCheck(
            "keys_unique",
            f"One row per ({', '.join(key)}).",
            True,
            lambda v: keys_unique(v.rows, key),
        ),
    )


TABLE_CHECKS: dict[str, tuple[AnalyticsCheck, ...]] = {
    "player_game_summary": _pgs_checks(),
    "team_offense_game_summary": _team_checks("team_abbr", TOGS_RANGES),
    "team_defense_game_summary": _team_checks("defending_team_abbr", TDGS_RANGES),
    "upcoming_player_game_context": _upcoming_checks(["game_date", "player_lookup"]),
    "upcoming_team_game_context": _upcoming_checks(["game_date", "team_abbr"]),
}


# --- season-level distribution check -----------------------------------------------------------

DISTRIBUTION_FILE = (
    Path(__file__).resolve().parents[1] / "source" / "data" / "distribution_summary_by_season.json"
)
"""Per-season summary of the real 2020-21..2024-25 player game logs, bundled with the package."""
BAND_TOLERANCE = 1.0  # points: allowed distance of a season mean outside the real seasons' range
MIN_PLAYER_GAMES = 1000  # seasons with fewer played player-games in PGS are not judged yet


@lru_cache(maxsize=1)
def points_band() -> tuple[float, float]:
    """(low, high) mean points per played player-game: the real seasons' min/max ± tolerance."""
    summary = json.loads(DISTRIBUTION_FILE.read_text())
    means = [season["stats_MIN_gt0"]["PTS"]["mean"] for season in summary.values()]
    return min(means) - BAND_TOLERANCE, max(means) + BAND_TOLERANCE


def season_points_outcome(per_season: pd.DataFrame) -> tuple[bool, dict, list[str]]:
    """per_season: season_year, player_games, mean_points → (passed, metadata, offending)."""
    low, high = points_band()
    judged = per_season[per_season["player_games"] >= MIN_PLAYER_GAMES]
    offending = [
        f"{int(r.season_year)}: mean {r.mean_points:.2f} over {int(r.player_games)} player-games"
        for r in judged.itertuples()
        if not low <= r.mean_points <= high
    ]
    meta = {
        "band_low": round(low, 3),
        "band_high": round(high, 3),
        "seasons_judged": len(judged),
        "seasons_seen": len(per_season),
        "observed": json.dumps(
            {int(r.season_year): round(float(r.mean_points), 3) for r in per_season.itertuples()}
        ),
    }
    return not offending, meta, offending


@asset_check(
    asset=[ANALYTICS, "player_game_summary"],
    name="points_distribution_by_season",
    description="Mean points per played player-game of every season in PGS (≥ 1,000 "
    "player-games) lies within the band of the real 2020-21..2024-25 seasons ± 1 point.",
    required_resource_keys={"warehouse"},
)
def points_distribution_by_season(context) -> AssetCheckResult:
    warehouse = context.resources.warehouse
    if not warehouse.table_exists(ANALYTICS, "player_game_summary"):
        return AssetCheckResult(passed=False, description="nba_analytics.player_game_summary does not exist")
    per_season = warehouse.query(
        "select season_year, count(*) as player_games, avg(points) as mean_points "
        "from nba_analytics.player_game_summary where minutes_played > 0 "
        "group by season_year order by season_year"
    )
    passed, meta, offending = season_points_outcome(per_season)
    if offending:
        meta["offending_sample"] = "; ".join(offending[:SAMPLE_SIZE])
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.WARN,
        metadata=meta,
        description="; ".join(offending) if offending else None,
    )


checks: list = [points_distribution_by_season]
