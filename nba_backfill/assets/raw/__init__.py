"""Phase 2: raw tables `nba_raw/<table>` parsed from the lake.

One spec per table in `specs.RAW_TABLES`, pure parsers in `parsers/`, built on the table-asset
core (`factory.table_spec`).
"""

from nba_backfill.assets.raw.factory import build_raw_tables
from nba_backfill.assets.raw.specs import RAW_TABLES

assets: list = build_raw_tables(RAW_TABLES)
