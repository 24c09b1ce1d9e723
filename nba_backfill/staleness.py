"""Content-true staleness: the partitions computed from content that has changed since.

A partition is stale when something it read — a same-date input or any date of a lookback
window, transitively down to the landed lake objects — now holds other content than when it
was computed, or when its table's code version changed. Every table partition records its
content version and what its write changed (`assets.core.content`); an identical re-run records
"unchanged" and marks nothing stale.

The sensor `stale_partitions` reads new materializations in event order. Each partition whose
content changed (or that appeared) is a *root*. From a root it walks down the declared partition
mappings (same date, lookback windows, an accumulator's previous day), never across a season
start (windows are cut at the opener):
- a direct reader of the root is stale when its latest materialization is older than the root's
  (a reader materialized later read the new content);
- a reader of a stale partition is stale whenever it is materialized (it read outdated content).
Each stale partition gets a failed `up_to_date` evaluation (WARN) that names the changed asset,
date and rows, and the path. The sensor does not store them itself: it requests a run of the
`mark_stale` job that logs them. Dagster 1.13 stores a sensor's (runless) check evaluations under
the run id "", and its asset_check_executions table is unique per (asset, check, run id,
partition), so a partition marked stale a second time would fail the tick forever; logged by a
run, every mark has its own run id (and the Runs list shows what marked what). A table step emits `up_to_date` passed for every partition it
writes from fresh inputs, so a refresh clears exactly what it re-materializes. The failed
`up_to_date` partitions are what `nba-backfill stale` lists, what the Catalog and the check's
partition bar show, and what the `refresh_stale` job and `stale --launch` re-materialize in one
backfill.
"""

from __future__ import annotations

import dataclasses
import hashlib
import datetime as dt
import json
import warnings
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    SensorEvaluationContext,
    Field,
    RunRequest,
    SensorResult,
    SkipReason,
    TimeWindowPartitionMapping,
    in_process_executor,
    job,
    op,
    sensor,
)

from nba_backfill.assets.core.changes import latest_materialization_records
from nba_backfill.assets.core.content import CONTENT_CHANGE
from nba_backfill.checks.results import UP_TO_DATE, assets_with_up_to_date
from nba_backfill.compat import AssetCheckEvaluationTargetMaterializationData, AssetCheckExecutionRecordStatus
from nba_backfill.partitions import all_partition_keys
from nba_backfill.seasons import season_for_date

SENSOR_NAME = "stale_partitions"
SENSOR_INTERVAL_SECONDS = 15
EVENTS_PER_TICK = 5_000
CODE_VERSION_TAG = "dagster/code_version"


_GRAPHS: dict[int, tuple] = {}


@dataclass(frozen=True)
class Root:
    """A partition whose content changed (or whose code version changed)."""

    asset: AssetKey
    partition: str
    storage_id: int
    what: str  # "rows +0 -0 ~1 (...)", "new: rows +26", "code version 1 -> 2"

    def describe(self) -> str:
        return f"{self.asset.to_user_string()} [{self.partition}] changed: {self.what}"


@dataclass(frozen=True)
class Edge:
    child: AssetKey
    start_offset: int
    end_offset: int


@dataclass
class ReadGraph:
    """Who reads which partition: child edges with their window offsets, partition keys per asset."""

    children: dict[AssetKey, list[Edge]]
    keys: dict[AssetKey, frozenset[str]]
    code_versions: dict[AssetKey, str | None]
    all_keys: list[str] = field(default_factory=all_partition_keys)

    def __post_init__(self) -> None:
        self.index = {k: i for i, k in enumerate(self.all_keys)}
        # per key index: the index range of its season (windows never cross a season start)
        self.season_span: list[tuple[int, int]] = []
        start = 0
        labels = [getattr(season_for_date(k), "label", None) for k in self.all_keys]
        for i in range(1, len(labels) + 1):
            if i == len(labels) or labels[i] != labels[start]:
                self.season_span.extend([(start, i - 1)] * (i - start))
                start = i

    @classmethod
    def from_asset_graph(cls, asset_graph) -> "ReadGraph":
        """Built once per asset graph and day (a sensor tick reuses its code location's)."""
        cached = _GRAPHS.get(id(asset_graph))
        if cached is not None and cached[0] is asset_graph and cached[1] == dt.date.today():
            return cached[2]
        graph = cls._build(asset_graph)
        _GRAPHS.clear()
        _GRAPHS[id(asset_graph)] = (asset_graph, dt.date.today(), graph)
        return graph

    @classmethod
    def _build(cls, asset_graph) -> "ReadGraph":
        children: dict[AssetKey, list[Edge]] = defaultdict(list)
        keys: dict[AssetKey, frozenset[str]] = {}
        versions: dict[AssetKey, str | None] = {}
        by_def: dict[int, frozenset[str]] = {}
        for node in asset_graph.asset_nodes:
            if not node.is_partitioned:
                continue
            if id(node.partitions_def) not in by_def:
                by_def[id(node.partitions_def)] = frozenset(node.partitions_def.get_partition_keys())
            keys[node.key] = by_def[id(node.partitions_def)]
            versions[node.key] = node.code_version
            for parent in node.parent_keys:
                mapping = asset_graph.get_partition_mapping(node.key, parent)
                if isinstance(mapping, TimeWindowPartitionMapping):
                    edge = Edge(node.key, mapping.start_offset, mapping.end_offset)
                else:
                    edge = Edge(node.key, 0, 0)
                children[parent].append(edge)
        return cls(dict(children), keys, versions)

    def readers(self, asset: AssetKey, partition: str) -> Iterable[tuple[AssetKey, str]]:
        """Partitions that read `partition` of `asset` through a declared mapping, same season."""
        i = self.index.get(partition)
        if i is None:
            return
        first, last = self.season_span[i]
        for edge in self.children.get(asset, ()):
            own = self.keys.get(edge.child, frozenset())
            for j in range(max(first, i - edge.end_offset), min(last, i - edge.start_offset) + 1):
                key = self.all_keys[j]
                if key in own and (edge.child, key) != (asset, partition):
                    yield edge.child, key


class _Latest:
    """Latest materialization storage id per partition, fetched once per asset."""

    def __init__(self, instance) -> None:
        self.instance = instance
        self.by_asset: dict[AssetKey, Mapping[str, int]] = {}

    def __call__(self, asset: AssetKey, partition: str) -> int | None:
        if asset not in self.by_asset:
            self.by_asset[asset] = self.instance.event_log_storage.get_latest_storage_id_by_partition(
                asset, DagsterEventType.ASSET_MATERIALIZATION)
        return self.by_asset[asset].get(partition)


def stale_closure(instance, graph: ReadGraph, roots: Iterable[Root]) -> dict[tuple[AssetKey, str], str]:
    """(asset, partition) -> cause, for every materialized partition a root makes stale."""
    latest = _Latest(instance)
    stale: dict[tuple[AssetKey, str], str] = {}
    for root in roots:
        queue: deque[tuple[AssetKey, str, str]] = deque()
        for asset, key in graph.readers(root.asset, root.partition):
            storage_id = latest(asset, key)
            if storage_id is not None and storage_id < root.storage_id and (asset, key) not in stale:
                stale[(asset, key)] = root.describe()
                queue.append((asset, key, root.describe()))
        while queue:
            asset, key, cause = queue.popleft()
            for child, child_key in graph.readers(asset, key):
                if (child, child_key) in stale or latest(child, child_key) is None:
                    continue
                stale[(child, child_key)] = f"{cause}; via {asset.to_user_string()} [{key}]"
                queue.append((child, child_key, cause))
    return stale


def content_roots(records) -> list[Root]:
    """Roots among materialization event records: partitions whose content changed or appeared."""
    roots = []
    for record in records:
        event = record.asset_materialization
        if event is None or event.partition is None:
            continue
        meta = {k: getattr(v, "value", v) for k, v in (event.metadata or {}).items()}
        kind = meta.get(CONTENT_CHANGE)
        if kind in ("changed", "new"):
            what = str(meta.get("change") or kind)
            roots.append(Root(event.asset_key, event.partition, record.storage_id, what))
    return roots


def code_version_roots(instance, graph: ReadGraph, assets: Iterable[AssetKey]) -> list[Root]:
    """Partitions of `assets` whose latest materialization has another code version than now."""
    roots = []
    for asset in assets:
        current = graph.code_versions.get(asset)
        records = latest_materialization_records(instance, asset, sorted(graph.keys.get(asset, ())))
        for key, record in sorted(records.items()):
            recorded = (record.event_log_entry.dagster_event.event_specific_data.materialization.tags or {}).get(
                CODE_VERSION_TAG)
            if current and recorded and recorded != current:
                # a root one id past the partition's own: the partition itself is stale too
                roots.append(Root(asset, key, record.storage_id + 1, f"code version {recorded} -> {current}"))
    return roots


def _latest_code_version(instance, asset: AssetKey) -> str | None:
    event = instance.get_latest_materialization_event(asset)
    materialization = event.asset_materialization if event is not None else None
    return (materialization.tags or {}).get(CODE_VERSION_TAG) if materialization is not None else None


def evaluations(instance, stale: Mapping[tuple[AssetKey, str], str], roots: Iterable[Root] = ()) -> list[AssetCheckEvaluation]:
    """Failed `up_to_date` evaluations, each pointing at the partition's latest materialization."""
    checked = assets_with_up_to_date()
    wanted: dict[AssetKey, dict[str, str]] = defaultdict(dict)
    for (asset, key), cause in stale.items():
        if asset in checked:
            wanted[asset][key] = cause
    for root in roots:  # a code-version root is stale itself
        if root.what.startswith("code version") and root.asset in checked:
            wanted[root.asset].setdefault(root.partition, root.describe())
    out = []
    for asset, causes in wanted.items():
        records = latest_materialization_records(instance, asset, sorted(causes))
        for key, cause in sorted(causes.items()):
            record = records.get(key)
            target = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.event_log_entry.run_id, timestamp=record.timestamp
            ) if record else None
            out.append(AssetCheckEvaluation(
                asset_key=asset, check_name=UP_TO_DATE, passed=False, severity=AssetCheckSeverity.WARN,
                partition=key, description=f"stale: {cause}"[:1000],
                metadata={"cause": cause[:1000], "changed": cause.split(" changed:")[0]},
                target_materialization_data=target,
            ))
    return out


def current_stale(instance, assets: Iterable[AssetKey] | None = None) -> dict[AssetKey, list[str]]:
    """Asset -> partitions whose latest `up_to_date` result (for their latest materialization)
    failed: the stale set, as the UI shows it."""
    out: dict[AssetKey, list[str]] = {}
    for asset in sorted(assets if assets is not None else assets_with_up_to_date(), key=lambda k: k.to_string()):
        infos = instance.event_log_storage.get_asset_check_partition_info([AssetCheckKey(asset, UP_TO_DATE)])
        keys = sorted(i.partition_key for i in infos
                      if i.partition_key and i.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED
                      and i.is_current)
        if keys:
            out[asset] = keys
    return out


def new_materializations(instance, after: int) -> list:
    """Materialization records of every asset after storage id `after`, oldest first.

    `fetch_materializations` reads one asset at a time; one event-log query in storage order
    over all assets is what a cursor needs. `get_event_records` still does that in Dagster 1.13
    (pinned); its deprecation notice is silenced here only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return list(instance.get_event_records(
            EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION, after_cursor=after),
            limit=EVENTS_PER_TICK, ascending=True))


def _cursor(raw: str | None) -> dict:
    return json.loads(raw) if raw else {"after": 0, "code_versions": None}


MARK_JOB = "mark_stale"


MARK_SCHEMA = {
    "marks": Field(
        [{"asset": str, "partition": str, "storage_id": int, "run_id": str, "timestamp": float, "cause": str}],
        description="The stale partitions: each one's latest materialization when the sensor saw it, "
                    "and the cause.",
    )
}


def marks_of(events: Iterable[AssetCheckEvaluation]) -> list[dict]:
    """Run config entries (MARK_SCHEMA) of failed `up_to_date` evaluations."""
    out = []
    for event in events:
        target = event.target_materialization_data
        if target is None:  # never materialized: nothing to mark
            continue
        out.append({"asset": event.asset_key.to_user_string(), "partition": event.partition,
                    "storage_id": target.storage_id, "run_id": target.run_id,
                    "timestamp": float(target.timestamp), "cause": event.metadata["cause"].value})
    return out


def evaluation_of(mark: Mapping) -> AssetCheckEvaluation:
    return AssetCheckEvaluation(
        asset_key=AssetKey.from_user_string(mark["asset"]), check_name=UP_TO_DATE, passed=False,
        severity=AssetCheckSeverity.WARN, partition=mark["partition"], description=f"stale: {mark['cause']}"[:1000],
        metadata={"cause": mark["cause"], "changed": mark["cause"].split(" changed:")[0]},
        target_materialization_data=AssetCheckEvaluationTargetMaterializationData(
            storage_id=mark["storage_id"], run_id=mark["run_id"], timestamp=mark["timestamp"]),
    )


@op(name="mark_stale_partitions",
    description="Logs a failed `up_to_date` evaluation (WARN, naming the cause) for every partition "
                "the `stale_partitions` sensor found stale, unless it was materialized again since.",
    config_schema=MARK_SCHEMA)
def mark_stale_op(context) -> None:  # OpExecutionContext
    latest = _Latest(context.instance)
    marks = context.op_config["marks"]
    running = _being_recomputed(context.instance, marks)
    marked = 0
    for mark in marks:
        asset, key = AssetKey.from_user_string(mark["asset"]), mark["partition"]
        # written again since, or a run is writing it now (its up_to_date is planned): that
        # write's own step evaluates up_to_date from the inputs it reads
        if latest(asset, key) != mark["storage_id"] or (asset, key) in running:
            continue
        context.log_event(evaluation_of(mark))
        marked += 1
    context.log.info(f"{marked} partitions marked stale ({len(marks) - marked} written again since or "
                     "being written now)")


def _being_recomputed(instance, marks) -> set[tuple[AssetKey, str]]:
    """(asset, partition) among `marks` whose latest `up_to_date` execution is planned, not done:
    a run is computing the partition right now. (Dagster orders a check's executions by row:
    a mark logged after a running step planned its check would count as the latest result even
    though the step evaluates later.)"""
    by_asset: dict[AssetKey, list[str]] = defaultdict(list)
    for mark in marks:
        by_asset[AssetKey.from_user_string(mark["asset"])].append(mark["partition"])
    out = set()
    for asset, keys in by_asset.items():
        infos = instance.event_log_storage.get_asset_check_partition_info(
            [AssetCheckKey(asset, UP_TO_DATE)], partition_keys=sorted(set(keys)))
        out |= {(asset, i.partition_key) for i in infos
                if i.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED}
    return out


@job(name=MARK_JOB, executor_def=in_process_executor,
     description="Launched by the `stale_partitions` sensor: marks the partitions it found stale "
                 "(failed `up_to_date`). Nothing to launch by hand.")
def mark_stale():
    mark_stale_op()


@sensor(name=SENSOR_NAME, minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING, job=mark_stale,
        description="Marks stale every materialized partition that read content which has changed "
                    "since (through every lookback window, transitively): a failed `up_to_date` "
                    "check naming the changed asset, date and rows. Identical re-runs mark nothing.")
def stale_partitions(context: SensorEvaluationContext):
    state = _cursor(context.cursor)
    graph = ReadGraph.from_asset_graph(context.repository_def.asset_graph)
    records = new_materializations(context.instance, state["after"])
    roots = content_roots(records)
    current_versions = {k.to_user_string(): v for k, v in graph.code_versions.items()}
    known = state["code_versions"] or {}
    # an asset whose code version changed since the last tick, or (first tick) whose latest
    # materialization was made by other code: check its partitions' recorded code versions
    def before(key: AssetKey) -> str | None:
        name = key.to_user_string()
        return known[name] if name in known else _latest_code_version(context.instance, key)

    changed = [k for k in graph.code_versions if before(k) not in (None, current_versions[k.to_user_string()])]
    roots += code_version_roots(context.instance, graph, changed)
    after = records[-1].storage_id if records else state["after"]
    cursor = json.dumps({"after": after, "code_versions": current_versions})
    stale = stale_closure(context.instance, graph, roots)
    events = evaluations(context.instance, stale, roots)
    if not events:
        context.update_cursor(cursor)
        return SkipReason(f"{len(records)} new materializations, {len(roots)} changed partitions, nothing stale")
    context.log.info(f"{len(roots)} changed partitions make {len(events)} partitions stale")
    request = RunRequest(
        run_key=f"{SENSOR_NAME}:{after}:{hashlib.sha1(cursor.encode()).hexdigest()[:12]}",
        run_config={"ops": {"mark_stale_partitions": {"config": {"marks": marks_of(events)}}}},
        tags={"nba_backfill/stale_partitions": str(len(events)), "nba_backfill/changed_partitions": str(len(roots))},
    )
    return SensorResult(run_requests=[request], cursor=cursor)


REFRESH_JOB = "refresh_stale"


def refresh_request(instance, assets: Iterable[AssetKey] | None = None):
    """One backfill over the current stale set (None when nothing is stale)."""
    from nba_backfill.ops.plan import build_stale_request
    from nba_backfill.seasons import current_season

    stale = {k.to_user_string(): v for k, v in current_stale(instance, assets).items()}
    request, _skipped = build_stale_request(stale, all_partition_keys(), current_season())
    if request is None:
        return None
    return dataclasses.replace(
        request,
        title=f"refresh stale {request.first_key}..{request.last_key}",
        description=f"Re-materialize the {request.num_asset_partitions} stale asset-partitions "
                    f"({request.first_key}..{request.last_key}); launched by the {REFRESH_JOB} job.",
        tags={**request.tags, "nba_backfill/launched_by": REFRESH_JOB},
    )


@op(name="refresh_stale_partitions",
    description="Submits one asset backfill re-materializing every stale partition (failed "
                "`up_to_date`), in dependency order; does nothing when nothing is stale.")
def refresh_stale_op(context) -> None:  # OpExecutionContext
    from nba_backfill.ops.submit import submit_backfill

    request = refresh_request(context.instance)
    if request is None:
        context.log.info("Nothing is stale: no backfill submitted.")
        return
    for item in request.partitions_by_assets:
        context.log.info(f"{item.asset}: {', '.join(f'{a}..{b}' for a, b in item.ranges)} ({item.num_keys})")
    backfill_id = submit_backfill(context.instance, context.repository_def.asset_graph, request)
    context.log.info(f"Submitted backfill {backfill_id} ({request.num_asset_partitions} stale asset-partitions): "
                     f"Overview > Backfills, /runs/b/{backfill_id}?tab=partitions")


@job(name=REFRESH_JOB, executor_def=in_process_executor,
     description="One action refreshes what a change reached: launch it (Launchpad > Launch Run) "
                 "and it submits one backfill of every stale partition.")
def refresh_stale():
    refresh_stale_op()
