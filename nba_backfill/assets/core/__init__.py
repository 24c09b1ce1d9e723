"""The table-asset core: one spec type and one factory for every warehouse table (Phases 2-5).

Layers describe tables as `TableSpec`s and supply only their compute and checks; the core owns
the per-partition outcome, the guard, hashing, check emission, the write and the Dagster events
(see `factory.py`).
"""

from nba_backfill.assets.core.factory import build_table_assets
from nba_backfill.assets.core.outcome import Cause, CauseKind, PartitionOutcome
from nba_backfill.assets.core.run import RangeRun, run_range
from nba_backfill.assets.core.spec import CheckDef, Computed, RangeInput, TableInput, TableSpec

__all__ = [
    "Cause",
    "CauseKind",
    "CheckDef",
    "Computed",
    "PartitionOutcome",
    "RangeInput",
    "RangeRun",
    "TableInput",
    "TableSpec",
    "build_table_assets",
    "run_range",
]
