"""History windows shared by the two "upcoming" context tables (SPEC §3.4, §3.5).

Every window ends the day before the target date and is cut at the season opener
(`partitions.window_start`): a previous-season game never counts. Completeness follows SPEC §4:
expected = the team's Final games in the window according to the schedule, actual = those games
present in the analytics history, pct = actual/expected·100 (expected 0 counts as 100 %).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.assets.analytics.frames import Inputs, newest
from nba_backfill.checks.analytics import FINAL
from nba_backfill.partitions import window_start
from nba_backfill.seasons import Season, season_for_date

HISTORY_DAYS = 30  # SPEC §3.4: PGS of the 30 days before the target date
PRODUCTION_READY_PCT = 70.0  # SPEC §4/§7: production-ready at 70 %
DAY_WINDOWS = {"l7d": 7, "l14d": 14, "l30d": 30}
GAME_WINDOWS = {"l5": 5, "l10": 10}


def season_of(day: dt.date) -> Season:
    season = season_for_date(day)
    if season is None:
        raise ValueError(f"{day} is outside every season of nba_backfill.seasons")
    return season


def history_bounds(day: dt.date, days_back: int = HISTORY_DAYS) -> tuple[dt.date, dt.date]:
    """(first, last) day of a history window ending before `day`, cut at the opener."""
    return window_start(day, days_back), day - dt.timedelta(days=1)


def team_schedule(schedule: pd.DataFrame) -> pd.DataFrame:
    """One row per team per scheduled game (All-Star games excluded): game_id, nba_game_id,
    game_date, team_abbr, opponent_team_abbr, home_game, game_status, team_score, opp_score."""
    games = newest(schedule, ["game_id"])
    games = games[~games["is_all_star"].fillna(False).astype(bool)]
    cols = ["game_id", "nba_game_id", "game_date", "game_status"]
    home = games[cols].assign(
        team_abbr=games["home_team_tricode"], opponent_team_abbr=games["away_team_tricode"], home_game=True,
        team_score=games["home_team_score"], opp_score=games["away_team_score"],
    )
    away = games[cols].assign(
        team_abbr=games["away_team_tricode"], opponent_team_abbr=games["home_team_tricode"], home_game=False,
        team_score=games["away_team_score"], opp_score=games["home_team_score"],
    )
    out = pd.concat([home, away], ignore_index=True)
    return out.sort_values(["team_abbr", "game_date"], kind="stable").reset_index(drop=True)


def team_schedule_between(inputs: Inputs, first: dt.date, last: dt.date) -> pd.DataFrame:
    """`team_schedule` of the schedule rows with first ≤ game_date ≤ last: built once per step
    from the whole schedule input and cut by date (a game's rows share its date, so the cut
    commutes with the newest-row dedup and the stable sort)."""
    teams = inputs.derived("schedule", team_schedule)
    dates = teams["game_date"].to_numpy(dtype="datetime64[ns]")
    keep = (dates >= np.datetime64(first, "ns")) & (dates <= np.datetime64(last, "ns"))
    return teams[keep].reset_index(drop=True)


def finals_before(team_games: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The Final team-games with first ≤ game_date ≤ last."""
    dates = team_games["game_date"]
    mask = (team_games["game_status"] == FINAL) & (dates >= pd.Timestamp(first)) & (dates <= pd.Timestamp(last))
    return team_games[mask]


def window_completeness(
    day: dt.date, team_games: pd.DataFrame, present: set[tuple[str, str]], windows: dict[str, int]
) -> pd.DataFrame:
    """Per team: expected/actual/pct for day windows (`l7d` = 7 days) or game windows (`l5`)
    depending on the keys. `present` holds the (game_id, team_abbr) pairs found in history."""
    first30, last = history_bounds(day)
    finals = finals_before(team_games, first30, last).sort_values(
        ["team_abbr", "game_date"], ascending=[True, False], kind="stable"
    )
    codes, teams = pd.factorize(finals["team_abbr"])  # teams in order of first appearance
    present_games = np.array([(str(g), str(t)) in present for g, t in zip(finals["game_id"], finals["team_abbr"])],
                             dtype=float)
    rank = finals.groupby("team_abbr").cumcount().to_numpy()
    dates = finals["game_date"].to_numpy(dtype="datetime64[ns]")
    out = {"team_abbr": np.asarray(teams, dtype=object)}
    for name, size in windows.items():
        if name in GAME_WINDOWS:
            in_window = rank < size
        else:
            in_window = dates >= np.datetime64(window_start(day, size), "ns")
        expected = np.bincount(codes[in_window], minlength=len(teams)).astype(np.int64)
        actual = np.bincount(codes[in_window], weights=present_games[in_window], minlength=len(teams)).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = 100.0 * actual / np.where(expected > 0, expected, np.nan)
        pct = np.round(np.minimum(ratio, 100.0), 2)
        pct = np.where(np.isnan(pct), 100.0, pct)
        out[f"{name}_expected"] = expected
        out[f"{name}_actual"] = actual
        out[f"{name}_completeness_pct"] = pct
        out[f"{name}_is_complete"] = pct >= PRODUCTION_READY_PCT
    return pd.DataFrame(out)[_completeness_columns(windows)]


def complete_defaults(frame: pd.DataFrame, windows: dict[str, int]) -> pd.DataFrame:
    """Teams without a Final game in the window: expected 0 → 100 % complete (SPEC §4)."""
    for name in windows:
        frame[f"{name}_expected"] = frame[f"{name}_expected"].fillna(0)
        frame[f"{name}_actual"] = frame[f"{name}_actual"].fillna(0)
        frame[f"{name}_completeness_pct"] = frame[f"{name}_completeness_pct"].fillna(100.0)
        frame[f"{name}_is_complete"] = frame[f"{name}_is_complete"].astype("boolean").fillna(True).astype(bool)
    return frame


def _completeness_columns(windows: dict[str, int]) -> list[str]:
    cols = ["team_abbr"]
    for name in windows:
        cols += [f"{name}_expected", f"{name}_actual", f"{name}_completeness_pct", f"{name}_is_complete"]
    return cols


def last_n_mean(history: pd.DataFrame, entity: str, value: str, n: int) -> pd.Series:
    """Mean of `value` over each entity's last `n` rows (history sorted newest first)."""
    recent = history.groupby(entity, sort=False).head(n)
    return recent.groupby(entity)[value].mean()


def newest_first(history: pd.DataFrame) -> pd.DataFrame:
    return history.sort_values("game_date", ascending=False, kind="stable")
