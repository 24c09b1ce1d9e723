"""nba_precompute.player_shot_zone_analysis (PSZA) — SPEC §4.2.

One row per player per analysis date, for every player with enough played games this season
(not only that day's slate): shot-zone rates, FG% by zone and attempts per game over the last 10
played games, paint trends over the last 20 (when ≥ 15 games exist), assisted rates and the
primary scoring zone.

Window: `LAST_20_PLAYER_GAMES` (60 in-season days before the date, cut at the opener). Minimum
games: min(3 + days÷3, 9) on days ≤ 21 after the opener, else 10; `early_season_flag` while that
minimum is below 10. Rates are percent of FGA and NULL unless all three zones have data and they
sum to 100 ± 2. Completeness: the L10 span against the player's team schedule (`nbac_schedule`,
same mapping). Bootstrap days (0–13) write no rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute.completeness import TeamCalendar, player_games_window
from nba_backfill.assets.precompute.factory import Day, ExtraCheck, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import (
    PGS, SCHEDULE, Histories, active_games, history_start, numeric,
)
from nba_backfill.assets.tables import Col
from nba_backfill.checks import precompute as checks
from nba_backfill.partitions import LAST_20_PLAYER_GAMES

COLS = (
    Col("analysis_date", "DATE"),
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING"),
    Col("team_abbr", "STRING", "Team of the player's latest game"),
    Col("paint_rate_last_10", "FLOAT64", "Percent of FGA in the paint (≤ 8 ft), last 10 games"),
    Col("mid_range_rate_last_10", "FLOAT64", "Percent of FGA from mid-range"),
    Col("three_pt_rate_last_10", "FLOAT64", "Percent of FGA from three"),
    Col("paint_pct_last_10", "FLOAT64", "Paint FG% (fraction)"),
    Col("mid_range_pct_last_10", "FLOAT64"),
    Col("three_pt_pct_last_10", "FLOAT64"),
    Col("paint_attempts_per_game", "FLOAT64"),
    Col("mid_range_attempts_per_game", "FLOAT64"),
    Col("three_pt_attempts_per_game", "FLOAT64"),
    Col("total_shots_last_10", "INT64", "FGA over the last 10 games"),
    Col("games_in_sample_10", "INT64"),
    Col("games_in_sample_20", "INT64"),
    Col("sample_quality_10", "STRING"),
    Col("sample_quality_20", "STRING"),
    Col("paint_rate_last_20", "FLOAT64", "NULL below 15 games"),
    Col("paint_pct_last_20", "FLOAT64", "NULL below 15 games"),
    Col("assisted_rate_last_10", "FLOAT64", "Assisted FGM / FGM"),
    Col("unassisted_rate_last_10", "FLOAT64"),
    Col("primary_scoring_zone", "STRING", "paint | perimeter | mid_range | balanced"),
    Col("min_games_required", "INT64"),
    Col("data_quality_tier", "STRING", "high | medium | low"),
)
ZONES = ("paint", "mid_range", "three_pt")
NUMERIC = ("points", "minutes_played", "fg_attempts", "fg_makes", "three_pt_attempts", "three_pt_makes",
           "paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes", "assisted_fg_makes")


def _sum(values) -> float | None:
    """Sum, or None when any game lacks the value (zones unknown for that game)."""
    values = np.asarray(values, dtype=float)
    return None if np.isnan(values).any() else float(values.sum())


def player_row(g: dict, min_games: int) -> dict:
    """Zone metrics of one player from their played games ({column: array}, oldest first)."""
    n = len(g["fg_attempts"])
    last10 = {c: a[-rules.PSZA_TARGET_GAMES:] for c, a in g.items()}
    n10 = len(last10["fg_attempts"])
    fga = float(np.nansum(last10["fg_attempts"]))
    att = {z: _sum(last10[f"{z}_attempts"]) for z in ZONES}
    made = {z: _sum(last10[f"{z}_makes"]) for z in ZONES}
    rates = rules.zone_rates(att["paint"], att["mid_range"], att["three_pt"], fga)
    fgm = float(np.nansum(last10["fg_makes"]))
    assisted = _sum(last10["assisted_fg_makes"])
    row = {
        "paint_rate_last_10": rates[0], "mid_range_rate_last_10": rates[1], "three_pt_rate_last_10": rates[2],
        "total_shots_last_10": int(fga), "games_in_sample_10": n10,
        "games_in_sample_20": min(n, 20), "sample_quality_10": rules.sample_quality(n10, 10),
        "sample_quality_20": rules.sample_quality(min(n, 20), 20),
        "assisted_rate_last_10": None if assisted is None else rules.ratio(assisted, fgm),
        "unassisted_rate_last_10": None if assisted is None or not fgm else (fgm - assisted) / fgm,
        "primary_scoring_zone": rules.primary_scoring_zone(*rates),
        "min_games_required": min_games,
        "data_quality_tier": rules.psza_quality_tier(n10, min_games),
    }
    for z in ZONES:
        row[f"{z}_pct_last_10"] = None if att[z] is None or made[z] is None else rules.ratio(made[z], att[z])
        row[f"{z}_attempts_per_game"] = None if att[z] is None else att[z] / n10
    if n >= 15:
        last20 = {c: a[-20:] for c, a in g.items()}
        fga20 = float(np.nansum(last20["fg_attempts"]))
        paint20, mid20, three20 = (_sum(last20[f"{z}_attempts"]) for z in ZONES)
        rates20 = rules.zone_rates(paint20, mid20, three20, fga20)
        pm20 = _sum(last20["paint_makes"])
        row["paint_rate_last_20"] = rates20[0]
        row["paint_pct_last_20"] = None if paint20 is None or pm20 is None else rules.ratio(pm20, paint20)
    else:
        row["paint_rate_last_20"] = row["paint_pct_last_20"] = None
    return row


def compute(day: Day) -> pd.DataFrame:
    pgs = day.frames["pgs"]
    hist = Histories(numeric(active_games(pgs), NUMERIC), "player_lookup",
                     [*NUMERIC, "team_abbr", "universal_player_id"])
    min_games = rules.psza_min_games(day.days_since_opener)
    calendar = TeamCalendar(day.team_games(), pgs, "team_abbr")
    start = history_start(day.day, day.season, LAST_20_PLAYER_GAMES)
    rows = []
    for player in sorted(hist.entities()):
        g = hist.get(player)
        if len(g["game_date"]) < min_games:
            continue
        row = player_row(g, min_games)
        done = player_games_window(list(g["game_date"]), set(g["team_abbr"]), calendar, start, day.day, 10)
        row.update(done.columns())
        row.update({
            "player_lookup": player,
            "universal_player_id": g["universal_player_id"][-1],
            "team_abbr": g["team_abbr"][-1],
            "early_season_flag": min_games < rules.PSZA_TARGET_GAMES,
            "insufficient_data_reason": None if row["paint_rate_last_10"] is not None else "zone_rates_unavailable",
        })
        rows.append(row)
    return pd.DataFrame(rows)


def _rows_band(frame: pd.DataFrame, day: Day):
    if day.is_bootstrap:
        return checks.Outcome(True, {"rows": len(frame), "applies": 0})
    return checks.rows_per_day(len(frame), (300, 500))


PSZA = PrecomputeSpec(
    table="player_shot_zone_analysis",
    doc=__doc__,
    cols=COLS,
    date_column="analysis_date",
    key_columns=("player_lookup",),
    inputs=(
        Input("pgs", PGS, LAST_20_PLAYER_GAMES),  # last 10/20 played games (≈ 42 days + break)
        Input("schedule", SCHEDULE, LAST_20_PLAYER_GAMES),  # expected games of the same window
    ),
    compute=compute,
    rows_on_game_days=("pgs",),
    extra_checks=(
        ExtraCheck(checks.ROWS_PER_DAY, _rows_band),
        ExtraCheck(checks.ZONE_RATE_RANGES, lambda f, d: checks.zone_rate_ranges(f)),
        ExtraCheck(checks.ZONE_RATES_SUM, lambda f, d: checks.zone_rates_sum(f)),
    ),
)
