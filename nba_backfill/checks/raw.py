"""Asset checks of the nba_raw layer: pure per-date check functions and their specs.

Every raw asset computes its checks inside its own step from the frame it has just built and the
date's schedule (`nba_raw.nbac_schedule`), and logs one result per partition (`emit_check`).
The expected games of a date are the schedule's Final games of a counted season type
(`nba_backfill.assets.scrapers.schedule.SCRAPED_GAME_TYPES`) — the same rule that decides what
the scrapers fetch. Checks:
- `games_complete` (blocking): every expected game is present, no game outside the schedule.
- `teams_complete` (blocking, team/player tables): team tables have exactly the home and the away
  row of every game; player tables have at least MIN_PLAYERS_PER_TEAM players who played per
  team. (Real data has team-games with 6 and 7 players — e.g. 0022000133 — so "≥ 8" would fail
  real games; 5 is the number a team needs on the floor.)
- `points_match` (blocking, tables with points): player points summed per team, team points,
  or the play-by-play's final score equal the schedule's final score of that team.
- `keys_unique` / `keys_not_null` (blocking): the table's key columns.
- `points_distribution` (WARN, player box scores): the date's mean points and minutes per
  player-game (minutes > 0) against the real per-season summary bundled with the offline source.
Every table also carries the core's blocking `partition_ok` (`nba_backfill.assets.core`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pandas as pd

from nba_backfill.assets.scrapers.schedule import FINAL_STATUS, SCRAPED_GAME_TYPES
from nba_backfill.checks.results import CheckDef, Outcome

checks: list = []

GAMES_COMPLETE = "games_complete"
TEAMS_COMPLETE = "teams_complete"
POINTS_MATCH = "points_match"
KEYS_UNIQUE = "keys_unique"
KEYS_NOT_NULL = "keys_not_null"
POINTS_DISTRIBUTION = "points_distribution"
MIN_PLAYERS_PER_TEAM = 5
DISTRIBUTION_Z_MAX = 5.0
"""Largest |z| of a date's mean (points or minutes per player-game) vs the season summary.
Over all 792 dates of the bundled 2020-21..2024-25 logs the largest |z| is 3.1 (points) and
4.0 (minutes), so 5.0 never flags a real date; zeroed points give |z| = 11 on a 4-game date
(85 player-games) and more on bigger dates."""

DISTRIBUTION_SUMMARY = (
    Path(__file__).resolve().parents[1] / "source" / "data" / "distribution_summary_by_season.json"
)


def raw_check_defs(*, grain: str, keys: Sequence[str], not_null: Sequence[str],
                   points: str | None, distribution: bool) -> tuple[CheckDef, ...]:
    """The checks of one raw table (grain: game, team, player or event)."""
    defs = [
        CheckDef(KEYS_UNIQUE, f"One row per ({', '.join(keys)}).", blocking=True),
        CheckDef(KEYS_NOT_NULL, f"No NULL in {', '.join(not_null)}.", blocking=True),
    ]
    if grain != "game":
        defs.append(CheckDef(GAMES_COMPLETE,
                             "Every Final game of the date's schedule is present and no other game.",
                             blocking=True))
    if grain == "team":
        defs.append(CheckDef(TEAMS_COMPLETE, "Exactly the home and the away team row for every game.",
                             blocking=True))
    if grain == "player":
        defs.append(CheckDef(TEAMS_COMPLETE,
                             f"Both teams of every game with at least {MIN_PLAYERS_PER_TEAM} players who played.",
                             blocking=True))
    if points:
        defs.append(CheckDef(
            POINTS_MATCH,
            f"{points} per team (summed over players; final score for play-by-play) equals the "
            "schedule's final score.", blocking=True))
    if distribution:
        defs.append(CheckDef(
            POINTS_DISTRIBUTION,
            "Mean points and minutes per player-game within "
            f"{DISTRIBUTION_Z_MAX} standard errors of the season's real distribution.",
            blocking=False))
    return tuple(defs)


# --- the schedule's view of a date ------------------------------------------------------------

def expected_games(schedule_day: pd.DataFrame) -> pd.DataFrame:
    """Schedule rows of the games that must have box scores (Final, counted season type)."""
    if schedule_day.empty:
        return schedule_day
    mask = (schedule_day["game_status"] == FINAL_STATUS) & schedule_day["season_type"].isin(
        SCRAPED_GAME_TYPES)
    return schedule_day[mask.fillna(False).astype(bool)]


def _team_scores(expected: pd.DataFrame) -> dict[tuple[str, str], int | None]:
    out: dict[tuple[str, str], int | None] = {}
    for g in expected.itertuples():
        out[(g.game_id, g.home_team_tricode)] = _int_or_none(g.home_team_score)
        out[(g.game_id, g.away_team_tricode)] = _int_or_none(g.away_team_score)
    return out


def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


# --- checks ----------------------------------------------------------------------------------

def games_complete(frame: pd.DataFrame, expected: pd.DataFrame) -> Outcome:
    want = set(expected["game_id"]) if len(expected) else set()
    have = set(frame["game_id"].dropna()) if len(frame) else set()
    missing = sorted(want - have)
    unexpected = sorted(have - want)
    offending = missing + [f"{g} (not in schedule)" for g in unexpected]
    parts = []
    if missing:
        parts.append(f"missing games: {', '.join(missing[:10])}")
    if unexpected:
        parts.append(f"games not in the schedule: {', '.join(unexpected[:10])}")
    return Outcome(
        passed=not offending,
        counts={"games_expected": len(want), "games_present": len(have & want),
                "games_missing": len(missing), "games_unexpected": len(unexpected)},
        offending=offending,
        message="; ".join(parts),
    )


def teams_complete(frame: pd.DataFrame, expected: pd.DataFrame, grain: str) -> Outcome:
    offending: list[str] = []
    if grain == "team":
        counts = frame.groupby("game_id")["team_abbr"].agg(list) if len(frame) else pd.Series(dtype=object)
        for g in expected.itertuples():
            teams = sorted(counts.get(g.game_id, []))
            want = sorted([g.home_team_tricode, g.away_team_tricode])
            if teams != want:
                offending.append(f"{g.game_id}: teams {teams or 'none'} (want {want})")
        return Outcome(not offending, {"games_checked": len(expected), "team_rows": len(frame)},
                       offending, f"{len(offending)} games without exactly their 2 team rows"
                       if offending else "")
    played = frame[frame["played"].fillna(False).astype(bool)] if "played" in frame else frame
    sizes = played.groupby(["game_id", "team_abbr"]).size() if len(played) else pd.Series(dtype=int)
    smallest = None
    for g in expected.itertuples():
        for team in (g.home_team_tricode, g.away_team_tricode):
            n = int(sizes.get((g.game_id, team), 0))
            smallest = n if smallest is None else min(smallest, n)
            if n < MIN_PLAYERS_PER_TEAM:
                offending.append(f"{g.game_id} {team}: {n} players")
    counts = {"team_games_checked": 2 * len(expected)}
    if smallest is not None:
        counts["min_players_per_team"] = smallest
    return Outcome(not offending, counts, offending,
                   f"{len(offending)} team-games with fewer than {MIN_PLAYERS_PER_TEAM} players"
                   if offending else "")


def points_match(frame: pd.DataFrame, expected: pd.DataFrame, grain: str, column: str) -> Outcome:
    scores = _team_scores(expected)
    observed: dict[tuple[str, str], float] = {}
    if len(frame):
        if grain == "event":
            last = frame.sort_values("event_sequence").groupby("game_id").tail(1)
            home_away = {g.game_id: (g.home_team_tricode, g.away_team_tricode)
                         for g in expected.itertuples()}
            for r in last.itertuples():
                if r.game_id in home_away:
                    home, away = home_away[r.game_id]
                    observed[(r.game_id, home)] = r.score_home
                    observed[(r.game_id, away)] = r.score_away
        else:
            sums = frame.groupby(["game_id", "team_abbr"])[column].sum(min_count=1)
            observed = {k: v for k, v in sums.items()}
    present = {game for game, _ in observed}
    offending = []
    for key, score in sorted(scores.items()):
        got = observed.get(key)
        if key[0] not in present:
            continue  # a missing game is games_complete's failure, not a points mismatch
        if score is None or got is None or pd.isna(got) or int(got) != score:
            offending.append(f"{key[0]} {key[1]}: {column} {_fmt(got)} != schedule {_fmt(score)}")
    return Outcome(not offending, {"team_games_compared": len(scores), "mismatches": len(offending)},
                   offending, f"{len(offending)} team-games whose points differ from the schedule"
                   if offending else "")


def _fmt(value) -> str:
    return "NULL" if value is None or (isinstance(value, float) and math.isnan(value)) else str(int(value))


def keys_unique(frame: pd.DataFrame, keys: Sequence[str]) -> Outcome:
    keys = list(keys)
    dupes = frame[frame.duplicated(keys, keep=False)] if len(frame) else frame
    offending = sorted({"/".join(str(v) for v in row) for row in dupes[keys].itertuples(index=False)})
    return Outcome(not offending, {"rows": len(frame), "duplicate_rows": len(dupes)}, offending,
                   f"{len(offending)} duplicated keys ({', '.join(keys)})" if offending else "")


def keys_not_null(frame: pd.DataFrame, columns: Sequence[str]) -> Outcome:
    nulls = {c: int(frame[c].isna().sum()) for c in columns} if len(frame) else {}
    offending = [f"{c}: {n} NULL" for c, n in nulls.items() if n]
    return Outcome(not offending, {"rows": len(frame), **{f"null_{c}": n for c, n in nulls.items()}},
                   offending, "; ".join(offending))


@cache
def distribution_summary() -> dict:
    """Per-season reference distribution of the real player game logs (bundled file)."""
    return json.loads(DISTRIBUTION_SUMMARY.read_text())


def season_label(season_year: int) -> str:
    return f"{season_year}-{str(season_year + 1)[2:]}"


def points_distribution(frame: pd.DataFrame, season_year: int | None, points: str,
                        minutes: str, summary: dict | None = None) -> Outcome:
    """Mean points and minutes per player-game (minutes > 0) vs the season's summary."""
    summary = distribution_summary() if summary is None else summary
    played = frame[pd.to_numeric(frame[minutes], errors="coerce").fillna(0) > 0] if len(frame) else frame
    n = len(played)
    if n == 0:
        return Outcome(True, {"player_games": 0}, message="no player-games to compare")
    label = season_label(int(season_year)) if season_year is not None else ""
    reference = summary.get(label, {}).get("stats_MIN_gt0")
    if reference is None:
        return Outcome(True, {"player_games": n}, message=f"no reference summary for season {label!r}")
    counts: dict[str, float] = {"player_games": n}
    offending = []
    for column, stat in ((points, "PTS"), (minutes, "MIN")):
        values = pd.to_numeric(played[column], errors="coerce")
        mean, sd = reference[stat]["mean"], reference[stat]["std"]
        z = (float(values.mean()) - mean) / (sd / math.sqrt(n))
        counts.update({
            f"{stat.lower()}_mean_observed": round(float(values.mean()), 3),
            f"{stat.lower()}_mean_expected": mean,
            f"{stat.lower()}_p50_observed": float(values.median()),
            f"{stat.lower()}_p50_expected": reference[stat]["50%"],
            f"{stat.lower()}_p95_observed": float(values.quantile(0.95)),
            f"{stat.lower()}_p95_expected": reference[stat]["95%"],
            f"{stat.lower()}_z": round(z, 2),
        })
        if abs(z) > DISTRIBUTION_Z_MAX or (values < 0).any():
            offending.append(f"{column}: mean {values.mean():.2f} vs {mean} (z={z:.1f})")
    return Outcome(not offending, counts, offending,
                   f"distribution off for season {label}: {'; '.join(offending)}" if offending else "")
