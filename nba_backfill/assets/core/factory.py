"""The one factory of every warehouse table asset (Phases 2-5): `TableSpec`s in, assets out.

Naming rule: spec key `[layer, table]` = asset key = table `layer.table` (DuckDB schema /
BigQuery dataset = layer), group = layer. What every table step does, in order:
1. **Guard** (`nba_backfill.guards`): dates whose upstream dates (through every declared mapping,
   lookback windows included) failed a blocking check, or whose same-date inputs were never
   materialized (e.g. failed in an earlier backfill), are *blocked*: not computed.
2. **Compute** the open dates with the layer's function; an error it cannot pin to a date is
   isolated by recomputing halves of the range (`run.compute_isolated`).
3. **Finish**: conform to the declared columns, `processed_at`, `data_hash` (one scheme).
4. **Judge** every date: the layer's checks, then one outcome per date — ok, blocked (typed
   reasons) or failed (cause) — published as the blocking check `partition_ok`.
5. **Write** exactly the ok dates. All ok: the range's `Output` (the IO manager replaces the
   window). Otherwise the core replaces the window itself with the ok rows, records one
   materialization per ok date, marks the bad dates failed and fails the step naming each bad
   date and its cause (`events.py`). A bad date never writes rows and never fails a good one.
6. **Emit** one check evaluation per date and check (`checks.results.emit_check`).
Tables are grouped into run stages (`partitions.table_backfill_policy`): a table never shares a
run with a table it reads, so a failed date stops only what reads that date.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from dagster import (
    AssetIn,
    AssetMaterialization,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    asset,
)

from nba_backfill.assets.common import WAREHOUSE_POOL, frame_metadata, partition_keys
from nba_backfill.assets.core.events import mark_failed
from nba_backfill.assets.core.outcome import Cause, CauseKind, failure_report
from nba_backfill.assets.core.run import RangeRun, run_range
from nba_backfill.assets.core.spec import TableSpec
from nba_backfill.assets.tables import cluster_metadata, column_schema
from nba_backfill.checks.results import PARTITION_OK, check_spec, emit_check
from nba_backfill.compat import step_execution_context
from nba_backfill.guards import blocked_partitions, unmaterialized_inputs
from nba_backfill.layers import PHASE_OF_LAYER
from nba_backfill.partitions import DAILY_PARTITIONS, table_backfill_policy
from nba_backfill.resources.range_write import write_range
from nba_backfill.resources.warehouse import partition_expr

OWNERS = ["team:nba-data"]
PARTITION_OK_DESCRIPTION = (
    "The partition holds rows that passed every blocking check. Otherwise it was blocked (an "
    "upstream date failed a blocking check, or a lookback window is incomplete) or failed (a "
    "malformed or missing landed object, an error computing that date, a failed blocking check), "
    "wrote no rows, and the metadata names the cause and the lake partitions to re-scrape."
)


def run_stages(specs: Sequence[TableSpec]) -> dict[str, int]:
    """Run stage of each spec: phase x 10 + its depth among the specs it reads in the same list."""
    by_key = {s.key: s for s in specs}
    depth: dict = {}

    def visit(spec: TableSpec, path: tuple = ()) -> int:
        if spec.key in depth:
            return depth[spec.key]
        if spec.key in path:
            raise ValueError(f"dependency cycle among tables: {[k.to_user_string() for k in path]}")
        parents = [by_key[k] for k in (*(i.key for i in spec.inputs), *(d.asset_key for d in spec.deps))
                   if k in by_key and k != spec.key]
        depth[spec.key] = 1 + max((visit(p, (*path, spec.key)) for p in parents), default=-1)
        return depth[spec.key]

    return {s.name: PHASE_OF_LAYER[s.layer] * 10 + visit(s) for s in specs}


def build_table_assets(specs: Sequence[TableSpec]) -> list[AssetsDefinition]:
    """One asset per spec, each with the backfill policy of its run stage."""
    stages = run_stages(specs)
    return [build_table_asset(spec, stages[spec.name]) for spec in specs]


def _description(spec: TableSpec) -> str:
    reads = "\n".join(f"- `{i.name}` ← {i.key.to_user_string()} ({i.window})" for i in spec.inputs)
    return spec.doc.strip() + (f"\n\nReads:\n{reads}" if reads else "")


def build_table_asset(spec: TableSpec, stage: int) -> AssetsDefinition:
    """The asset of one spec (see the module docstring for what its step does)."""
    check_specs = [
        check_spec(spec.key, PARTITION_OK, PARTITION_OK_DESCRIPTION, blocking=True),
        *(check_spec(spec.key, c.name, c.description, blocking=c.blocking) for c in spec.checks),
    ]
    blocking = {PARTITION_OK, *spec.blocking_checks}
    ins = {i.name: AssetIn(key=i.key, partition_mapping=i.mapping) for i in spec.inputs}

    @asset(
        key=spec.key,
        ins=ins,
        deps=list(spec.deps),
        description=_description(spec),
        group_name=spec.layer,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=table_backfill_policy(stage),
        pool=WAREHOUSE_POOL,
        io_manager_key="io_manager",
        required_resource_keys={"warehouse", *spec.resources},
        owners=OWNERS,
        kinds=set(spec.kinds),
        code_version=spec.code_version,
        metadata={
            "partition_expr": partition_expr(spec.date_column),
            "dagster/column_schema": column_schema(spec.columns),
            "grain_key": ", ".join((spec.date_column, *spec.key_columns)),
            "inputs": ", ".join(f"{i.name}: {i.key.to_user_string()} ({i.window})" for i in spec.inputs),
            "run_stage": stage,
            **spec.metadata,
            **cluster_metadata(spec.name, spec.clustering, spec.columns),
        },
        check_specs=check_specs,
    )
    def _table(context, **frames):  # context: AssetExecutionContext
        started = time.monotonic()
        keys = partition_keys(context)
        blocked = _blocked(context, spec, keys)
        if blocked:
            context.log.warning(f"{spec.key.to_user_string()}: {len(blocked)} of {len(keys)} partitions blocked")
        result = run_range(spec, keys, frames, blocked=blocked, context=context)
        step_meta = _step_metadata(result, keys, time.monotonic() - started)
        if not result.bad:
            for key in keys:
                context.add_asset_metadata(_partition_metadata(result, key), partition_key=key)
            yield Output(result.frame, metadata=step_meta)
        else:
            written = write_range(context.resources.warehouse, spec.key, context.assets_def.metadata_by_key[spec.key],
                                  keys[0], keys[-1], result.frame, step_key=step_execution_context(context).step.key)
            written.pop("dagster/partition_row_count", None)
            for key in result.ok_keys:
                yield AssetMaterialization(asset_key=spec.key, partition=key,
                                           metadata={**step_meta, **written, **_partition_metadata(result, key)})
        for name, outcomes in result.checks.items():
            yield emit_check(context, spec.key, name, outcomes, blocking=name in blocking)
        if result.bad:
            mark_failed(context, spec.key, list(result.bad))
            report = failure_report(spec.key.to_user_string(), result.outcomes)
            raise Failure(
                description=report,
                metadata={
                    "partitions_failed": ", ".join(result.bad),
                    "refetch": ", ".join(sorted({r for o in result.bad.values() for r in o.refetch})),
                },
                allow_retries=False,
            )

    return _table


def _blocked(context, spec: TableSpec, keys: list[str]) -> dict[str, list[Cause]]:
    """The guard's verdicts: upstream dates that failed a blocking check, same-date inputs that
    hold nothing."""
    out: dict[str, list[Cause]] = {}
    checks = blocked_partitions(context, keys, spec.key, recomputed=set(keys) if spec.self_dependent else None)
    for key, reasons in checks.items():
        out.setdefault(key, []).extend(Cause(CauseKind.UPSTREAM_CHECK_FAILED, r) for r in reasons)
    same_date = [i.key for i in spec.inputs if i.mapping is None]
    for key, reasons in unmaterialized_inputs(context, keys, same_date).items():
        out.setdefault(key, []).extend(Cause(CauseKind.UPSTREAM_MISSING, r) for r in reasons)
    return out


def _partition_metadata(result: RangeRun, key: str) -> dict:
    """A partition's own figures (plotted across partitions in the UI)."""
    figures = result.figures[key] if result.outcomes[key].ok else {"rows": 0}
    return {**figures, "dagster/partition_row_count": figures["rows"], "outcome": result.outcomes[key].status,
            **result.computed.metadata.get(key, {})}


def _step_metadata(result: RangeRun, keys: list[str], seconds: float) -> dict:
    statuses = [o.status for o in result.outcomes.values()]
    meta = frame_metadata(result.frame)
    out = {f"range_{k}": v for k, v in meta.items()}
    out.update(
        range_partitions=len(keys),
        range_partitions_blocked=statuses.count("blocked"),
        range_partitions_failed=statuses.count("failed"),
        range_first=keys[0],
        range_last=keys[-1],
        seconds=round(seconds, 3),
        **result.computed.step_metadata,
    )
    if result.bad:
        out["not_written"] = MetadataValue.json({k: o.summary()[:200] for k, o in result.bad.items()})
    return out
