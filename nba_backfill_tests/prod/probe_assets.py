"""A three-asset miniature of the pipeline, on real rows, to prove the prod resources alone.

lake:      nba_lake/probe_game_logs       leaguegamelog-style rows of the date, one JSON object per
                                          game under `probe/game-logs/<date>/<game_id>.json`
raw:       nba_raw/probe_player_games     one row per player per game (every column type we use)
analytics: nba_analytics/probe_player_form one row per player on the date's slate, with their
                                          games and points in the previous 30 partitions
Rows come from the game logs bundled with the offline source (real 2020-21..2024-25 games).
The same definitions run on DuckDB (`local`) and on BigQuery + GCS (`prod`).
"""

import datetime as dt
from functools import lru_cache

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetIn,
    MaterializeResult,
    Output,
    TimeWindowPartitionMapping,
    asset,
)

from nba_backfill.assets.common import frame_metadata, partition_dates, player_lookup
from nba_backfill.assets.tables import Col, column_schema, conform
from nba_backfill.layers import ANALYTICS, LAKE, RAW
from nba_backfill.partitions import DAILY_PARTITIONS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.bigquery import CLUSTER_BY
from nba_backfill.resources.lake import Lake
from nba_backfill.resources.warehouse import partition_expr
from nba_backfill.source.data_store import PARQUET_PATH

LAKE_PREFIX = "probe/game-logs"

SLATE_AND_PREVIOUS_30_DAYS = TimeWindowPartitionMapping(start_offset=-30, end_offset=0)
"""The date's own games plus the previous 30 partitions (the form window)."""

PLAYER_GAMES_COLS = (
    Col("game_date", "DATE"),
    Col("nba_game_id", "STRING"),
    Col("player_lookup", "STRING"),
    Col("player_name", "STRING"),
    Col("team_abbr", "STRING"),
    Col("is_home", "BOOL"),
    Col("won", "BOOL"),
    Col("minutes", "INT64"),
    Col("points", "INT64"),
    Col("plus_minus", "INT64"),
    Col("fg_pct", "FLOAT64"),
    Col("matchup_teams", "ARRAY<STRING>"),
    Col("tipoff_utc", "TIMESTAMP"),
)

PLAYER_FORM_COLS = (
    Col("analysis_date", "DATE"),
    Col("player_lookup", "STRING"),
    Col("team_abbr", "STRING"),
    Col("games_prior", "INT64"),
    Col("points_avg_prior", "FLOAT64"),
    Col("last_game_date", "DATE"),
)


@lru_cache(maxsize=1)
def game_logs() -> pd.DataFrame:
    return pd.read_parquet(PARQUET_PATH)


def lake_key(day: str, game_id: str) -> str:
    return f"{LAKE_PREFIX}/{day}/{game_id}.json"


@asset(
    key=[LAKE, "probe_game_logs"],
    group_name=LAKE,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=TABLE_BACKFILL_POLICY,
)
def probe_game_logs(context: AssetExecutionContext, lake: Lake) -> MaterializeResult:
    """One lake object per game: the leaguegamelog player rows of that game."""
    logs = game_logs()
    written = objects = 0
    for day in partition_dates(context):
        rows = logs[logs["GAME_DATE"] == day.isoformat()]
        landed = {
            lake_key(day.isoformat(), gid): grp.drop(columns=["SEASON_LABEL"]).to_dict("records")
            for gid, grp in rows.groupby("GAME_ID")
        }
        written += lake.replace_prefix(f"{LAKE_PREFIX}/{day.isoformat()}/", landed)
        objects += len(landed)
    return MaterializeResult(metadata={"objects": objects, "bytes": written})


def _player_games(lake: Lake, day: dt.date) -> pd.DataFrame:
    rows = []
    for key in lake.list_keys(f"{LAKE_PREFIX}/{day.isoformat()}/"):
        for r in lake.read_json(key):
            home = " vs. " in r["MATCHUP"]
            teams = r["MATCHUP"].replace(" vs. ", " @ ").split(" @ ")
            rows.append(
                {
                    "game_date": day,
                    "nba_game_id": r["GAME_ID"],
                    "player_lookup": player_lookup(r["PLAYER_NAME"]),
                    "player_name": r["PLAYER_NAME"],
                    "team_abbr": r["TEAM_ABBREVIATION"],
                    "is_home": home,
                    "won": {"W": True, "L": False}.get(r["WL"]),
                    "minutes": r["MIN"],
                    "points": r["PTS"],
                    "plus_minus": None if r["MIN"] == 0 else r["PLUS_MINUS"],
                    "fg_pct": r["FG_PCT"],
                    "matchup_teams": sorted(teams),
                    "tipoff_utc": pd.Timestamp(day.isoformat(), tz="America/New_York")
                    + pd.Timedelta(hours=19),
                }
            )
    return pd.DataFrame(rows, columns=[c.name for c in PLAYER_GAMES_COLS])


@asset(
    key=[RAW, "probe_player_games"],
    group_name=RAW,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=TABLE_BACKFILL_POLICY,
    io_manager_key="io_manager",
    deps=[probe_game_logs],
    metadata={
        "partition_expr": partition_expr("game_date"),
        "dagster/column_schema": column_schema(PLAYER_GAMES_COLS),
        CLUSTER_BY: ["player_lookup", "team_abbr", "game_date"],
    },
)
def probe_player_games(context: AssetExecutionContext, lake: Lake) -> Output[pd.DataFrame]:
    """One row per player per game."""
    frames = [f for f in (_player_games(lake, day) for day in partition_dates(context)) if len(f)]
    games = pd.concat(frames, ignore_index=True) if frames else _player_games(lake, dt.date.min)
    df = conform(games, PLAYER_GAMES_COLS)
    return Output(df, metadata=frame_metadata(df))


@asset(
    key=[ANALYTICS, "probe_player_form"],
    group_name=ANALYTICS,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=TABLE_BACKFILL_POLICY,
    io_manager_key="io_manager",
    ins={
        "games": AssetIn(
            key=[RAW, "probe_player_games"], partition_mapping=SLATE_AND_PREVIOUS_30_DAYS
        )
    },
    metadata={
        "partition_expr": partition_expr("analysis_date"),
        "dagster/column_schema": column_schema(PLAYER_FORM_COLS),
        CLUSTER_BY: ["player_lookup", "team_abbr"],
    },
)
def probe_player_form(context: AssetExecutionContext, games: pd.DataFrame) -> Output[pd.DataFrame]:
    """One row per player on the date's slate: games and mean points in the previous 30 days."""
    everything = games.copy()
    everything["game_date"] = pd.to_datetime(everything["game_date"]).dt.date
    out = []
    for day in partition_dates(context):
        today = everything[everything["game_date"] == day]
        prior = everything[
            (everything["game_date"] < day)
            & (everything["game_date"] >= day - dt.timedelta(days=30))
        ]
        for (player, team), _ in today.groupby(["player_lookup", "team_abbr"], sort=True):
            mine = prior[prior["player_lookup"] == player]
            out.append(
                {
                    "analysis_date": day,
                    "player_lookup": player,
                    "team_abbr": team,
                    "games_prior": len(mine),
                    "points_avg_prior": float(mine["points"].mean()) if len(mine) else None,
                    "last_game_date": max(mine["game_date"]) if len(mine) else None,
                }
            )
    df = conform(pd.DataFrame(out, columns=[c.name for c in PLAYER_FORM_COLS]), PLAYER_FORM_COLS)
    return Output(df, metadata=frame_metadata(df))


PROBE_ASSETS = [probe_game_logs, probe_player_games, probe_player_form]
