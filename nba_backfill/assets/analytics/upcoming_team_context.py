"""upcoming_team_game_context (UTGC), SPEC §3.5."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from nba_backfill.assets.analytics import formulas as f
from nba_backfill.assets.analytics import history as h
from nba_backfill.assets.analytics.factory import META_COLUMNS, QUALITY_COLUMNS, AnalyticsTable, Upstream
from nba_backfill.assets.analytics.frames import Inputs, newest, per_day
from nba_backfill.assets.tables import Col
from nba_backfill.layers import ANALYTICS, RAW
from nba_backfill.partitions import PREVIOUS_30_DAYS, SCHEDULE_MINUS_30_PLUS_7

WINDOWS = {"l7d": 7, "l14d": 14}
NOT_SCRAPED = ("missing_game_spread", "missing_game_total", "missing_injury_report", "missing_travel_distances")
# UTGC tiers come from L14d completeness (SPEC §3.5): ≥95 gold, ≥75 silver, ≥50 bronze, else poor
UTGC_TIERS = (("gold", 95.0), ("silver", 75.0), ("bronze", 50.0))

COLUMNS: tuple[Col, ...] = (
    Col("team_abbr", "STRING"),
    Col("game_id", "STRING", "YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("opponent_team_abbr", "STRING"),
    Col("home_game", "BOOL"),
    Col("game_status", "INT64", "nbac_schedule status: 1 scheduled, 2 live, 3 Final"),
    Col("days_since_last_game", "INT64", "NULL for the team's first game of the season"),
    Col("team_days_rest", "INT64", "full days off before the game (0 = back-to-back)"),
    Col("is_back_to_back", "BOOL"),
    Col("team_back_to_back", "BOOL"),
    Col("games_in_last_7_days", "INT64", "Final games on D-7 .. D-1"),
    Col("games_in_last_14_days", "INT64", "Final games on D-14 .. D-1"),
    Col("game_number_in_season", "INT64", "entering wins + losses + 1"),
    Col("team_wins_entering", "INT64", "season record before the game (nbac_game_summary)"),
    Col("team_losses_entering", "INT64"),
    Col("team_win_pct_entering", "FLOAT64", "NULL before the team's first game"),
    Col("team_win_streak_entering", "INT64"),
    Col("team_loss_streak_entering", "INT64"),
    Col("last_game_margin", "INT64"),
    Col("last_game_result", "STRING", "W / L"),
    Col("team_pace_last_10", "FLOAT64", "TOGS pace over the team's last 10 games"),
    Col("team_off_rating_last_10", "FLOAT64"),
    Col("team_def_rating_last_10", "FLOAT64", "TDGS defensive_rating over the last 10 games"),
    Col("game_spread", "FLOAT64", "NULL: game lines are not scraped"),
    Col("game_total", "FLOAT64", "NULL: game lines are not scraped"),
    Col("spread_movement", "FLOAT64", "NULL: not scraped"),
    Col("total_movement", "FLOAT64", "NULL: not scraped"),
    Col("starters_out_count", "INT64", "NULL: injury report not scraped"),
    Col("questionable_players_count", "INT64", "NULL: injury report not scraped"),
    Col("travel_miles", "INT64", "NULL: travel distances not scraped"),
    Col("early_season_flag", "BOOL", "date within the bootstrap days of its season"),
    Col("insufficient_data_reason", "STRING"),
    Col("expected_games_count", "INT64", "Final games in the last 14 days (schedule)"),
    Col("actual_games_count", "INT64", "of those, present in TOGS"),
    Col("completeness_percentage", "FLOAT64"),
    Col("missing_games_count", "INT64"),
    Col("l7d_completeness_pct", "FLOAT64"),
    Col("l7d_is_complete", "BOOL"),
    Col("l14d_completeness_pct", "FLOAT64"),
    Col("l14d_is_complete", "BOOL"),
    Col("all_windows_complete", "BOOL"),
    Col("source_nbac_schedule_rows_found", "INT64", "schedule games read (D-30..D+7)"),
    *QUALITY_COLUMNS,
    *META_COLUMNS,
)


def compute(days: list[dt.date], inputs: Inputs) -> pd.DataFrame:
    return per_day(days, lambda day: compute_day(day, inputs))


def compute_day(day: dt.date, inputs: Inputs) -> pd.DataFrame:
    season = h.season_of(day)
    first, last = h.history_bounds(day)
    schedule = inputs.between("schedule", first, day + dt.timedelta(days=7))
    teams = h.team_schedule_between(inputs, first, day + dt.timedelta(days=7))
    today = teams[teams["game_date"] == pd.Timestamp(day)]
    if today.empty:
        return pd.DataFrame(columns=[c.name for c in COLUMNS])
    togs = h.newest_first(inputs.between("team_offense_history", first, last))
    tdgs = h.newest_first(inputs.between("team_defense_history", first, last))
    finals = h.newest_first(h.finals_before(teams, first, last))
    window_reaches_opener = day - dt.timedelta(days=h.HISTORY_DAYS) <= season.opener

    out = today[["team_abbr", "game_id", "nba_game_id", "opponent_team_abbr", "home_game", "game_status"]].copy()
    out["game_date"] = day
    out["season_year"] = season.season_year
    last_game = finals.groupby("team_abbr").head(1).set_index("team_abbr")
    out["days_since_last_game"] = (pd.Timestamp(day) - out["team_abbr"].map(last_game["game_date"])).dt.days
    out["team_days_rest"] = out["days_since_last_game"] - 1
    out["is_back_to_back"] = out["days_since_last_game"] == 1
    out["team_back_to_back"] = out["is_back_to_back"]
    for days in (7, 14):
        recent = finals[finals["game_date"] >= pd.Timestamp(day - dt.timedelta(days=days))]
        out[f"games_in_last_{days}_days"] = out["team_abbr"].map(recent.groupby("team_abbr").size()).fillna(0)
    record = _records_entering(out["team_abbr"], last_game, inputs.between("game_summary_history", first, last),
                               window_reaches_opener)
    out["team_wins_entering"] = record["wins"]
    out["team_losses_entering"] = record["losses"]
    played = record["wins"] + record["losses"]
    out["game_number_in_season"] = played + 1
    out["team_win_pct_entering"] = (record["wins"] / played.where(played > 0)).round(3)
    margin = last_game["team_score"] - last_game["opp_score"]
    out["last_game_margin"] = out["team_abbr"].map(margin)
    out["last_game_result"] = out["last_game_margin"].map(lambda m: None if pd.isna(m) else ("W" if m > 0 else "L"))
    streaks = {team: _streak(g) for team, g in finals.groupby("team_abbr")}
    out["team_win_streak_entering"] = out["team_abbr"].map(lambda t: streaks.get(t, (0, 0, False))[0])
    out["team_loss_streak_entering"] = out["team_abbr"].map(lambda t: streaks.get(t, (0, 0, False))[1])
    truncated = out["team_abbr"].map(lambda t: streaks.get(t, (0, 0, False))[2]) & (not window_reaches_opener)

    out["team_pace_last_10"] = out["team_abbr"].map(h.last_n_mean(togs, "team_abbr", "pace", 10)).round(1)
    out["team_off_rating_last_10"] = out["team_abbr"].map(h.last_n_mean(togs, "team_abbr", "offensive_rating", 10)).round(2)
    out["team_def_rating_last_10"] = out["team_abbr"].map(
        h.last_n_mean(tdgs, "defending_team_abbr", "defensive_rating", 10)
    ).round(2)
    for col in ("game_spread", "game_total", "spread_movement", "total_movement", "starters_out_count",
                "questionable_players_count", "travel_miles"):
        out[col] = None
    early = season.is_bootstrap(day)
    out["early_season_flag"] = early
    out["insufficient_data_reason"] = (
        f"bootstrap day {season.days_since_opener(day)} of {season.label}" if early else None
    )

    present = set(zip(togs["game_id"].astype(str), togs["team_abbr"].astype(str)))
    comp = h.complete_defaults(
        out[["team_abbr"]].merge(h.window_completeness(day, teams, present, WINDOWS), on="team_abbr", how="left"),
        WINDOWS,
    )
    for w in WINDOWS:
        out[f"{w}_completeness_pct"] = comp[f"{w}_completeness_pct"].to_numpy()
        out[f"{w}_is_complete"] = comp[f"{w}_is_complete"].to_numpy()
    out["expected_games_count"] = comp["l14d_expected"].to_numpy()
    out["actual_games_count"] = comp["l14d_actual"].to_numpy()
    out["completeness_percentage"] = out["l14d_completeness_pct"]
    out["missing_games_count"] = out["expected_games_count"] - out["actual_games_count"]
    out["all_windows_complete"] = out["l7d_is_complete"] & out["l14d_is_complete"]
    out["source_nbac_schedule_rows_found"] = schedule["game_id"].nunique()

    scores = out["l14d_completeness_pct"].astype(float)
    tiers = [_tier(s) for s in scores]
    issues = [
        list(NOT_SCRAPED)
        + (["missing_game_summary"] if pd.isna(w) else [])
        + (["streak_truncated_at_window"] if t else [])
        for t, w in zip(truncated, out["team_wins_entering"])
    ]
    sources = [["nbac_schedule", "nbac_game_summary", "team_offense_game_summary", "team_defense_game_summary"]] * len(out)
    return out.assign(
        **f.quality_columns(scores, issues, sources, production_ready=out["all_windows_complete"], tiers=tiers)
    )


def _records_entering(teams: pd.Series, last_game: pd.DataFrame, summaries: pd.DataFrame,
                      window_reaches_opener: bool) -> pd.DataFrame:
    """Wins/losses before the game: the record after the team's previous game
    (`nbac_game_summary.team_wins_losses`), 0-0 when the team has not played yet this season.
    NULL when the previous game's summary row is missing, or when the team has no game in the
    window and the opener lies before it (the record cannot be read)."""
    summaries = newest(summaries, ["game_id", "team_abbr"])
    after = dict(zip(zip(summaries["game_id"].astype(str), summaries["team_abbr"].astype(str)),
                     summaries["team_wins_losses"]))
    wins, losses = [], []
    for team in teams:
        if team in last_game.index:
            record = _parse_record(after.get((str(last_game.loc[team, "game_id"]), team)))
        else:
            record = (0, 0) if window_reaches_opener else None
        wins.append(record[0] if record else None)
        losses.append(record[1] if record else None)
    return pd.DataFrame({"wins": wins, "losses": losses}, index=teams.index, dtype="Float64")


def _parse_record(text) -> tuple[int, int] | None:
    """'12-5' → (12, 5); anything else → None."""
    if text is None or pd.isna(text):
        return None
    parts = str(text).strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _streak(games: pd.DataFrame) -> tuple[int, int, bool]:
    """(wins, losses, covers_whole_window) of the current streak; games newest first."""
    results = (games["team_score"] > games["opp_score"]).tolist()
    if not results:
        return 0, 0, False
    n = 0
    while n < len(results) and results[n] == results[0]:
        n += 1
    return (n, 0, n == len(results)) if results[0] else (0, n, n == len(results))


def _tier(score: float) -> str:
    for tier, floor in UTGC_TIERS:
        if score >= floor:
            return tier
    return "poor"


TABLE = AnalyticsTable(
    name="upcoming_team_game_context",
    doc="""One row per team per scheduled game (two rows per game; merge key game_date, team_abbr).

SPEC §3.5. Rows: the games of D in `nba_raw.nbac_schedule` (All-Star games excluded). The schedule
from D-30 to D+7 (SCHEDULE_MINUS_30_PLUS_7) gives rest (days_since_last_game; team_days_rest =
full days off, 0 = back-to-back), games in the last 7/14 days, the entering win/loss streak and
the last game's margin, all from Final games and cut at the season opener. TOGS/TDGS of the
previous 30 days give pace / ORtg / DRtg over the last 10 games and the "actual" side of the
L7d/L14d completeness windows (expected = Final games in the schedule). The season record
entering the game (and game_number_in_season = wins + losses + 1) is the record after the team's
previous game in `nba_raw.nbac_game_summary` of the previous 30 days (0-0 before its first game;
NULL with `missing_game_summary` when that row is missing). Tier from L14d completeness (≥95 gold, ≥75
silver, ≥50 bronze, else poor), quality_score = L14d pct, production-ready when both windows are
≥ 70 %. Spreads, totals, injuries and travel are NULL (not scraped) and listed in quality_issues.""",
    columns=COLUMNS,
    key=("game_date", "team_abbr"),
    upstreams={
        "schedule": Upstream(
            (RAW, "nbac_schedule"), SCHEDULE_MINUS_30_PLUS_7,
            ("game_id", "nba_game_id", "game_date", "game_status", "home_team_tricode", "away_team_tricode",
             "home_team_score", "away_team_score", "is_all_star"),
            "D-30..D+7: rest, streaks, completeness expected games",
        ),
        "game_summary_history": Upstream(
            (RAW, "nbac_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "team_abbr", "team_wins_losses", "processed_at"),
            "previous 30 days: season record after the team's previous game",
        ),
        "team_offense_history": Upstream(
            (ANALYTICS, "team_offense_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "team_abbr", "pace", "offensive_rating"),
            "previous 30 days: last-10 pace/ORtg, completeness actual games",
        ),
        "team_defense_history": Upstream(
            (ANALYTICS, "team_defense_game_summary"), PREVIOUS_30_DAYS,
            ("game_id", "game_date", "defending_team_abbr", "defensive_rating"),
            "previous 30 days: last-10 DRtg",
        ),
    },
    compute=compute,
    code_version="utgc-1",
    cluster_by=("team_abbr", "game_date", "home_game"),  # as TOGS
)
