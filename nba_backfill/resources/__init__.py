from nba_backfill.resources.environment import (
    RESOURCE_KEYS,
    backfill_home,
    build_resources,
    current_environment,
)
from nba_backfill.resources.lake import Lake, LocalLake
from nba_backfill.resources.nba_api import ApiResponse, NbaApiClient, NbaApiError
from nba_backfill.resources.warehouse import (
    DuckDBWarehouse,
    NbaDuckDBIOManager,
    Warehouse,
    partition_expr,
)

__all__ = [
    "RESOURCE_KEYS",
    "ApiResponse",
    "DuckDBWarehouse",
    "Lake",
    "LocalLake",
    "NbaApiClient",
    "NbaApiError",
    "NbaDuckDBIOManager",
    "Warehouse",
    "backfill_home",
    "build_resources",
    "current_environment",
    "partition_expr",
]
