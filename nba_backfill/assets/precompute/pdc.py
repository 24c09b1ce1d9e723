"""nba_precompute.player_daily_cache (PDC) — SPEC §4.4.

One row per player per cache date: UPGC's players of the date plus every player seen in PGS in
the 30 days before it. Values: points averages over the last 5 and 10 played games and the
season, spread and minutes/usage/true-shooting over the last 10, team pace and offensive rating
over the team's last 10 games (TOGS), workload counts over 7/14 days, zone profile (PSZA) and the
date's composite adjustment (PCF).

Windows: last 5/10 played games within `PLAYER_RECENT_40_DAYS`; 7/14-day counts, lengthened by
the number of league-wide no-game days just before the date (All-Star break); team last 10 within
`PREVIOUS_30_DAYS`. Season-to-date values (points_avg_season, games_played_season,
player_usage_rate_season, minutes_avg_season, team_win_pct_season) come from the same-date
season accumulators `player_season_totals` / `team_season_totals` (see season_totals.py: a
self-dependent cumulative state instead of an unbounded mapping).

Skip rules: fewer than 3 season games (INSUFFICIENT_DATA) or no game in the last 30 days
(STALE_DATA). early_season_flag: fewer than 10 season games. Completeness per window (L5, L10
games; L7d, L14d days) against the team schedule; cache_quality_score = L5 completeness,
is_production_ready = all four windows ≥ 70 %. The standard completeness columns report the L10
window. Bootstrap days (0–13) write no rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute.completeness import TeamCalendar, player_games_window
from nba_backfill.assets.precompute.factory import Day, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import (
    PGS, SCHEDULE, TOGS, UPGC, Histories, active_games, history_start, numeric, precompute_table, records,
    value,
)
from nba_backfill.assets.tables import Col
from nba_backfill.partitions import PLAYER_RECENT_40_DAYS, PREVIOUS_30_DAYS

PSZA_IN = precompute_table(
    "player_shot_zone_analysis", "analysis_date",
    ("player_lookup", "primary_scoring_zone", "paint_rate_last_10", "three_pt_rate_last_10"),
)
PCF_IN = precompute_table("player_composite_factors", "game_date", ("player_lookup", "total_composite_adjustment"))
PLAYER_TOTALS_IN = precompute_table(
    "player_season_totals", "as_of_date",
    ("player_lookup", "games_played", "points_sum", "minutes_sum", "usage_rate_sum", "usage_rate_games"),
)
TEAM_TOTALS_IN = precompute_table("team_season_totals", "as_of_date", ("team_abbr", "games_played", "wins"))

COLS = (
    Col("cache_date", "DATE"),
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING"),
    Col("team_abbr", "STRING"),
    Col("points_avg_last_5", "FLOAT64"),
    Col("points_avg_last_10", "FLOAT64"),
    Col("points_avg_season", "FLOAT64"),
    Col("points_std_last_10", "FLOAT64", "Sample standard deviation"),
    Col("minutes_avg_last_10", "FLOAT64"),
    Col("minutes_avg_season", "FLOAT64"),
    Col("usage_rate_last_10", "FLOAT64"),
    Col("ts_pct_last_10", "FLOAT64", "PTS / (2·(FGA + 0.44·FTA)) over the last 10"),
    Col("games_played_season", "INT64"),
    Col("player_usage_rate_season", "FLOAT64"),
    Col("team_pace_last_10", "FLOAT64"),
    Col("team_off_rating_last_10", "FLOAT64"),
    Col("team_win_pct_season", "FLOAT64"),
    Col("games_in_last_7_days", "INT64"),
    Col("games_in_last_14_days", "INT64"),
    Col("minutes_in_last_7_days", "FLOAT64"),
    Col("minutes_in_last_14_days", "FLOAT64"),
    Col("back_to_backs_last_14_days", "INT64"),
    Col("avg_minutes_per_game_last_7", "FLOAT64"),
    Col("day_window_extension_days", "INT64", "No-game days just before the date added to 7/14-day windows"),
    Col("primary_scoring_zone", "STRING"),
    Col("paint_rate_last_10", "FLOAT64"),
    Col("three_pt_rate_last_10", "FLOAT64"),
    Col("assisted_rate_last_10", "FLOAT64"),
    Col("player_age", "INT64", "NULL: needs rosters, which we do not scrape"),
    Col("composite_adjustment", "FLOAT64", "PCF total_composite_adjustment of the date (NULL: no game)"),
    Col("l5_completeness_pct", "FLOAT64"),
    Col("l10_completeness_pct", "FLOAT64"),
    Col("l7d_completeness_pct", "FLOAT64"),
    Col("l14d_completeness_pct", "FLOAT64"),
    Col("cache_quality_score", "FLOAT64", "= L5 completeness"),
    Col("cache_quality_tier", "STRING", "gold/silver/bronze/poor/unusable (95/75/50/25)"),
)
NUMERIC = ("points", "minutes_played", "fg_attempts", "fg_makes", "ft_attempts", "assisted_fg_makes", "usage_rate")


def no_game_days_before(day: dt.date, game_dates: set[dt.date], opener: dt.date) -> int:
    """League-wide no-game days immediately before `day` (stops at the opener)."""
    n, d = 0, day - dt.timedelta(days=1)
    while d >= opener and d not in game_dates:
        n += 1
        d -= dt.timedelta(days=1)
    return n


def back_to_backs(dates: list[dt.date]) -> int:
    ds = sorted(dates)
    return sum(1 for a, b in zip(ds, ds[1:]) if (b - a).days == 1)


def ts_pct(points: float, fga: float, fta: float) -> float | None:
    den = 2 * (fga + 0.44 * fta)
    return points / den if den else None


def team_last10(togs: pd.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """Team -> (mean pace, mean offensive rating) over its last 10 games in the frame."""
    out = {}
    for team, g in togs.sort_values(["team_abbr", "game_date"]).groupby("team_abbr", sort=False):
        last = g.tail(10)
        out[team] = (rules.mean(list(last["pace"])), rules.mean(list(last["offensive_rating"])))
    return out


def compute(day: Day) -> pd.DataFrame:
    f = day.frames
    pgs_all = f["pgs"]
    hist = Histories(numeric(active_games(pgs_all), NUMERIC), "player_lookup",
                     [*NUMERIC, "team_abbr", "universal_player_id"])
    team_form = team_last10(numeric(f["togs"], ["pace", "offensive_rating"]))
    sched = day.team_games()
    calendar = TeamCalendar(sched, pgs_all, "team_abbr")
    opener = day.season.opener
    start = history_start(day.day, day.season, PLAYER_RECENT_40_DAYS)
    ext = no_game_days_before(day.day, set(sched["game_date"]), opener)
    upgc = records(f["upgc"], "player_lookup", ["team_abbr"])
    totals = records(f["player_totals"], "player_lookup", PLAYER_TOTALS_IN.required)
    team_totals = records(f["team_totals"], "team_abbr", TEAM_TOTALS_IN.required)
    shots = records(f["psza"], "player_lookup", PSZA_IN.required)
    pcf = records(f["pcf"], "player_lookup", PCF_IN.required)
    recent_cut = max(day.day - dt.timedelta(days=rules.PDC_STALE_DAYS), opener)
    start7 = max(day.day - dt.timedelta(days=7 + ext), opener)
    start14 = max(day.day - dt.timedelta(days=14 + ext), opener)
    rows = []
    for player in sorted(set(upgc) | set(hist.entities())):
        g = hist.get(player)
        total = totals.get(player)
        season_games = int(value(total["games_played"]) or 0) if total else 0
        if season_games < rules.PDC_MIN_GAMES:
            continue  # INSUFFICIENT_DATA
        if not len(g["game_date"]) or g["_ord"][-1] < recent_cut.toordinal():
            continue  # STALE_DATA
        dates = list(g["game_date"])
        pts, mins = g["points"], g["minutes_played"]
        ctx = upgc.get(player)
        team = ctx["team_abbr"] if ctx else g["team_abbr"][-1]
        pace10, ortg10 = team_form.get(team, (None, None))
        team_total = team_totals.get(team)
        in7 = g["_ord"] >= start7.toordinal()
        in14 = g["_ord"] >= start14.toordinal()
        teams = set(g["team_abbr"]) | {team}
        c5 = player_games_window(dates, teams, calendar, start, day.day, 5)
        c10 = player_games_window(dates, teams, calendar, start, day.day, 10)
        c7 = player_games_window(dates, teams, calendar, start7, day.day)
        c14 = player_games_window(dates, teams, calendar, start14, day.day)
        shot = shots.get(player)
        fgm10 = float(np.nansum(g["fg_makes"][-10:]))
        assisted10 = g["assisted_fg_makes"][-10:]
        usage_games = int(value(total["usage_rate_games"]) or 0)
        team_games_played = value(team_total["games_played"]) if team_total else None
        row = {
            "player_lookup": player,
            "universal_player_id": value(g["universal_player_id"][-1]),
            "team_abbr": team,
            "points_avg_last_5": float(pts[-5:].mean()),
            "points_avg_last_10": float(pts[-10:].mean()),
            "points_avg_season": float(value(total["points_sum"])) / season_games,
            "points_std_last_10": rules.sample_std(list(pts[-10:])),
            "minutes_avg_last_10": float(mins[-10:].mean()),
            "minutes_avg_season": float(value(total["minutes_sum"])) / season_games,
            "usage_rate_last_10": rules.mean(list(g["usage_rate"][-10:])),
            "ts_pct_last_10": ts_pct(float(pts[-10:].sum()), float(np.nansum(g["fg_attempts"][-10:])),
                                     float(np.nansum(g["ft_attempts"][-10:]))),
            "games_played_season": season_games,
            "player_usage_rate_season": float(value(total["usage_rate_sum"])) / usage_games if usage_games else None,
            "team_pace_last_10": pace10,
            "team_off_rating_last_10": ortg10,
            "team_win_pct_season": (
                float(value(team_total["wins"])) / float(team_games_played) if team_games_played else None
            ),
            "games_in_last_7_days": int(in7.sum()),
            "games_in_last_14_days": int(in14.sum()),
            "minutes_in_last_7_days": float(mins[in7].sum()),
            "minutes_in_last_14_days": float(mins[in14].sum()),
            "back_to_backs_last_14_days": back_to_backs([d for d, keep in zip(dates, in14) if keep]),
            "avg_minutes_per_game_last_7": float(mins[in7].mean()) if in7.any() else None,
            "day_window_extension_days": ext,
            "primary_scoring_zone": value(shot["primary_scoring_zone"]) if shot else None,
            "paint_rate_last_10": value(shot["paint_rate_last_10"]) if shot else None,
            "three_pt_rate_last_10": value(shot["three_pt_rate_last_10"]) if shot else None,
            "assisted_rate_last_10": None if np.isnan(assisted10.astype(float)).any() or not fgm10
            else float(assisted10.sum() / fgm10),
            "player_age": None,
            "composite_adjustment": value(pcf[player]["total_composite_adjustment"]) if player in pcf else None,
            "l5_completeness_pct": c5.pct, "l10_completeness_pct": c10.pct,
            "l7d_completeness_pct": c7.pct, "l14d_completeness_pct": c14.pct,
            "cache_quality_score": c5.pct,
            "cache_quality_tier": rules.source_quality_tier(c5.pct),
            **c10.columns(),
            "early_season_flag": season_games < rules.PDC_EARLY_SEASON_GAMES,
            "insufficient_data_reason": None,
        }
        row["is_production_ready"] = all(c.production_ready for c in (c5, c10, c7, c14))
        rows.append(row)
    return pd.DataFrame(rows)


PDC = PrecomputeSpec(
    table="player_daily_cache",
    doc=__doc__,
    cols=COLS,
    date_column="cache_date",
    key_columns=("player_lookup",),
    inputs=(
        Input("pgs", PGS, PLAYER_RECENT_40_DAYS),  # last 5/10 games, 7/14/30-day counts (+ break)
        Input("togs", TOGS, PREVIOUS_30_DAYS),  # team last 10 games (≈ 21 days + break)
        Input("schedule", SCHEDULE, PLAYER_RECENT_40_DAYS),  # expected games of the player windows
        Input("upgc", UPGC, None),
        Input("psza", PSZA_IN, None),
        Input("pcf", PCF_IN, None),
        Input("player_totals", PLAYER_TOTALS_IN, None),
        Input("team_totals", TEAM_TOTALS_IN, None),
    ),
    compute=compute,
    rows_on_game_days=("pgs", "togs"),
)
