"""Backfill digests: what a backfill (or one season of it) did, grouped by failure category.

`snapshot(instance, backfill)` reads the backfill's asset subsets (target, materialized,
failed-and-downstream) and the failures logged by its runs (tag `dagster/backfill`);
`build_digest(snap, ...)` turns it into a `Digest` for the whole backfill or one season, with
per-category counts and first partitions, per-phase totals (layer prefix → phase), wall time and
the `nba-backfill backfill ... --only-missing-or-failed` command covering every asset partition
in scope that did not end well (step failed, a check failed, or never ran) and the lake
partitions whose landed data failed a table (`partition_ok` refetch), which it re-scrapes.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass

from dagster import DagsterEventType, DagsterInstance, RunsFilter
from nba_backfill.compat import BulkActionStatus, PartitionBackfill, BACKFILL_ID_TAG

from nba_backfill.alerts.classify import CATEGORY_ORDER
from nba_backfill.alerts.collect import Failure, failures_of_runs
from nba_backfill.alerts.messages import Digest, FailureGroup, PhaseTotals
from nba_backfill.alerts.notifiers import AlertSettings
from nba_backfill.layers import PHASE_OF_LAYER
from nba_backfill.seasons import season_for_date

SAMPLE = 5
TERMINAL_STATUSES = {
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}
AssetPartition = tuple[str, "str | None"]


CLI_DEFAULT_PHASES = {1, 2, 3, 4}  # `nba-backfill backfill --phases` default: 1-4


def retry_command(first: str, last: str, assets: list[str]) -> str:
    """The CLI line that re-runs only the missing or failed partitions of `assets` in the range.

    The CLI accepts `--assets` only inside `--phases` (default 1-4), so `--phases 1-5` is added
    when a Phase 5 asset must be retried."""
    phases = {PHASE_OF_LAYER.get(a.split("/", 1)[0]) for a in assets}
    widen = "" if phases <= CLI_DEFAULT_PHASES else " --phases 1-5"
    return (
        f"nba-backfill backfill --from {first} --to {last}{widen}"
        f" --assets {' '.join(sorted(assets))} --only-missing-or-failed"
    )


def phase_of(asset: str) -> str:
    layer = asset.split("/", 1)[0]
    phase = PHASE_OF_LAYER.get(layer)
    return f"Phase {phase} ({layer})" if phase else f"other ({layer})"


def season_of(partition: str | None) -> str | None:
    if not partition:
        return None
    try:
        season = season_for_date(partition)
    except ValueError:
        return None
    return season.label if season else None


@dataclass(frozen=True)
class BackfillSnapshot:
    backfill: PartitionBackfill
    target: frozenset[AssetPartition]
    materialized: frozenset[AssetPartition]
    failed_and_downstream: frozenset[AssetPartition]
    failures: tuple[Failure, ...]  # step failures of partitions later materialized are dropped

    @property
    def root_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.kind != "blocked"]

    def seasons(self) -> list[str]:
        return sorted({s for _, p in self.target if (s := season_of(p))})

    def done(self) -> frozenset[AssetPartition]:
        """Target partitions with an outcome: materialized or failed (or after a failure upstream)."""
        return self.materialized | self.failed_and_downstream


def _pairs(subset) -> frozenset[AssetPartition]:
    if subset is None:
        return frozenset()
    return frozenset(
        (ap.asset_key.to_user_string(), ap.partition_key) for ap in subset.iterate_asset_partitions()
    )


def backfill_run_records(instance: DagsterInstance, backfill_id: str):
    records = instance.get_run_records(filters=RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}))
    return sorted(records, key=lambda r: r.create_timestamp)


_MATERIALIZED_CACHE: OrderedDict[str, frozenset[AssetPartition]] = OrderedDict()
CACHED_RUNS = 512
SETTLE_SECONDS = 60  # a run that ended this long ago has all its events stored


def _materialized_by_run(instance: DagsterInstance, run, cache: bool) -> frozenset[AssetPartition]:
    """Asset partitions a finished run materialized (cached once the run has settled)."""
    if not cache or run.run_id not in _MATERIALIZED_CACHE:
        pairs = frozenset(
            (key.to_user_string(), partition)
            for key, parts in instance.get_asset_partitions_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
            ).items()
            for partition in parts
        )
        if not cache:
            return pairs
        _MATERIALIZED_CACHE[run.run_id] = pairs
        while len(_MATERIALIZED_CACHE) > CACHED_RUNS:
            _MATERIALIZED_CACHE.popitem(last=False)
    _MATERIALIZED_CACHE.move_to_end(run.run_id)
    return _MATERIALIZED_CACHE[run.run_id]


def _materialized_by_runs(instance: DagsterInstance, runs, settled) -> frozenset[AssetPartition]:
    return frozenset().union(
        *(_materialized_by_run(instance, run, run.run_id in settled) for run in runs)
    )


def snapshot(instance: DagsterInstance, backfill: PartitionBackfill) -> BackfillSnapshot:
    """The backfill as it stands: its subsets plus what its finished runs recorded.

    Materializations are read from the runs too: the backfill daemon folds them into
    `materialized_subset` only on its next iteration. `failed_and_downstream_subset` is the
    daemon's (it needs the asset graph), so a season whose last partitions failed counts as done
    one daemon iteration after the failure.
    """
    records = [
        r for r in backfill_run_records(instance, backfill.backfill_id) if r.dagster_run.is_finished
    ]
    runs = [r.dagster_run for r in records]
    settled = frozenset(
        r.dagster_run.run_id
        for r in records
        if r.end_time is not None and time.time() - r.end_time > SETTLE_SECONDS
    )
    failures = failures_of_runs(instance, runs, settled)
    materialized = _materialized_by_runs(instance, runs, settled)
    data = backfill.asset_backfill_data
    if data is not None:
        target = _pairs(data.target_subset)
        materialized = (materialized & target) | _pairs(data.materialized_subset)
        failed_dn = _pairs(data.failed_and_downstream_subset)
    else:  # a job backfill: what its runs materialized, plus what failed
        failed_dn = frozenset((f.asset, f.partition) for f in failures if f.kind in ("step", "run"))
        target = materialized | failed_dn
    kept = tuple(
        f for f in failures if not (f.kind in ("step", "run") and (f.asset, f.partition) in materialized)
    )
    return BackfillSnapshot(
        backfill=backfill,
        target=target,
        materialized=materialized,
        failed_and_downstream=failed_dn,
        failures=kept,
    )


def failure_rate(snap: BackfillSnapshot) -> tuple[float, int, int]:
    """(rate, failed asset partitions, asset partitions with an outcome) so far. Failed = a step
    failed or a blocking check failed; partitions blocked by an upstream failure (consequences)
    and soft (non-blocking) check failures are not counted."""
    failed = {(f.asset, f.partition) for f in snap.root_failures if f.blocking}
    processed = len(snap.materialized | failed)
    return (len(failed) / processed if processed else 0.0), len(failed), processed


def completed_seasons(snap: BackfillSnapshot) -> list[str]:
    """Seasons of the target whose every target asset partition has an outcome."""
    done = snap.done()
    by_season: dict[str, set[AssetPartition]] = defaultdict(set)
    for pair in snap.target:
        if (season := season_of(pair[1])) is not None:
            by_season[season].add(pair)
    return sorted(s for s, pairs in by_season.items() if pairs <= done)


def build_digest(
    snap: BackfillSnapshot,
    settings: AlertSettings,
    *,
    season: str | None = None,
    now: float | None = None,
) -> Digest:
    """Digest of the whole backfill (season=None) or of one season of it."""
    backfill = snap.backfill

    def in_scope(partition: str | None) -> bool:
        return season is None or season_of(partition) == season

    target = {p for p in snap.target if in_scope(p[1])}
    materialized = {p for p in snap.materialized if in_scope(p[1])}
    failures = sorted(
        (f for f in snap.failures if in_scope(f.partition)),
        key=lambda f: (f.partition or "", f.asset, f.check),
    )
    groups = []
    for category in CATEGORY_ORDER:
        members = [f for f in failures if f.category is category]
        if not members:
            continue
        roots = [f for f in members if f.kind != "blocked"]
        root_pairs = list(dict.fromkeys((f.asset, f.partition) for f in roots))
        blocked_pairs = {(f.asset, f.partition) for f in members if f.kind == "blocked"}
        groups.append(
            FailureGroup(
                category=category.value,
                count=len(root_pairs),
                blocked=len(blocked_pairs),
                sample=tuple(dict.fromkeys(f.label for f in (roots or members)))[:SAMPLE],
                causes=tuple(Counter(f.cause for f in members).most_common()),
            )
        )
    step_failed = {(f.asset, f.partition) for f in failures if f.kind in ("step", "run")}
    check_failed = {(f.asset, f.partition) for f in failures if f.kind in ("check", "blocked")}
    not_written = step_failed | {(f.asset, f.partition) for f in failures if f.kind == "blocked"}
    phases = []
    for phase in sorted({phase_of(a) for a, _ in target | step_failed}):
        t = {p for p in target if phase_of(p[0]) == phase}
        m = {p for p in materialized if phase_of(p[0]) == phase}
        f = {p for p in not_written if phase_of(p[0]) == phase} - m
        c = {p for p in check_failed if phase_of(p[0]) == phase} & m
        phases.append(PhaseTotals(phase, len(t), len(m), len(f), len(c), len(t - m - f)))
    refetch = sorted({pair for f in failures for pair in f.refetch})
    retry = (target - materialized) | step_failed | check_failed | set(refetch)
    dated = sorted(p for _, p in retry if p)
    command = retry_command(dated[0], dated[-1], sorted({a for a, _ in retry})) if dated else ""
    partitions = sorted(p for _, p in target | step_failed if p)
    status = backfill.status.value if season is None else f"season {season} complete"
    end = backfill.backfill_end_timestamp if season is None else None
    wall = (end or now or time.time()) - backfill.backfill_timestamp
    notes = []
    if backfill.error is not None and season is None:
        notes.append(f"Backfill error: {(backfill.error.message or '').strip().splitlines()[0]}")
    if refetch:
        named = ", ".join(f"{a}:{p}" for a, p in refetch[:SAMPLE])
        more = f" … and {len(refetch) - SAMPLE} more" if len(refetch) > SAMPLE else ""
        notes.append(
            f"The retry re-scrapes {len(refetch)} lake partition(s) whose landed data failed a "
            f"table (partition_ok refetch): {named}{more}"
        )
    scope = "backfill" if season is None else f"season {season}"
    return Digest(
        key=f"backfill_{backfill.backfill_id}" + (f"_season_{season}" if season else ""),
        backfill_id=backfill.backfill_id,
        status=status,
        scope=scope,
        first_partition=partitions[0] if partitions else "",
        last_partition=partitions[-1] if partitions else "",
        wall_seconds=max(0.0, wall),
        groups=tuple(groups),
        phases=tuple(phases),
        retry_command=command,
        url=settings.backfill_url(backfill.backfill_id),
        notes=tuple(notes),
    )

