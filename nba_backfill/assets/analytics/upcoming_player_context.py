"""upcoming_player_game_context (UPGC), SPEC §3.4."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics import history as h
from nba_backfill.assets.analytics.factory import META_COLUMNS, QUALITY_COLUMNS, AnalyticsTable, Upstream
from nba_backfill.assets.analytics.frames import Inputs, newest, per_day
from nba_backfill.assets.tables import Col
from nba_backfill.layers import ANALYTICS, RAW
from nba_backfill.partitions import PREVIOUS_30_DAYS, SCHEDULE_MINUS_30_PLUS_7

STAR_MIN_GAMES = 10  # SPEC §3.4: star = ≥ 18 PPG, or ≥ 28 MPG and ≥ 12 PPG, over ≥ 10 games
STAR_PPG, STAR_MPG, STAR_MPG_PPG = 18.0, 28.0, 12.0
EARLY_SEASON_DAYS = 30  # production-ready by rule within 30 days of the opener
THIN_SAMPLE_GAMES = 3
NOT_SCRAPED = ("missing_prop_line", "missing_game_spread", "missing_game_total", "missing_injury_report",
               "missing_travel_distances")
WINDOWS = {**h.GAME_WINDOWS, **h.DAY_WINDOWS}

COLUMNS: tuple[Col, ...] = (
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING", "NBA person id (no player registry is scraped)"),
    Col("player_id", "INT64"),
    Col("game_id", "STRING", "YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("home_game", "BOOL"),
    Col("has_prop_line", "BOOL", "NULL: prop lines are not scraped"),
    Col("current_points_line", "FLOAT64", "NULL: not scraped"),
    Col("opening_points_line", "FLOAT64", "NULL: not scraped"),
    Col("line_movement", "FLOAT64", "NULL: not scraped"),
    Col("game_spread", "FLOAT64", "NULL: game lines are not scraped"),
    Col("game_total", "FLOAT64", "NULL: game lines are not scraped"),
    Col("days_rest", "INT64", "days since the player's previous game this season (1 = back-to-back)"),
    Col("days_rest_before_last_game", "INT64"),
    Col("back_to_back", "BOOL", "days_rest == 1"),
    Col("games_in_last_7_days", "INT64", "games on D-7 .. D-1"),
    Col("games_in_last_14_days", "INT64", "games on D-14 .. D-1"),
    Col("minutes_in_last_7_days", "FLOAT64"),
    Col("minutes_in_last_14_days", "FLOAT64"),
    Col("avg_minutes_per_game_last_7", "FLOAT64", "minutes / games over the last 7 days"),
    Col("back_to_backs_last_14_days", "INT64"),
    Col("avg_usage_rate_last_7_games", "FLOAT64"),
    Col("points_avg_last_5", "FLOAT64"),
    Col("points_avg_last_10", "FLOAT64"),
    Col("l5_games_used", "INT64"),
    Col("l10_games_used", "INT64"),
    Col("prop_over_streak", "INT64", "NULL: needs prop lines"),
    Col("prop_under_streak", "INT64", "NULL: needs prop lines"),
    Col("team_pace_last_10", "FLOAT64", "TOGS pace, team's last 10 games"),
    Col("opponent_pace_last_10", "FLOAT64", "TOGS pace, opponent's last 10 games"),
    Col("pace_differential", "FLOAT64", "team_pace_last_10 − opponent_pace_last_10"),
    Col("opponent_def_rating_last_10", "FLOAT64", "TDGS defensive_rating, opponent's last 10"),
    Col("opponent_days_rest", "INT64", "days since the opponent's previous game"),
    Col("next_game_days_rest", "INT64", "days to the team's next game (schedule D+1..D+7)"),
    Col("games_in_next_7_days", "INT64"),
    Col("star_teammates_out", "INT64", "recent stars of the team absent from D's box score"),
    Col("player_status", "STRING", "NULL: injury report not scraped"),
    Col("travel_miles", "INT64", "NULL: travel distances not scraped"),
    Col("expected_games_count", "INT64", "team Final games in the 30-day window (schedule)"),
    Col("actual_games_count", "INT64", "of those, present in PGS"),
    Col("completeness_percentage", "FLOAT64"),
    Col("missing_games_count", "INT64"),
    *(c for w in WINDOWS for c in (Col(f"{w}_completeness_pct", "FLOAT64"), Col(f"{w}_is_complete", "BOOL"))),
    Col("all_windows_complete", "BOOL"),
    Col("season_boundary_detected", "BOOL", "the 30-day window was cut at the season opener"),
    Col("source_pgs_rows_found", "INT64", "the player's PGS games in the 30-day window"),
    *QUALITY_COLUMNS,
    *META_COLUMNS,
)


def compute(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    return per_day(days, lambda day: compute_day(day, inputs))


def compute_day(day: dt.date, inputs: Inputs) -> pd.DataFrame:
    players = newest(inputs.on("player_boxscore", day), ["game_id", "player_lookup"])
    if players.empty:
        return pd.DataFrame(columns=[c.name for c in COLUMNS])
    season = h.season_of(day)
    first, last = h.history_bounds(day)
    pgs = h.newest_first(inputs.between("player_history", first, last))
    togs = h.newest_first(inputs.between("team_offense_history", first, last))
    tdgs = h.newest_first(inputs.between("team_defense_history", first, last))
    teams = h.team_schedule_between(inputs, first, day + dt.timedelta(days=7))

    out = players[["player_lookup", "player_id", "game_id", "nba_game_id", "team_abbr", "opponent_team_abbr"]].copy()
    out["home_game"] = players["is_home"].astype(bool)
    out = out.join(_player_history(day, pgs), on="player_lookup")
    for col in HISTORY_COUNTS:  # no game in the window (e.g. first game of the season): zero counts
        out[col] = out[col].fillna(0)
    out["back_to_back"] = out["days_rest"] == 1
    out = _team_context(day, out, togs, tdgs, teams)
    out["star_teammates_out"] = out["team_abbr"].map(_stars_out(pgs, players)).fillna(0).astype(int)

    present = set(zip(pgs["game_id"].astype(str), pgs["team_abbr"].astype(str)))
    comp = h.complete_defaults(
        out[["team_abbr"]].merge(h.window_completeness(day, teams, present, WINDOWS), on="team_abbr", how="left"),
        WINDOWS,
    )
    for w in WINDOWS:
        out[f"{w}_completeness_pct"] = comp[f"{w}_completeness_pct"].to_numpy()
        out[f"{w}_is_complete"] = comp[f"{w}_is_complete"].to_numpy()
    out["expected_games_count"] = comp["l30d_expected"].to_numpy()
    out["actual_games_count"] = comp["l30d_actual"].to_numpy()
    out["completeness_percentage"] = comp["l30d_completeness_pct"].to_numpy()
    out["missing_games_count"] = out["expected_games_count"] - out["actual_games_count"]
    out["all_windows_complete"] = np.logical_and.reduce([out[f"{w}_is_complete"].astype(bool) for w in WINDOWS])

    out["universal_player_id"] = out["player_id"].astype("Int64").astype("string")
    out["game_date"] = day
    out["season_year"] = season.season_year
    out["season_boundary_detected"] = day - dt.timedelta(days=h.HISTORY_DAYS) < season.opener
    for col in ("has_prop_line", "current_points_line", "opening_points_line", "line_movement", "game_spread",
                "game_total", "prop_over_streak", "prop_under_streak", "player_status", "travel_miles"):
        out[col] = None

    early = season.days_since_opener(day) < EARLY_SEASON_DAYS
    ready = out["all_windows_complete"] | early
    scores, issues = zip(*(_quality(int(n)) for n in out["source_pgs_rows_found"]))
    sources = [["nbac_player_boxscore", "player_game_summary", "nbac_schedule", "team_offense_game_summary",
                "team_defense_game_summary"]] * len(out)
    return out.assign(**f.quality_columns(scores, issues, sources, production_ready=ready))


def _player_history(day: dt.date, pgs: pd.DataFrame) -> pd.DataFrame:
    """Per player (index player_lookup): rest, load, averages from the PGS window (newest first)."""
    d7, d14 = pd.Timestamp(day - dt.timedelta(days=7)), pd.Timestamp(day - dt.timedelta(days=14))
    by = pgs.groupby("player_lookup", sort=False)
    res = pd.DataFrame(index=pd.Index(pgs["player_lookup"].unique(), name="player_lookup"))
    rank = by.cumcount()
    res["last_game"] = pgs[rank == 0].set_index("player_lookup")["game_date"]
    res["second_game"] = pgs[rank == 1].set_index("player_lookup")["game_date"]
    res["days_rest"] = (pd.Timestamp(day) - res["last_game"]).dt.days
    res["days_rest_before_last_game"] = (res["last_game"] - res["second_game"]).dt.days
    recent7, recent14 = pgs[pgs["game_date"] >= d7], pgs[pgs["game_date"] >= d14]
    res["games_in_last_7_days"] = recent7.groupby("player_lookup").size()
    res["games_in_last_14_days"] = recent14.groupby("player_lookup").size()
    res["minutes_in_last_7_days"] = recent7.groupby("player_lookup")["minutes_played"].sum()
    res["minutes_in_last_14_days"] = recent14.groupby("player_lookup")["minutes_played"].sum()
    asc = recent14.sort_values(["player_lookup", "game_date"])
    gaps = asc.groupby("player_lookup")["game_date"].diff().dt.days
    res["back_to_backs_last_14_days"] = (gaps == 1).groupby(asc["player_lookup"]).sum()
    res["avg_usage_rate_last_7_games"] = h.last_n_mean(pgs, "player_lookup", "usage_rate", 7).round(2)
    res["points_avg_last_5"] = h.last_n_mean(pgs, "player_lookup", "points", 5).round(1)
    res["points_avg_last_10"] = h.last_n_mean(pgs, "player_lookup", "points", 10).round(1)
    res["source_pgs_rows_found"] = by.size()
    res["l5_games_used"] = res["source_pgs_rows_found"].clip(upper=5)
    res["l10_games_used"] = res["source_pgs_rows_found"].clip(upper=10)
    res["avg_minutes_per_game_last_7"] = (
        res["minutes_in_last_7_days"] / res["games_in_last_7_days"]
    ).round(1)
    return res.drop(columns=["last_game", "second_game"])


HISTORY_COUNTS = ("games_in_last_7_days", "games_in_last_14_days", "minutes_in_last_7_days",
                  "minutes_in_last_14_days", "back_to_backs_last_14_days", "source_pgs_rows_found",
                  "l5_games_used", "l10_games_used")


def _team_context(day, out, togs, tdgs, teams) -> pd.DataFrame:
    """Team/opponent pace and DRtg over their last 10 games, opponent rest, next game."""
    pace10 = h.last_n_mean(togs, "team_abbr", "pace", 10)
    drtg10 = h.last_n_mean(tdgs, "defending_team_abbr", "defensive_rating", 10)
    last_game = togs.groupby("team_abbr")["game_date"].max()
    upcoming = teams[teams["game_date"] > pd.Timestamp(day)]
    next_game = upcoming.groupby("team_abbr")["game_date"].min()
    out["team_pace_last_10"] = out["team_abbr"].map(pace10).round(1)
    out["opponent_pace_last_10"] = out["opponent_team_abbr"].map(pace10).round(1)
    out["pace_differential"] = (out["team_pace_last_10"] - out["opponent_pace_last_10"]).round(1)
    out["opponent_def_rating_last_10"] = out["opponent_team_abbr"].map(drtg10).round(2)
    out["opponent_days_rest"] = (pd.Timestamp(day) - out["opponent_team_abbr"].map(last_game)).dt.days
    out["next_game_days_rest"] = (out["team_abbr"].map(next_game) - pd.Timestamp(day)).dt.days
    out["games_in_next_7_days"] = out["team_abbr"].map(upcoming.groupby("team_abbr").size()).fillna(0)
    return out


def _stars_out(pgs: pd.DataFrame, players: pd.DataFrame) -> pd.Series:
    """Per team: recent-roster stars (≥ 10 games in the window for the team, ≥ 18 PPG or ≥ 28 MPG
    and ≥ 12 PPG, whose latest game was for this team) absent from the date's box score."""
    if pgs.empty:
        return pd.Series(dtype="int64")
    latest_team = pgs.groupby("player_lookup")["team_abbr"].first()  # newest first
    stats = pgs.groupby(["team_abbr", "player_lookup"]).agg(
        games=("points", "size"), ppg=("points", "mean"), mpg=("minutes_played", "mean")
    ).reset_index()
    stars = stats[
        (stats["games"] >= STAR_MIN_GAMES)
        & ((stats["ppg"] >= STAR_PPG) | ((stats["mpg"] >= STAR_MPG) & (stats["ppg"] >= STAR_MPG_PPG)))
        & (stats["player_lookup"].map(latest_team) == stats["team_abbr"])
    ]
    playing = set(zip(players["team_abbr"], players["player_lookup"]))
    absent = pd.Series(
        [(t, p) not in playing for t, p in zip(stars["team_abbr"], stars["player_lookup"])],
        index=stars.index, dtype=bool,
    )
    return stars.loc[absent].groupby("team_abbr").size()


def _quality(history_games: int) -> tuple[float, list[str]]:
    """SPEC §3.4: gold/95 with ≥ 10 games in the 30-day history, silver/75 with ≥ 5, else
    bronze/50; `thin_sample` below 3 games; the unscraped sources are listed as issues."""
    score = 95.0 if history_games >= 10 else 75.0 if history_games >= 5 else 50.0
    issues = (["thin_sample"] if history_games < THIN_SAMPLE_GAMES else []) + list(NOT_SCRAPED)
    return score, issues


TABLE = AnalyticsTable(
    name="upcoming_player_game_context",
    doc="""One row per player per game date (merge key game_date, player_lookup): pre-game context.

SPEC §3.4, backfill mode: the players are the date's `nba_raw.nbac_player_boxscore` rows (future
dates without a box score get no rows: the daily-mode driver, rosters + injury report, is not
scraped). History = `nba_analytics.player_game_summary` of the 30 days before D (lookback mapping
PREVIOUS_30_DAYS), cut at the season opener: a previous-season game never counts, so the first
game of a season has days_rest NULL and no averages. days_rest = days since the previous game
(1 = back-to-back); games/minutes in the last 7/14 days count games on D-7..D-1 / D-14..D-1;
points averages over the last 5/10 played games; opponent pace / DRtg over the opponent's last 10
TOGS/TDGS games in the window. The schedule from D-30 to D+7 (SCHEDULE_MINUS_30_PLUS_7) gives
the expected games of the completeness windows (L5/L10 games, L7d/L14d/L30d days: expected =
team Final games, actual = those present in PGS) and the next game.
is_production_ready = all windows ≥ 70 % or within 30 days of the season opener (seasons.py;
the production rule's calendar-month exemptions are replaced by the real opener).
Quality: 95/gold with ≥ 10 games of history, 75/silver with ≥ 5, else 50/bronze. Prop lines,
spreads, totals, injury status and travel are NULL (not scraped) and listed in quality_issues.""",
    columns=COLUMNS,
    key=("game_date", "player_lookup"),
    upstreams={
        "player_boxscore": Upstream(
            (RAW, "nbac_player_boxscore"), None,
            ("game_id", "nba_game_id", "game_date", "player_id", "player_lookup", "team_abbr",
             "opponent_team_abbr", "is_home", "processed_at"),
            "same date: the players of D (backfill mode)",
        ),
        "player_history": Upstream(
            (ANALYTICS, "player_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "player_lookup", "team_abbr", "points", "minutes_played", "usage_rate"),
            "previous 30 days: rest, load, last 5/10 averages, stars",
        ),
        "schedule": Upstream(
            (RAW, "nbac_schedule"), SCHEDULE_MINUS_30_PLUS_7,
            ("game_id", "nba_game_id", "game_date", "game_status", "home_team_tricode", "away_team_tricode",
             "home_team_score", "away_team_score", "is_all_star"),
            "D-30..D+7: completeness expected games, next game",
        ),
        "team_offense_history": Upstream(
            (ANALYTICS, "team_offense_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "team_abbr", "pace"),
            "previous 30 days: team/opponent pace last 10 games, opponent rest",
        ),
        "team_defense_history": Upstream(
            (ANALYTICS, "team_defense_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "defending_team_abbr", "defensive_rating"),
            "previous 30 days: opponent DRtg last 10 games",
        ),
    },
    compute=compute,
    code_version="upgc-1",
    cluster_by=("universal_player_id", "player_lookup", "team_abbr", "game_date"),  # as PGS
)
