"""Season-to-date accumulators: how Phase 4 gets season values without an unbounded mapping.

A season is up to ~245 daily partitions; a lookback mapping that wide would load the whole
season for every date and be ignored by Dagster's staleness (≥ 100 partitions). Instead two
small state tables carry cumulative sums *entering* each date (games strictly before it):

    state(D) = state(previous in-season date) + that date's games      (empty on the opener)

Each depends on itself through `PREVIOUS_DAY` (a self-dependency) and on that one previous date
of Phase 3. In a ranged run the factory reads the state before the range's first date from the
warehouse and then computes the range sequentially, so one single-run backfill covers a whole
season. At an opener the state restarts empty — the previous season's last date is never read,
so season-to-date values never cross a season boundary. A gap (a previous date never
materialized, or blocked by a failed check) breaks the chain: that date and every later date of
the run write no rows and fail `lookback_complete`, naming the gap, until it is filled.

Bootstrap days are computed (the state must exist on day 14); these tables are state, not
products, so they carry no completeness columns.

Consumers: PDC reads both for the same date (points_avg_season, games_played_season,
player_usage_rate_season, minutes_avg_season, team_win_pct_season).
"""

from __future__ import annotations

import pandas as pd

from nba_backfill.assets.precompute.factory import Day, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import PGS, SCHEDULE, TOGS, active_games, numeric, value
from nba_backfill.assets.tables import Col
from nba_backfill.partitions import PREVIOUS_DAY

PLAYER_SUMS = {
    "points_sum": "points",
    "minutes_sum": "minutes_played",
    "fg_attempts_sum": "fg_attempts",
    "fg_makes_sum": "fg_makes",
    "three_pt_attempts_sum": "three_pt_attempts",
    "ft_attempts_sum": "ft_attempts",
    "ft_makes_sum": "ft_makes",
}

PLAYER_COLS = (
    Col("as_of_date", "DATE", "State entering this date: games strictly before it"),
    Col("player_lookup", "STRING"),
    Col("season_year", "INT64"),
    Col("team_abbr", "STRING", "Team of the player's latest game"),
    Col("games_played", "INT64", "Played games this season before as_of_date"),
    *(Col(name, "FLOAT64") for name in PLAYER_SUMS),
    Col("usage_rate_sum", "FLOAT64", "Sum of per-game usage rates (games with a usage rate)"),
    Col("usage_rate_games", "INT64"),
    Col("first_game_date", "DATE"),
    Col("last_game_date", "DATE"),
)

TEAM_COLS = (
    Col("as_of_date", "DATE", "State entering this date: games strictly before it"),
    Col("team_abbr", "STRING"),
    Col("season_year", "INT64"),
    Col("games_played", "INT64"),
    Col("wins", "INT64"),
    Col("losses", "INT64"),
    Col("points_for_sum", "FLOAT64"),
    Col("points_against_sum", "FLOAT64"),
    Col("last_game_date", "DATE"),
)


def _records(day: Day, key: str) -> dict[str, dict]:
    """The previous state as {entity: row dict} (dates normalised to datetime.date)."""
    state = day.state if day.state is not None else pd.DataFrame()
    out: dict[str, dict] = {}
    for row in state.drop(columns=["as_of_date"], errors="ignore").to_dict("records"):
        for c in ("first_game_date", "last_game_date"):
            if c in row and isinstance(row[c], pd.Timestamp):
                row[c] = row[c].date()
        out[row[key]] = row
    return out


def _frame(rows: dict[str, dict], cols, key: str, season_year: int) -> pd.DataFrame:
    names = [c.name for c in cols if c.name != "as_of_date"]
    frame = pd.DataFrame([rows[k] for k in sorted(rows)], columns=names)
    frame["season_year"] = season_year
    return frame


def advance_players(day: Day) -> pd.DataFrame:
    """Player state entering `day.day` = previous state + the previous date's played games."""
    rows = _records(day, "player_lookup")
    games = numeric(active_games(day.frames["pgs"]), [*PLAYER_SUMS.values(), "usage_rate"])
    for g in games.sort_values("game_date").to_dict("records"):
        row = rows.setdefault(g["player_lookup"], {
            "player_lookup": g["player_lookup"], "games_played": 0, **{k: 0.0 for k in PLAYER_SUMS},
            "usage_rate_sum": 0.0, "usage_rate_games": 0, "first_game_date": g["game_date"], "last_game_date": None,
        })
        row["games_played"] = int(value(row["games_played"]) or 0) + 1
        for k, col in PLAYER_SUMS.items():
            row[k] = float(value(row[k]) or 0.0) + float(value(g[col]) or 0.0)
        usage = value(g["usage_rate"])
        row["usage_rate_sum"] = float(value(row["usage_rate_sum"]) or 0.0) + (usage or 0.0)
        row["usage_rate_games"] = int(value(row["usage_rate_games"]) or 0) + (usage is not None)
        row["team_abbr"] = g["team_abbr"]
        row["last_game_date"] = g["game_date"]
    return _frame(rows, PLAYER_COLS, "player_lookup", day.season.season_year)


def advance_teams(day: Day) -> pd.DataFrame:
    """Team state entering `day.day`: games, wins/losses (points vs the opponent's row of the
    same game) and points for/against."""
    rows = _records(day, "team_abbr")
    togs = numeric(day.frames["togs"], ["points_scored"])
    points = {(g, t): p for g, t, p in zip(togs["game_id"], togs["team_abbr"], togs["points_scored"])}
    for g in togs.sort_values("game_date").to_dict("records"):
        opp = [p for (gid, t), p in points.items() if gid == g["game_id"] and t != g["team_abbr"]]
        if not opp:
            continue  # the opponent's row is missing: the game cannot be scored
        ours, theirs = float(g["points_scored"]), float(opp[0])
        row = rows.setdefault(g["team_abbr"], {"team_abbr": g["team_abbr"], "games_played": 0, "wins": 0,
                                               "losses": 0, "points_for_sum": 0.0, "points_against_sum": 0.0})
        row["games_played"] = int(value(row["games_played"]) or 0) + 1
        row["wins"] = int(value(row["wins"]) or 0) + (ours > theirs)
        row["losses"] = int(value(row["losses"]) or 0) + (ours < theirs)
        row["points_for_sum"] = float(value(row["points_for_sum"]) or 0.0) + ours
        row["points_against_sum"] = float(value(row["points_against_sum"]) or 0.0) + theirs
        row["last_game_date"] = g["game_date"]
    return _frame(rows, TEAM_COLS, "team_abbr", day.season.season_year)


def _accumulator(table: str, doc: str, cols, key: str, games: Input, compute) -> PrecomputeSpec:
    """A season-to-date table: the previous in-season date's games (`games`) added to the state."""
    return PrecomputeSpec(
        table=table,
        doc=doc,
        cols=cols,
        date_column="as_of_date",
        key_columns=(key,),
        inputs=(games, Input("schedule", SCHEDULE, PREVIOUS_DAY)),  # which games that date must have
        compute=compute,
        rows_on_game_days=(games.param,),
        bootstrap="compute",
        accumulator=True,
        add_completeness_cols=False,
    )


PLAYER_SEASON_TOTALS = _accumulator(
    "player_season_totals",
    "One row per player per date: season-to-date sums of the player's played games strictly "
    "before the date (state carried from the previous date; restarts at each opener). "
    + __doc__.split("\n\n")[1],
    PLAYER_COLS, "player_lookup", Input("pgs", PGS, PREVIOUS_DAY), advance_players,
)

TEAM_SEASON_TOTALS = _accumulator(
    "team_season_totals",
    "One row per team per date: season-to-date games, wins, losses and points strictly before "
    "the date (state carried from the previous date; restarts at each opener).",
    TEAM_COLS, "team_abbr", Input("togs", TOGS, PREVIOUS_DAY), advance_teams,
)
