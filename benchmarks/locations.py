"""Code locations the benchmarks point `dagster dev` at (zero-argument functions, `-a NAME`).

- `shipped`: not here — the project's own `nba_backfill.definitions` (what users run).
- `in_process_definitions`: the project's assets, checks, jobs and resources with the in-process
  executor (one process per run instead of one per step), without its sensors and schedules.
  Since the project's definitions set `in_process_executor` themselves, `shipped` (which keeps
  the sensors) is the reference; this location stays for comparisons with older commits.
- `noop_definitions` / `noop_in_process_definitions`: Dagster's bookkeeping floor. One no-op
  stand-in per asset step of the project: same keys, step grouping (multi-assets), dependencies
  with their partition mappings, partitions, backfill policies, pools and check specs. Each step
  returns one `MaterializeResult` per selected asset and logs one passing check evaluation per
  partition for every check (through the same `emit_check` helper the real assets use), so the
  floor writes the same events the real backfill writes, and nothing else.
"""

from __future__ import annotations

from dagster import (
    AssetsDefinition,
    Definitions,
    MaterializeResult,
    in_process_executor,
    multi_asset,
)


def _project_defs():
    from nba_backfill.definitions import defs

    return defs


def in_process_definitions() -> Definitions:
    from nba_backfill.resources import build_resources

    defs = _project_defs()
    return Definitions(
        assets=list(defs.assets or []),
        asset_checks=list(defs.asset_checks or []),
        jobs=list(defs.jobs or []),
        resources=build_resources(),
        executor=in_process_executor,
    )


def _noop(assets_def: AssetsDefinition):
    from nba_backfill.assets.common import partition_keys
    from nba_backfill.checks.results import Outcome, emit_check

    specs = [spec.replace_attributes(automation_condition=None) for spec in assets_def.specs]
    check_specs = list(assets_def.check_specs)

    @multi_asset(
        name=assets_def.node_def.name,
        specs=specs,
        check_specs=check_specs,
        partitions_def=assets_def.partitions_def,
        backfill_policy=assets_def.backfill_policy,
        pool=getattr(assets_def.op, "pool", None),
        can_subset=assets_def.can_subset,
    )
    def _step(context):
        keys = partition_keys(context)
        selected = sorted(context.selected_asset_keys, key=lambda k: k.to_string())
        for key in selected:
            yield MaterializeResult(asset_key=key, metadata={"rows": 0, "partitions": len(keys)})
        for spec in check_specs:
            if spec.asset_key in context.selected_asset_keys:
                outcomes = {k: Outcome(True, {"rows": 0}) for k in keys}
                yield emit_check(context, spec.asset_key, spec.name, outcomes, blocking=spec.blocking)

    return _step


def _noop_assets() -> list:
    return [_noop(a) for a in _project_defs().assets or [] if isinstance(a, AssetsDefinition)]


def noop_definitions() -> Definitions:
    """No-op floor with the project's executor (the default executor, as shipped)."""
    defs = _project_defs()
    kwargs = {"executor": defs.executor} if defs.executor is not None else {}
    return Definitions(assets=_noop_assets(), **kwargs)


def noop_in_process_definitions() -> Definitions:
    """No-op floor with the in-process executor (pairs with `in_process_definitions`)."""
    return Definitions(assets=_noop_assets(), executor=in_process_executor)
