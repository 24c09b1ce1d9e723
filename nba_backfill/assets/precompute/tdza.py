"""nba_precompute.team_defense_zone_analysis (TDZA) — SPEC §4.1.

One row per team per analysis date: FG% allowed by zone over the team's last 15 defensive games
(TDGS), attempts allowed and blocks per game, defensive rating, points and pace of opponents, and
each zone's difference from the league (positive = weaker than the league).

Window: `LAST_15_TEAM_GAMES` (45 in-season days before the date, cut at the opener). League
averages: TDGS over the past 30 days, teams with ≥ 10 games there; below 10 such teams the SPEC
defaults apply (paint 0.580, mid 0.410, three 0.355). Minimum games: min(5 + days÷3, 14) while
≤ 21 days have passed since the real opener (from `seasons.py`, not SPEC's hard-coded Oct 1),
15 after; teams below it get no row. `early_season_flag` = the reduced minimum is in force.
Completeness: the team's last 15 scheduled Final games (`nbac_schedule`, same mapping) vs the
TDGS rows present. Bootstrap days (0–13) write no rows.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute.completeness import TeamCalendar
from nba_backfill.assets.precompute.factory import Day, ExtraCheck, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import SCHEDULE, TDGS, history_start, numeric
from nba_backfill.assets.tables import Col
from nba_backfill.checks import precompute as checks
from nba_backfill.partitions import LAST_15_TEAM_GAMES

ZONES = ("paint", "mid_range", "three_pt")
COLS = (
    Col("analysis_date", "DATE"),
    Col("team_abbr", "STRING"),
    *(Col(f"{z}_pct_allowed_last_15", "FLOAT64", f"{z} FG% allowed (fraction)") for z in ZONES),
    *(Col(f"{z}_attempts_allowed_per_game", "FLOAT64") for z in ZONES),
    *(Col(f"{z}_blocks_per_game", "FLOAT64") for z in ZONES),
    *(Col(f"{z}_defense_vs_league_avg", "FLOAT64", "(team − league) × 100") for z in ZONES),
    Col("paint_points_allowed_per_game", "FLOAT64"),
    Col("defensive_rating_last_15", "FLOAT64"),
    Col("opponent_points_per_game", "FLOAT64"),
    Col("opponent_pace", "FLOAT64", "Mean pace of the team's last-15 games"),
    Col("games_in_sample", "INT64"),
    Col("strongest_zone", "STRING"),
    Col("weakest_zone", "STRING"),
    *(Col(f"league_{z}_pct", "FLOAT64", "League FG% used for vs_league") for z in ZONES),
    Col("league_average_source", "STRING", "computed | default"),
    Col("min_games_required", "INT64"),
    Col("data_quality_tier", "STRING", "high | medium | low"),
)
NUMERIC = (
    "points_allowed", "defensive_rating", "opponent_pace", "points_in_paint_allowed",
    *(f"opp_{z}_{k}" for z in ZONES for k in ("attempts", "makes")),
    *(f"blocks_{z}" for z in ZONES),
)


def league_averages(tdgs: pd.DataFrame, day: dt.date, opener: dt.date) -> tuple[dict[str, float], str]:
    """Zone FG% of the last 30 days over teams with ≥ 10 games there, else SPEC's defaults."""
    start = max(day - dt.timedelta(days=rules.LEAGUE_WINDOW_DAYS), opener)
    recent = tdgs[(tdgs["game_date"] >= start) & (tdgs["game_date"] < day)]
    counts = recent.groupby("defending_team_abbr").size()
    teams = counts[counts >= rules.LEAGUE_MIN_TEAM_GAMES].index
    if len(teams) < rules.LEAGUE_MIN_TEAMS:
        return dict(rules.LEAGUE_DEFAULT_PCT), "default"
    q = recent[recent["defending_team_abbr"].isin(teams)]
    out = {}
    for z in ZONES:
        att = q[f"opp_{z}_attempts"].sum()
        out[z] = float(q[f"opp_{z}_makes"].sum() / att) if att else rules.LEAGUE_DEFAULT_PCT[z]
    return out, "computed"


def team_row(games: pd.DataFrame, league: dict[str, float]) -> dict:
    """Metrics of one team's last-15 (or fewer) defensive games."""
    n = len(games)
    row: dict = {"games_in_sample": n}
    vs = {}
    for z in ZONES:
        att, made = games[f"opp_{z}_attempts"].sum(), games[f"opp_{z}_makes"].sum()
        pct = rules.ratio(float(made), float(att))
        row[f"{z}_pct_allowed_last_15"] = pct
        row[f"{z}_attempts_allowed_per_game"] = float(att) / n
        blocks = games[f"blocks_{z}"]
        row[f"{z}_blocks_per_game"] = None if blocks.isna().any() else float(blocks.sum()) / n
        vs[z] = rules.vs_league(pct, league[z])
        row[f"{z}_defense_vs_league_avg"] = vs[z]
        row[f"league_{z}_pct"] = league[z]
    paint_pts = games["points_in_paint_allowed"]
    row["paint_points_allowed_per_game"] = None if paint_pts.isna().any() else float(paint_pts.mean())
    row["defensive_rating_last_15"] = float(games["defensive_rating"].mean())
    row["opponent_points_per_game"] = float(games["points_allowed"].mean())
    row["opponent_pace"] = float(games["opponent_pace"].mean())
    row["strongest_zone"], row["weakest_zone"] = rules.strongest_weakest(vs)
    row["data_quality_tier"] = rules.tdza_quality_tier(n)
    return row


def compute(day: Day) -> pd.DataFrame:
    tdgs = numeric(day.frames["tdgs"], NUMERIC).sort_values(["defending_team_abbr", "game_date"])
    schedule = day.team_games()
    calendar = TeamCalendar(schedule, tdgs, "defending_team_abbr")
    start = history_start(day.day, day.season, LAST_15_TEAM_GAMES)
    league, league_source = league_averages(tdgs, day.day, day.season.opener)
    min_games = rules.tdza_min_games(day.days_since_opener)
    rows = []
    for team, g in tdgs.groupby("defending_team_abbr", sort=True):
        if len(g) < min_games:
            continue
        row = team_row(g.tail(rules.TDZA_TARGET_GAMES), league)
        done = calendar.team_last_games(team, start, day.day, rules.TDZA_TARGET_GAMES)
        row.update(done.columns())
        row.update({
            "team_abbr": team, "league_average_source": league_source, "min_games_required": min_games,
            "early_season_flag": min_games < rules.TDZA_TARGET_GAMES, "insufficient_data_reason": None,
        })
        rows.append(row)
    return pd.DataFrame(rows)


TDZA = PrecomputeSpec(
    table="team_defense_zone_analysis",
    doc=__doc__,
    cols=COLS,
    date_column="analysis_date",
    key_columns=("team_abbr",),
    inputs=(
        Input("tdgs", TDGS, LAST_15_TEAM_GAMES),  # last 15 team games + 30-day league averages
        Input("schedule", SCHEDULE, LAST_15_TEAM_GAMES),  # expected games of the same window
    ),
    compute=compute,
    rows_on_game_days=("tdgs",),
    extra_checks=(
        ExtraCheck(
            checks.ROWS_PER_DAY,
            lambda f, d: checks.Outcome(True, {"rows": len(f), "applies": 0})
            if d.days_since_opener <= rules.EARLY_RAMP_LAST_DAY + 14
            else checks.rows_per_day(len(f), (25, 30)),
        ),
    ),
)
