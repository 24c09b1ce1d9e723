"""Every private Dagster name the project uses, in one place.

Dagster's public API does not cover what this project needs in a few spots: per-partition check
evaluations in ranged runs, per-partition "planned" events that make a partition of a failed
ranged step show as failed, the SQLite event log's engine handling, the DB IO manager's table
slices, backfill records for the CLI and alerts, and the run-worker concurrency claim loop. Those
imports live here and nowhere else, so a Dagster upgrade is checked against one file
(`nba_backfill_tests/test_compat.py` imports every name). Pinned: dagster 1.13 (pyproject.toml).
"""

from dagster._daemon import controller as daemon_controller
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.events import AssetMaterializationFailureReason
from dagster._core.definitions.partitions.utils import TimeWindow
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus, PartitionBackfill
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.db_io_manager import (
    DbIOManager,
    DbTypeHandler,
    TablePartitionDimension,
    TableSlice,
)
from dagster._core.storage.event_log.base import AssetRecordsFilter
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    AUTOMATION_CONDITION_TAG,
    BACKFILL_ID_TAG,
    PARTITION_NAME_TAG,
)
from dagster._utils.backoff import backoff
from dagster._utils.error import SerializableErrorInfo



def step_execution_context(context):
    """The StepExecutionContext behind an asset's execution context (job name, step key, the
    step's log manager that writes Dagster events)."""
    return context.op_execution_context._step_execution_context  # noqa: SLF001


__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "AUTOMATION_CONDITION_TAG",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "AssetMaterializationFailureReason",
    "AssetMaterializationPlannedData",
    "AssetRecordsFilter",
    "BACKFILL_ID_TAG",
    "BulkActionStatus",
    "BulkActionsFilter",
    "DagsterEvent",
    "DbIOManager",
    "DbTypeHandler",
    "INDEX_SHARD_NAME",
    "PARTITION_NAME_TAG",
    "PartitionBackfill",
    "PartitionKeyFilter",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "SerializableErrorInfo",
    "SqliteEventLogStorage",
    "TablePartitionDimension",
    "TableSlice",
    "TimeWindow",
    "backoff",
    "create_engine",
    "daemon_controller",
    "step_execution_context",
]

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

__all__ += ["InstanceConcurrencyContext"]
