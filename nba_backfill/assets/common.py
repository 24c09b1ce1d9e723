"""Helpers shared by the asset factories of every layer."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from dagster import AssetExecutionContext, MetadataValue

from nba_backfill.partitions import DAILY_PARTITIONS

WAREHOUSE_POOL = "warehouse"
"""Pool of every step that writes the warehouse: DuckDB allows one writer process at a time."""
NBA_API_POOL = "nba_api"
"""Pool of every scraper step (limit set in the instance config)."""


def partition_keys(context: AssetExecutionContext) -> list[str]:
    """The in-season partition keys this run covers (one key, or a ranged run's whole range)."""
    if not context.has_partition_key_range and context.has_partition_key:
        return [context.partition_key]
    key_range = context.partition_key_range
    return DAILY_PARTITIONS.get_partition_keys_in_range(key_range)


def partition_dates(context: AssetExecutionContext) -> list[dt.date]:
    return [dt.date.fromisoformat(k) for k in partition_keys(context)]


def frame_metadata(df: pd.DataFrame, **extra) -> dict:
    """Plot-able materialization metadata: rows, null rates of every column, plus extras."""
    meta: dict = {"rows": len(df)}
    if len(df):
        nulls = df.isna().mean()
        worst = nulls[nulls > 0].sort_values(ascending=False).head(10)
        meta["null_rate_max"] = float(nulls.max())
        if len(worst):
            meta["null_rates"] = MetadataValue.json({k: round(float(v), 4) for k, v in worst.items()})
    meta.update(extra)
    return meta


def player_lookup(name: str) -> str:
    """SPEC §0: lower-cased name with spaces and punctuation removed ("D'Angelo Russell" ->
    "dangelorussell"). Accented letters are folded to ASCII first ("Jokić" -> "jokic")."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def game_code(game_date: dt.date | str, away_abbr: str, home_abbr: str) -> str:
    """SPEC §0 game_id: YYYYMMDD_AWAY_HOME (the NBA numeric id is `nba_game_id`)."""
    day = game_date if isinstance(game_date, str) else game_date.isoformat()
    return f"{day.replace('-', '')}_{away_abbr}_{home_abbr}"
