"""Phase 2: raw tables `nba_raw/<table>` parsed from the lake.

One spec per table in `specs.RAW_TABLES`, pure parsers in `parsers/`, one factory
(`factory.build_raw_table`).
"""

from nba_backfill.assets.raw.factory import build_raw_table
from nba_backfill.assets.raw.specs import RAW_TABLES

assets: list = [build_raw_table(spec) for spec in RAW_TABLES]
