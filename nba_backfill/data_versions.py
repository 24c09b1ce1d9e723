"""Per-partition data versions: each partition's Dagster data version is its content version.

Dagster gives every partition of a ranged step's `Output` the same data version, derived from the
code version and the combined versions of the inputs. So re-running a range over identical data
records new versions, and Dagster's per-partition staleness ("Unsynced") flags every partition
that reads a re-materialized date, changed or not. Dagster compares a dependency partition's data
version before and after the reader's materialization (`CachingStaleStatusResolver
._is_dep_updated`), so a content-true version per partition makes that comparison content-true.

The table core and the scrapers put each partition's `content_version`
(`nba_backfill.assets.core.content`) into that partition's metadata. `apply_partition_data_versions`
wraps the function that turns a step's `Output` into materialization events
(`execute_step._get_output_asset_events`), so a partition event that carries `content_version`
gets it as its data version, flagged user-provided, keeping the code-version and input-provenance
tags Dagster computed. Materializations a step yields itself (the core's partial write) get the
same tags from `materialization_tags`. Every process that loads the code location applies the
wrapper: run workers are where events are built.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import AssetKey, AssetMaterialization

from nba_backfill.assets.core.content import CONTENT_VERSION
from nba_backfill.compat import (
    DATA_VERSION_IS_USER_PROVIDED_TAG,
    DATA_VERSION_TAG,
    DataVersion,
    execute_step_module,
    step_execution_context,
)

_MARK = "_nba_partition_data_versions"


def content_version_of(event) -> str | None:
    value = (event.metadata or {}).get(CONTENT_VERSION)
    value = getattr(value, "value", value)
    return str(value) if value else None


def with_content_version(event):
    """`event` with its `content_version` metadata as data version (other events unchanged)."""
    if not isinstance(event, AssetMaterialization) or event.partition is None:
        return event
    version = content_version_of(event)
    if version is None:
        return event
    tags = {**(event.tags or {}), DATA_VERSION_TAG: version, DATA_VERSION_IS_USER_PROVIDED_TAG: "true"}
    return AssetMaterialization(asset_key=event.asset_key, description=event.description,
                                metadata=event.metadata, partition=event.partition, tags=tags)


def apply_partition_data_versions() -> None:
    """Wrap Dagster's output-event builder once per process (idempotent)."""
    original = execute_step_module._get_output_asset_events  # noqa: SLF001
    if getattr(original, _MARK, False):
        return

    def _get_output_asset_events(*args, **kwargs) -> Iterator:
        for event in original(*args, **kwargs):
            yield with_content_version(event)

    setattr(_get_output_asset_events, _MARK, True)
    execute_step_module._get_output_asset_events = _get_output_asset_events  # noqa: SLF001


def materialization_tags(context, asset_key: AssetKey, version: str) -> dict[str, str]:
    """The tags Dagster would give a materialization of `asset_key` in this step (code version,
    input versions and event pointers), with `version` as its user-provided data version."""
    step = step_execution_context(context)
    module = execute_step_module
    provenance = module._get_input_provenance_data(asset_key, step)  # noqa: SLF001
    code_version = module._get_code_version(asset_key, step)  # noqa: SLF001
    return module._build_data_version_tags(DataVersion(version), code_version, provenance, True)  # noqa: SLF001
