"""nba_precompute.ml_feature_store_v2 (MLFS) — SPEC §4.5.

Key: SPEC places this table in `nba_predictions`; our graph keys it `nba_precompute/
ml_feature_store_v2` because it is the last Phase 4 product (built from Phase 3/4 only) and
Phase 5 reads it through a declared dependency.

One row per player per game date (UPGC's players of the date): the 60-feature vector
(`feature_contract.FEATURE_NAMES`, indices 0–59) with per-feature source and quality, the
quality score (source weights, caps 69/49), tier and readiness flags.

Sources: PDC, PCF, PSZA, TDZA and UPGC of the same date; PGS over `ROLLING_60_DAYS` (last 3/5/7/10
games within 60 days, 30-day minutes/points-per-minute, opponent history, team margins).
Opponent history stays inside the season's 60-day window (SPEC's 1-year lookback would cross a
season boundary, which our windows never do); with no meeting yet, feature 29 is the player's
season average (source `calculated`; SPEC: zero games vs an opponent is expected, not a gap).
Features needing sources we do not scrape (`feature_contract.UNSCRAPED`: odds lines, injuries,
rosters, game totals/spreads, graded predictions 55–56) are NULL with source `missing`.

Bootstrap days (0–13): placeholder rows with NULL features, quality 0 and early_season_flag
TRUE. early_season_flag otherwise: the reduced early-season minimums are in force (≤ 21 days)
or the player has fewer than 10 season games (PDC). is_production_ready: the player's L10 window
(60 days, schedule-based) ≥ 70 % AND the PDC, PCF, PSZA rows and the opponent's TDZA row are
production-ready.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute import feature_contract as fc
from nba_backfill.assets.precompute.completeness import TeamCalendar, player_games_window
from nba_backfill.assets.precompute.factory import Day, ExtraCheck, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import (
    PLAYER_GAME_COLS,
    PGS, SCHEDULE, UPGC, Histories, active_games, history_start, numeric, precompute_table, records,
    value,
)
from nba_backfill.assets.tables import Col
from nba_backfill.checks import precompute as checks
from nba_backfill.partitions import ROLLING_60_DAYS

PDC_IN = precompute_table(
    "player_daily_cache", "cache_date",
    ("player_lookup", "points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
     "games_in_last_7_days", "minutes_avg_last_10", "minutes_avg_season", "team_pace_last_10",
     "team_off_rating_last_10", "team_win_pct_season", "minutes_in_last_7_days", "early_season_flag",
     "is_production_ready"),
)
PCF_IN = precompute_table(
    "player_composite_factors", "game_date",
    ("player_lookup", "fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score",
     "days_rest", "opponent_days_rest", "is_production_ready"),
)
PSZA_IN = precompute_table(
    "player_shot_zone_analysis", "analysis_date",
    ("player_lookup", "paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10",
     "is_production_ready"),
)
TDZA_IN = precompute_table(
    "team_defense_zone_analysis", "analysis_date",
    ("team_abbr", "defensive_rating_last_15", "opponent_pace", "is_production_ready"),
)

UPGC_USED = ("player_lookup", "universal_player_id", "game_id", "team_abbr", "opponent_team_abbr", "home_game",
             "back_to_back", "days_rest", "has_prop_line")
FLAT = (0, 1, 2, 18, 19, 20)
COLS = (
    *PLAYER_GAME_COLS,
    Col("is_home", "BOOL"),
    Col("days_rest", "INT64"),
    Col("feature_names", "ARRAY<STRING>", "The 60 feature names, index order"),
    Col("features", "ARRAY<FLOAT64>", "Feature values (NULL element = unavailable; NULL array = placeholder)"),
    Col("feature_sources", "ARRAY<STRING>", "phase4/phase3/calculated/minutes_ppm/opponent_history/default/missing"),
    Col("feature_qualities", "ARRAY<FLOAT64>", "Source weight per feature (0–100)"),
    Col("feature_count", "INT64"),
    Col("feature_version", "STRING"),
    *(Col(f"feature_{i}_value", "FLOAT64", fc.FEATURE_NAMES[i]) for i in FLAT),
    Col("feature_quality_score", "FLOAT64", "Mean source weight, capped 69/49 (SPEC §4.5)"),
    Col("quality_tier", "STRING", "gold ≥95, silver ≥85, bronze ≥70, poor ≥50, else critical"),
    Col("matchup_quality_pct", "FLOAT64"),
    Col("player_history_quality_pct", "FLOAT64"),
    Col("required_default_count", "INT64"),
    Col("default_feature_count", "INT64"),
    Col("missing_features", "ARRAY<STRING>", "Names of features with source default/fallback/missing"),
    Col("is_quality_ready", "BOOL"),
    Col("is_training_ready", "BOOL"),
    Col("upstream_production_ready", "BOOL", "PDC, PCF, PSZA and opponent TDZA rows production-ready"),
    Col("has_prop_line", "BOOL", "NULL: no prop line source is scraped"),
    Col("data_source", "STRING", "backfill | early_season_placeholder"),
)
NUMERIC = ("points", "minutes_played", "ft_makes", "usage_rate", "plus_minus")


class Vector:
    def __init__(self) -> None:
        self.values: list[float | None] = [None] * fc.FEATURE_COUNT
        self.sources: list[str] = ["missing"] * fc.FEATURE_COUNT

    def put(self, name: str, v, source: str) -> None:
        i = fc.INDEX[name]
        v = value(v) if v is not None else None
        if v is None:
            self.values[i], self.sources[i] = None, "missing"
        else:
            self.values[i], self.sources[i] = float(v), source


def trend_score(points_oldest_first: list[float]) -> tuple[float, str]:
    """Feature 11: mean of the 2 most recent games − mean of the 3 before; ≥5 → 2, ≥2 → 1,
    ≤−5 → −2, ≤−2 → −1, else 0. Fewer than 5 games: 0 with source `default`."""
    if len(points_oldest_first) < 5:
        return 0.0, "default"
    last5 = points_oldest_first[-5:]
    diff = sum(last5[3:]) / 2.0 - sum(last5[:3]) / 3.0
    score = 2.0 if diff >= 5 else 1.0 if diff >= 2 else -2.0 if diff <= -5 else -1.0 if diff <= -2 else 0.0
    return score, "calculated"


def minutes_change(recent: float | None, season: float | None) -> float | None:
    """Feature 12: % change of L10 minutes vs season; ≥20 % → 2, ≥10 % → 1, mirrored below."""
    if not recent or not season:
        return None
    pct = (recent - season) / season
    return 2.0 if pct >= 0.2 else 1.0 if pct >= 0.1 else -2.0 if pct <= -0.2 else -1.0 if pct <= -0.1 else 0.0


def games_since_structural_change(teams: list[str], dates: list[dt.date], gap_days: int = 14) -> int:
    """Feature 49: games since the latest team change or a gap of more than `gap_days`."""
    n = 0
    for i in range(len(dates)):
        if i and (teams[i] != teams[i - 1] or (dates[i] - dates[i - 1]).days > gap_days):
            n = 0
        n += 1
    return n


def team_margins(pgs: pd.DataFrame) -> dict[str, list[float]]:
    """Team -> game margins (sum of the team's players' plus/minus ÷ 5), oldest first."""
    if pgs.empty:
        return {}
    pm = pd.to_numeric(pgs["plus_minus"], errors="coerce")
    out = pgs.assign(pm=pm).groupby(["team_abbr", "game_date"], as_index=False)["pm"].sum()
    out = out.sort_values(["team_abbr", "game_date"])
    return {t: list(g["pm"] / 5.0) for t, g in out.groupby("team_abbr", sort=False)}


def build_vector(day: Day, ctx: dict, pdc: dict | None, pcf: dict | None, shot: dict | None,
                 opp_def: dict | None, hist: dict, team_hist_dates: list[dt.date],
                 margins: dict[str, list[float]]) -> Vector:
    """The 60 features of one player (`hist`: the player's played games in the 60-day window as
    {column: array}, oldest first; `margins`: team -> game margins, oldest first)."""
    v = Vector()
    g = lambda row, k: value(row.get(k)) if row else None  # noqa: E731
    for name in ("points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
                 "games_in_last_7_days"):
        v.put(name, g(pdc, name), "phase4")
    for name in ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score"):
        v.put(name, g(pcf, name), "phase4")
    rest, opp_rest = g(pcf, "days_rest"), g(pcf, "opponent_days_rest")
    v.put("rest_advantage", None if rest is None or opp_rest is None else max(-2.0, min(2.0, rest - opp_rest)),
          "calculated")
    points = [float(p) for p in hist["points"]]
    minutes = [float(m) for m in hist["minutes_played"]]
    n_games = len(points)
    v.put("recent_trend", *trend_score(points)) if points else v.put("recent_trend", None, "missing")
    v.put("minutes_change", minutes_change(g(pdc, "minutes_avg_last_10"), g(pdc, "minutes_avg_season")), "calculated")
    v.put("opponent_def_rating", g(opp_def, "defensive_rating_last_15"), "phase4")
    v.put("opponent_pace", g(opp_def, "opponent_pace"), "phase4")
    home = value(ctx.get("home_game"))
    v.put("home_away", None if home is None else float(bool(home)), "phase3")
    b2b = value(ctx.get("back_to_back"))
    v.put("back_to_back", None if b2b is None else float(bool(b2b)), "phase3")
    v.put("playoff_game", float(day.season.is_postseason(day.day)), "calculated")
    for name, col in (("pct_paint", "paint_rate_last_10"), ("pct_mid_range", "mid_range_rate_last_10"),
                      ("pct_three", "three_pt_rate_last_10")):
        rate = g(shot, col)
        v.put(name, None if rate is None else rate / 100.0, "phase4")
    pts10, ft10 = sum(points[-10:]), float(np.nansum(hist["ft_makes"][-10:]))
    if min(n_games, 10) >= 5 and pts10 > 0:
        v.put("pct_free_throw", max(0.0, min(0.5, ft10 / pts10)), "calculated")
    else:
        v.put("pct_free_throw", 0.15, "default")
    v.put("team_pace", g(pdc, "team_pace_last_10"), "phase4")
    v.put("team_off_rating", g(pdc, "team_off_rating_last_10"), "phase4")
    v.put("team_win_pct", g(pdc, "team_win_pct_season"), "phase4")
    season_avg = g(pdc, "points_avg_season")
    vs_opp = [p for p, o in zip(points, hist["opponent_team_abbr"]) if o == ctx["opponent_team_abbr"]]
    if vs_opp:
        v.put("avg_points_vs_opponent", sum(vs_opp) / len(vs_opp), "opponent_history")
    else:
        v.put("avg_points_vs_opponent", season_avg, "calculated")
    v.put("games_vs_opponent", len(vs_opp), "calculated")
    v.put("minutes_avg_last_10", g(pdc, "minutes_avg_last_10"), "minutes_ppm")
    in30 = hist["_ord"] >= (day.day - dt.timedelta(days=30)).toordinal()
    pts30, mins30 = hist["points"][in30][-10:], hist["minutes_played"][in30][-10:]
    v.put("ppm_avg_last_10", float(pts30.sum() / mins30.sum()) if mins30.sum() else None, "minutes_ppm")
    team_last10 = team_hist_dates[-10:]
    played = set(hist["game_date"])
    v.put("dnp_rate", sum(1 for d in team_last10 if d not in played) / len(team_last10) if team_last10 else None,
          "calculated")
    std10 = g(pdc, "points_std_last_10")
    l5 = g(pdc, "points_avg_last_5")
    slope10 = rules.ols_slope(points[-10:]) if len(points) >= 3 else None
    v.put("pts_slope_10g", slope10, "calculated")
    if l5 is not None and season_avg is not None:
        v.put("pts_vs_season_zscore", (l5 - season_avg) / std10 if std10 else 0.0, "calculated")
        v.put("breakout_flag", float(std10 is not None and l5 > season_avg + 1.5 * std10), "calculated")
    v.put("days_rest", value(ctx.get("days_rest")), "phase3")
    v.put("minutes_load_last_7d", g(pdc, "minutes_in_last_7_days"), "phase4")
    avg3 = sum(points[-3:]) / len(points[-3:]) if len(points) >= 2 else None
    v.put("points_avg_last_3", avg3, "calculated")
    v.put("scoring_trend_slope", rules.ols_slope(points[-7:]) if len(points) >= 4 else None, "calculated")
    if avg3 is not None and season_avg is not None:
        v.put("deviation_from_avg_last3", (avg3 - season_avg) / std10 if std10 else 0.0, "calculated")
    if season_avg is not None and points:
        below = 0
        for p in reversed(points):
            if p >= season_avg:
                break
            below += 1
        v.put("consecutive_games_below_avg", below, "calculated")
    usage5 = rules.mean(list(hist["usage_rate"][-5:]))
    v.put("usage_rate_last_5", usage5, "calculated")
    if n_games:
        v.put("games_since_structural_change",
              games_since_structural_change(list(hist["team_abbr"]), list(hist["game_date"])), "calculated")
    team_m = margins.get(ctx["team_abbr"], [])[-10:]
    v.put("blowout_minutes_risk", sum(1 for m in team_m if abs(m) >= 20) / len(team_m) if team_m else None,
          "calculated")
    v.put("minutes_volatility_last_10", rules.sample_std(minutes[-10:]), "calculated")
    team_pace, opp_pace = g(pdc, "team_pace_last_10"), g(opp_def, "opponent_pace")
    v.put("opponent_pace_mismatch", None if team_pace is None or opp_pace is None else abs(team_pace - opp_pace),
          "calculated")
    return v


def _identity(ctx: dict) -> dict:
    home = value(ctx.get("home_game"))
    return {
        "player_lookup": ctx["player_lookup"], "universal_player_id": value(ctx.get("universal_player_id")),
        "game_id": ctx["game_id"], "team_abbr": ctx["team_abbr"], "opponent_team_abbr": ctx["opponent_team_abbr"],
        "is_home": None if home is None else bool(home), "days_rest": value(ctx.get("days_rest")),
        "has_prop_line": value(ctx.get("has_prop_line")),
        "feature_names": list(fc.FEATURE_NAMES), "feature_count": fc.FEATURE_COUNT,
        "feature_version": fc.FEATURE_VERSION,
    }


def compute(day: Day) -> pd.DataFrame:
    f = day.frames
    pgs_all = f["pgs"]
    histories = Histories(numeric(active_games(pgs_all), NUMERIC), "player_lookup",
                          [*NUMERIC, "team_abbr", "opponent_team_abbr"])
    sched = day.team_games()
    calendar = TeamCalendar(sched, pgs_all, "team_abbr")
    start = history_start(day.day, day.season, ROLLING_60_DAYS)
    margins = team_margins(numeric(pgs_all, ["plus_minus"]))
    index = {name: records(f[name], table.required[0], table.required)
             for name, table in (("pdc", PDC_IN), ("pcf", PCF_IN), ("psza", PSZA_IN), ("tdza", TDZA_IN))}
    rows = []
    for ctx in f["upgc"].sort_values("player_lookup")[list(UPGC_USED)].to_dict("records"):
        player, team, opp = ctx["player_lookup"], ctx["team_abbr"], ctx["opponent_team_abbr"]
        pdc, pcf, shot = index["pdc"].get(player), index["pcf"].get(player), index["psza"].get(player)
        opp_def = index["tdza"].get(opp)
        hist = histories.get(player)
        team_dates = sorted(d for d in calendar.present.get(team, ()) if start <= d < day.day)
        vec = build_vector(day, ctx, pdc, pcf, shot, opp_def, hist, team_dates, margins)
        quality = fc.readiness(vec.sources)
        done = player_games_window(list(hist["game_date"]), set(hist["team_abbr"]) | {team}, calendar,
                                   start, day.day, 10)
        upstream_ready = all(r is not None and bool(value(r.get("is_production_ready"))) for r in (pdc, pcf, shot, opp_def))
        row = {
            **_identity(ctx),
            "features": vec.values, "feature_sources": vec.sources,
            "feature_qualities": [fc.SOURCE_WEIGHTS[s] for s in vec.sources],
            **{f"feature_{i}_value": vec.values[i] for i in FLAT},
            **quality,
            "missing_features": [fc.FEATURE_NAMES[i] for i, s in enumerate(vec.sources) if s in fc.DEFAULT_SOURCES],
            "upstream_production_ready": upstream_ready,
            "data_source": "backfill",
            **done.columns(),
            "early_season_flag": day.days_since_opener <= rules.EARLY_RAMP_LAST_DAY
            or bool(pdc is None or value(pdc.get("early_season_flag"))),
            "insufficient_data_reason": None if pdc is not None else "no_player_daily_cache_row",
        }
        row["is_production_ready"] = done.production_ready and upstream_ready
        rows.append(row)
    return pd.DataFrame(rows)


def placeholder(day: Day) -> pd.DataFrame:
    """Bootstrap rows: identity + NULL features, every source missing, early_season_flag TRUE."""
    sources = ["missing"] * fc.FEATURE_COUNT
    quality = fc.readiness(sources)
    rows = []
    for ctx in day.frames["upgc"].sort_values("player_lookup").to_dict("records"):
        rows.append({
            **_identity(ctx), "features": None, "feature_sources": sources,
            "feature_qualities": [0.0] * fc.FEATURE_COUNT, **{f"feature_{i}_value": None for i in FLAT},
            **quality, "missing_features": list(fc.FEATURE_NAMES), "upstream_production_ready": False,
            "data_source": "early_season_placeholder", "expected_games_count": None, "actual_games_count": None,
            "missing_games_count": None, "completeness_percentage": None, "is_production_ready": False,
            "early_season_flag": True,
            "insufficient_data_reason": f"bootstrap day {day.days_since_opener} of {day.season.label}",
        })
    return pd.DataFrame(rows)


def _rows_band(frame: pd.DataFrame, day: Day):
    if day.is_bootstrap:
        return checks.Outcome(True, {"rows": len(frame), "applies": 0})
    return checks.rows_per_day(len(frame), (100, 400))


MLFS = PrecomputeSpec(
    table="ml_feature_store_v2",
    doc=__doc__,
    cols=COLS,
    date_column="game_date",
    key_columns=("player_lookup",),
    cluster_by=("player_lookup", "feature_version", "game_date"),  # SPEC §4
    inputs=(
        Input("upgc", UPGC, None),
        Input("pdc", PDC_IN, None),
        Input("pcf", PCF_IN, None),
        Input("psza", PSZA_IN, None),
        Input("tdza", TDZA_IN, None),
        Input("pgs", PGS, ROLLING_60_DAYS),  # last 3–10 games within 60 days, 30-day minutes, opponents
        Input("schedule", SCHEDULE, ROLLING_60_DAYS),  # expected games of the same window
    ),
    compute=compute,
    rows_on_game_days=("pgs",),
    bootstrap="placeholder",
    placeholder=placeholder,
    extra_checks=(
        ExtraCheck(checks.ROWS_PER_DAY, _rows_band),
        ExtraCheck(checks.FEATURE_RANGES_CHECK, lambda f, d: checks.feature_ranges(f)),
        ExtraCheck(checks.QUALITY_DISTRIBUTION, lambda f, d: checks.quality_distribution(f, d.days_since_opener)),
    ),
)
