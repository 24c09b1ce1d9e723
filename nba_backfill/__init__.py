"""nba_backfill: the NBA player-props pipeline as a Dagster asset graph (see README.md)."""

import warnings

from dagster import BetaWarning, PreviewWarning

# Known, deliberate uses of Dagster features, silenced in the package's first import (before any
# asset is defined) so that loading the code location prints no warning wall: partitioned asset
# checks (Preview; one result per date is what the Partitions tab shows), `backfill_policy=` on
# assets (Beta; tables write ranges in one run) and asset jobs mixing the per-run-stage backfill
# policies (by design, see `partitions.table_backfill_policy`), and the `owners` parameter Dagster
# itself passes when it binds a job-targeting sensor (`stale_partitions` -> `mark_stale`) to the
# repository (we set no owners). Each filter names its category and message, so any other
# Preview/Beta/Supersession warning still shows.
warnings.filterwarnings(
    "ignore", r"Specifying a partitions_def on an AssetCheckSpec is currently in preview", PreviewWarning
)
warnings.filterwarnings(
    "ignore", r"Parameter `backfill_policy` of function `asset` is currently in beta", BetaWarning
)
warnings.filterwarnings("ignore", r"Asset job \S+ materializes assets with varying BackfillPolicies", UserWarning)
warnings.filterwarnings(
    "ignore", r"Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta", BetaWarning
)
