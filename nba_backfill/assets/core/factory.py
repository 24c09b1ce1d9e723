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
   Each written partition records its content version (its Dagster data version) and what
   changed against the rows it replaced (`changes.py`); its metadata holds its own figures only.
6. **Emit** one check evaluation per date and check (`checks.results.emit_check`), and
   `up_to_date` per written date: fresh unless an input partition it read is stale.
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
    Output,
    asset,
)

from nba_backfill.assets.common import WAREHOUSE_POOL, frame_metadata, partition_keys
from nba_backfill.assets.core.changes import partition_changes
from nba_backfill.assets.core.content import Change
from nba_backfill.assets.core.events import mark_failed
from nba_backfill.assets.core.outcome import Cause, CauseKind, failure_report
from nba_backfill.assets.core.run import RangeRun, run_range
from nba_backfill.assets.core.spec import TableSpec
from nba_backfill.assets.core.windows import SEASON_CUT, window_text
from nba_backfill.assets.tables import cluster_metadata, column_schema
from nba_backfill.checks.results import PARTITION_OK, UP_TO_DATE, Outcome, check_spec, emit_check, register_up_to_date
from nba_backfill.compat import step_execution_context
from nba_backfill.data_versions import apply_partition_data_versions, materialization_tags
from nba_backfill.guards import blocked_partitions, stale_inputs, unmaterialized_inputs
from nba_backfill.layers import PHASE_OF_LAYER
from nba_backfill.partitions import partitions_for, table_backfill_policy
from nba_backfill.resources.range_write import write_range
from nba_backfill.resources.warehouse import partition_expr

# Each partition's Dagster data version is its content version (nba_backfill/data_versions.py):
# applied wherever a table step can run.
apply_partition_data_versions()

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


def _purpose(words: str) -> str:
    """What an input is read for, from its declared words ("window: purpose"); words that only
    restate the window are dropped (the window itself is always derived from the mapping)."""
    if ": " in words:
        return words.split(": ", 1)[1]
    return "" if words.startswith(("same date", "partitions ")) else words


def _description(spec: TableSpec) -> str:
    """The doc, then every dependency the partition D reads: input name ← asset, the window in
    words with its size in partitions and its season cut (`windows.window_text`, from the
    mapping), and what it is read for."""
    reads = [f"- `{i.name}` ← {i.key.to_user_string()}: {window_text(i.mapping)}"
             + (f" — {_purpose(i.window)}" if _purpose(i.window) else "") for i in spec.inputs]
    for dep in spec.deps:  # read by the step itself, not loaded as an input
        itself = " (itself: season-to-date state)" if dep.asset_key == spec.key else ""
        reads.append(f"- (read directly) ← {dep.asset_key.to_user_string()}{itself}: "
                     f"{window_text(dep.partition_mapping)}")
    if not reads:
        return spec.doc.strip()
    return spec.doc.strip() + "\n\n**Reads, for partition D:**\n" + "\n".join(reads) + f"\n\n{SEASON_CUT}"


def build_table_asset(spec: TableSpec, stage: int) -> AssetsDefinition:
    """The asset of one spec (see the module docstring for what its step does)."""
    check_specs = [
        check_spec(spec.key, PARTITION_OK, PARTITION_OK_DESCRIPTION, blocking=True),
        *(check_spec(spec.key, c.name, c.description, blocking=c.blocking) for c in spec.checks),
        register_up_to_date(spec.key),
    ]
    blocking = {PARTITION_OK, *spec.blocking_checks}
    ins = {i.name: AssetIn(key=i.key, partition_mapping=i.mapping) for i in spec.inputs}

    @asset(
        key=spec.key,
        ins=ins,
        deps=list(spec.deps),
        description=_description(spec),
        group_name=spec.layer,
        partitions_def=partitions_for(spec.key),
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
        changes = partition_changes(context, spec, result.frame, result.ok_keys)
        context.log.info(f"{spec.key.to_user_string()} {keys[0]}..{keys[-1]}: "
                         f"{_step_summary(result, keys, time.monotonic() - started)}")
        if not result.bad:
            for key in keys:
                context.add_asset_metadata(_partition_metadata(result, key, changes.get(key)), partition_key=key)
            yield Output(result.frame)
        else:
            write_range(context.resources.warehouse, spec.key, context.assets_def.metadata_by_key[spec.key],
                        keys[0], keys[-1], result.frame, step_key=step_execution_context(context).step.key)
            for key in result.ok_keys:
                yield AssetMaterialization(
                    asset_key=spec.key, partition=key, metadata=_partition_metadata(result, key, changes[key]),
                    tags=materialization_tags(context, spec.key, changes[key].version))
        for name, outcomes in result.checks.items():
            yield emit_check(context, spec.key, name, outcomes, blocking=name in blocking)
        if result.ok_keys:
            yield emit_check(context, spec.key, UP_TO_DATE, _up_to_date(context, spec, result.ok_keys),
                             blocking=False)
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


def _up_to_date(context, spec: TableSpec, keys: list[str]) -> dict[str, Outcome]:
    """Fresh unless an input partition it read is stale itself (then so is this one)."""
    stale = stale_inputs(context, keys, spec.key, set(keys) if spec.self_dependent else set())
    return {k: Outcome(not stale.get(k), {"stale_inputs": len(stale.get(k, ()))},
                       message=("reads stale " + "; ".join(stale[k])) if stale.get(k) else "",
                       extra={"cause": "reads stale " + "; ".join(stale[k])} if stale.get(k) else {})
            for k in keys}


def _partition_metadata(result: RangeRun, key: str, change: Change | None) -> dict:
    """A partition's own figures (plotted across partitions in the UI), its content version and
    what its write changed; never figures of the range it was computed in."""
    figures = result.figures[key] if result.outcomes[key].ok else {"rows": 0}
    return {**figures, "dagster/partition_row_count": figures["rows"], "outcome": result.outcomes[key].status,
            **result.computed.metadata.get(key, {}), **(change.metadata() if change else {})}


def _step_summary(result: RangeRun, keys: list[str], seconds: float) -> str:
    """The range's figures, for the step log (partition metadata holds each partition's own)."""
    statuses = [o.status for o in result.outcomes.values()]
    meta = frame_metadata(result.frame)
    parts = [f"{len(keys)} partitions", f"{statuses.count('blocked')} blocked", f"{statuses.count('failed')} failed",
             *(f"{k} {getattr(v, 'value', v)}" for k, v in meta.items()
               if isinstance(getattr(v, "value", v), (int, float, str))),
             *(f"{k} {getattr(v, 'value', v)}" for k, v in result.computed.step_metadata.items()),
             f"{seconds:.1f} s"]
    if result.bad:
        parts.append("not written: " + "; ".join(f"{k} {o.summary()[:200]}" for k, o in result.bad.items()))
    return ", ".join(parts)
