"""A table's range, without Dagster: compute, isolate bad dates, finish the rows, judge every date.

`run_range` is what a table step does between loading its inputs and writing: the asset calls it
with what the run loaded, the pandas floor of `benchmarks/` with plain frames. Its result holds the
rows of the ok dates only — a blocked or failed date never writes a row, whatever the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dagster import MetadataValue

from nba_backfill.assets.core.outcome import Cause, CauseKind, PartitionOutcome, not_evaluated, resolve
from nba_backfill.assets.core.spec import Computed, RangeInput, TableSpec
from nba_backfill.assets.tables import conform
from nba_backfill.checks.results import PARTITION_OK, Outcome


@dataclass
class RangeRun:
    """The outcome of a range: `frame` = conformed rows of the ok dates, `figures` = each date's
    rows/games/players as computed (ok or not), every date's outcome, and every check's result
    per date (the core's `partition_ok` included)."""

    frame: pd.DataFrame
    figures: dict[str, dict[str, int]]
    outcomes: dict[str, PartitionOutcome]
    checks: dict[str, dict[str, Outcome]]
    computed: Computed

    @property
    def ok_keys(self) -> list[str]:
        return [k for k, o in self.outcomes.items() if o.ok]

    @property
    def bad(self) -> dict[str, PartitionOutcome]:
        return {k: o for k, o in self.outcomes.items() if not o.ok}


def data_hash(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """16 hex chars per row: a 64-bit hash of the row's business values as text (computed on the
    conformed frame, so a row hashes the same in a single-date and a ranged run)."""
    if frame.empty:
        return pd.Series([], dtype="string")
    values = pd.util.hash_pandas_object(frame[columns].astype("string"), index=False).to_numpy(np.uint64)
    return pd.Series([f"{int(v):016x}" for v in values], index=frame.index, dtype="string")


def finish(spec: TableSpec, rows: pd.DataFrame, processed_at: pd.Timestamp, *,
           conformed: bool = False) -> pd.DataFrame:
    """`rows` conformed to the declared columns (undeclared columns dropped, absent ones NULL),
    with `processed_at` and `data_hash` filled where the table declares them. `conformed`: the
    layer already conformed its rows (a raw parse conforms in bounded batches); they are not
    converted a second time."""
    names = [c.name for c in spec.columns]
    rows = rows.reindex(columns=names) if len(rows.columns) else pd.DataFrame({n: [] for n in names})
    if "processed_at" in names:
        rows["processed_at"] = processed_at
    frame = rows.reset_index(drop=True) if conformed and len(rows) else conform(rows, spec.columns)
    if "data_hash" in names:
        frame["data_hash"] = data_hash(frame, spec.hashed_columns).to_numpy()
    return frame


def _merge(a: Computed, b: Computed) -> Computed:
    state = {**a.state, **b.state} if isinstance(a.state, dict) and isinstance(b.state, dict) else (
        a.state if a.state is not None else b.state)
    parts = [f for f in (a.rows, b.rows) if len(f)] or [a.rows]
    return Computed(
        conformed=all(c.conformed for c in (a, b) if len(c.rows)),
        rows=pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0],
        failed={**a.failed, **b.failed},
        state=state,
        metadata={**a.metadata, **b.metadata},
        step_metadata={**a.step_metadata, **b.step_metadata},
    )


def compute_isolated(spec: TableSpec, rin: RangeInput) -> Computed:
    """`spec.compute`; when it raises, the open dates are halved and recomputed until every
    failing date is found (each failing date gets the error as its cause). A date that fails
    alone fails only itself; an error that every date raises costs about log2(n) full passes."""
    try:
        return spec.compute(rin)
    except Exception as exc:  # noqa: BLE001 - becomes the dates' cause
        if not spec.isolate_errors or len(rin.open_keys) <= 1:
            cause = Cause(CauseKind.COMPUTE_ERROR, f"{type(exc).__name__}: {str(exc)[:500]}")
            return Computed(rows=pd.DataFrame(), failed={k: cause for k in rin.open_keys})
        mid = len(rin.open_keys) // 2
        halves = [rin.open_keys[:mid], rin.open_keys[mid:]]
        results = [compute_isolated(spec, RangeInput(rin.keys, h, rin.frames, rin.blocked, rin.context)) for h in halves]
        return _merge(*results)


def _by_key(frame: pd.DataFrame, date_column: str, keys: list[str]) -> dict[str, pd.DataFrame]:
    if frame.empty:
        return {}
    wanted = set(keys)  # one isoformat per date, not per row
    return {d.isoformat(): part for d, part in frame.groupby(date_column, sort=False) if d.isoformat() in wanted}


def run_range(
    spec: TableSpec,
    keys: list[str],
    frames: Mapping[str, pd.DataFrame],
    *,
    blocked: Mapping[str, list[Cause]] | None = None,
    processed_at: pd.Timestamp | None = None,
    context: Any = None,
) -> RangeRun:
    """Compute `keys` (the open ones), finish their rows, evaluate the checks, resolve outcomes."""
    skipped = {k: reason for k in keys if spec.skip is not None and (reason := spec.skip(k))}
    blocked = {k: v for k, v in (blocked or {}).items() if k not in skipped}
    processed_at = processed_at if processed_at is not None else pd.Timestamp.now(tz="UTC")
    open_keys = [k for k in keys if k not in blocked and k not in skipped]
    rin = RangeInput(keys, open_keys, frames, blocked, context)
    computed = compute_isolated(spec, rin) if open_keys else Computed(rows=pd.DataFrame())
    frame = finish(spec, computed.rows, processed_at, conformed=computed.conformed)
    by_key = _by_key(frame, spec.date_column, keys)
    empty = frame.iloc[0:0]
    evaluated = [k for k in open_keys if k not in computed.failed]
    try:
        checks = spec.evaluate(computed, {k: by_key.get(k, empty) for k in evaluated}) if evaluated else {}
    except Exception as exc:  # noqa: BLE001 - the checks could not judge these dates: they fail
        cause = Cause(CauseKind.COMPUTE_ERROR, f"checks could not run: {type(exc).__name__}: {str(exc)[:300]}")
        computed.failed.update({k: cause for k in evaluated})
        checks = {}
    outcomes = resolve(keys, blocked, computed.failed, checks, spec.blocking_checks, set(spec.lookback_checks),
                       set(spec.landed_checks), spec.refetch)
    results: dict[str, dict[str, Outcome]] = {PARTITION_OK: {k: outcomes[k].check_outcome() for k in keys}}
    for check in spec.checks:
        given = checks.get(check.name, {})
        results[check.name] = {
            k: given[k] if k in given else (
                Outcome(True, {"applies": 0}, message=skipped[k]) if k in skipped else not_evaluated(outcomes[k]))
            for k in keys
        }
    for k, reason in skipped.items():
        computed.metadata.setdefault(k, {})["skipped"] = reason
    if skipped:
        computed.step_metadata["skipped_partitions"] = MetadataValue.json(skipped)
    ok = {k for k, o in outcomes.items() if o.ok}
    kept = [part for k, part in by_key.items() if k in ok]
    if len(kept) == len(by_key):
        ok_frame = frame
    else:
        ok_frame = pd.concat(kept, ignore_index=True) if kept else empty
    figures = {k: _figures(by_key[k]) if k in by_key else {"rows": 0} for k in keys}
    return RangeRun(ok_frame.reset_index(drop=True), figures, outcomes, results, computed)


def _figures(part: pd.DataFrame) -> dict[str, int]:
    """A date's own counts, plotted across partitions: rows, games, players."""
    out = {"rows": len(part)}
    for column, label in (("game_id", "games"), ("player_lookup", "players")):
        if column in part.columns:
            out[label] = int(part[column].nunique())
    return out
