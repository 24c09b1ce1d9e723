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
from dagster._core.definitions.data_version import (
    DATA_VERSION_IS_USER_PROVIDED_TAG,
    DATA_VERSION_TAG,
    DataVersion,
)
from dagster._core.definitions.selector import (
    PartitionRangeSelector,
    PartitionsByAssetSelector,
    PartitionsSelector,
)
from dagster._core.execution.plan import execute_step as execute_step_module
from dagster._core.utils import make_new_backfill_id
from dagster._utils.backoff import backoff
from dagster._utils.error import SerializableErrorInfo



def step_execution_context(context):
    """The StepExecutionContext behind an asset's execution context (job name, step key, the
    step's log manager that writes Dagster events)."""
    return context.op_execution_context._step_execution_context  # noqa: SLF001


def validate_instance_yaml(path) -> dict[str, str]:
    """Validate a dagster.yaml the way `DagsterInstance` loads it, connecting to nothing: the file
    against Dagster's instance schema (`InstanceRef.from_dir` -> `dagster_instance_config`), then
    the config of every configurable class it names (run launcher, coordinator, storage, compute
    logs, ...) against that class's own `config_type()` — the check `ConfigurableClassData.
    rehydrate` makes before it instantiates. Classes are imported, never instantiated; `env:`
    values are checked for shape, not read. Returns {ref field: "module.Class"}; raises
    DagsterInvalidConfigError (or ImportError for a class that cannot be imported)."""
    from pathlib import Path

    from dagster._config import resolve_to_config_type, validate_config
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.ref import InstanceRef
    from dagster._serdes import ConfigurableClassData, class_from_code_pointer

    path = Path(path)
    ref = InstanceRef.from_dir(str(path.parent), config_filename=path.name)
    classes = {}
    for field, data in ref._asdict().items():
        if not isinstance(data, ConfigurableClassData):
            continue
        klass = class_from_code_pointer(data.module_name, data.class_name)
        result = validate_config(resolve_to_config_type(klass.config_type()), data.config_dict)
        if not result.success:
            raise DagsterInvalidConfigError(
                f"{path}: invalid config for {field} ({data.module_name}.{data.class_name})",
                result.errors,
                data.config_dict,
            )
        classes[field] = f"{data.module_name}.{data.class_name}"
    return classes


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
    "DATA_VERSION_IS_USER_PROVIDED_TAG",
    "DATA_VERSION_TAG",
    "DagsterEvent",
    "DataVersion",
    "DbIOManager",
    "DbTypeHandler",
    "INDEX_SHARD_NAME",
    "PARTITION_NAME_TAG",
    "PartitionBackfill",
    "PartitionKeyFilter",
    "PartitionRangeSelector",
    "PartitionsByAssetSelector",
    "PartitionsSelector",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "SerializableErrorInfo",
    "SqliteEventLogStorage",
    "TablePartitionDimension",
    "TableSlice",
    "TimeWindow",
    "backoff",
    "create_engine",
    "daemon_controller",
    "execute_step_module",
    "make_new_backfill_id",
    "step_execution_context",
    "validate_instance_yaml",
]

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

__all__ += ["InstanceConcurrencyContext"]
