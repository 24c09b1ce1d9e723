"""One asset backfill through a real `dagster dev` (webserver + daemon), measured.

The instance is a fresh DAGSTER_HOME prepared from the packaged template
(`nba_backfill/dagster_local.yaml`, pools set by `nba_backfill.instance`), with SQLite storage
(the default) or a PostgreSQL `storage:` section. The backfill is launched with the project's
own CLI (`nba-backfill backfill --from A --to B --phases P`: one asset backfill with exact
per-asset ranges) and followed over GraphQL until it reaches a final status.

Measured: wall seconds from launch to final status (dagster dev start-up is reported apart),
runs created, asset-partitions materialized (sum of `partitionStats.numMaterialized`),
failed asset-partitions, summed run durations, and the peak RSS of the whole `dagster dev`
process tree (webserver, daemon, code servers, run workers, step processes) sampled every 0.5 s.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, TreeRss
from benchmarks.postgres import local_postgres, storage_yaml

FINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
NBA_BACKFILL = str(Path(sys.executable).with_name("nba-backfill"))

BACKFILL_STATUS = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status numPartitions }
  ... on PythonError { message } } }
"""
RUNS = """
query($id: String!, $cursor: String) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}, limit: 500, cursor: $cursor) {
    ... on Runs { results { runId status startTime endTime assetSelection { path } } } } }
"""
PARTITION_STATS = """
{ assetNodes { assetKey { path } isPartitioned
    partitionStats { numMaterialized numFailed numMaterializing numPartitions } } }
"""

LOCATIONS = {
    # name: (module, attribute) of the code location dagster dev loads
    "shipped": ("nba_backfill.definitions", None),
    "in_process": ("benchmarks.locations", "in_process_definitions"),
    "noop": ("benchmarks.locations", "noop_definitions"),
    "noop_in_process": ("benchmarks.locations", "noop_in_process_definitions"),
}


@dataclass
class BackfillMeasurement:
    location: str
    storage: str
    first: str
    last: str
    phases: str
    status: str = ""
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0
    runs: int = 0
    runs_by_status: dict[str, int] = field(default_factory=dict)
    run_seconds_sum: float = 0.0
    asset_partitions_materialized: int = 0
    asset_partitions_failed: int = 0
    asset_partitions_targeted: int = 0
    peak_rss_mb: float = 0.0
    peak_rss_by_role_mb: dict = field(default_factory=dict)
    run_layers: list[dict] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    launch_stderr: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _runs(dev, backfill_id: str) -> list[dict]:
    out, cursor = [], None
    while True:
        page = dev.graphql(RUNS, {"id": backfill_id, "cursor": cursor})["runsOrError"]["results"]
        out.extend(page)
        if len(page) < 500:
            return out
        cursor = page[-1]["runId"]


def _partition_totals(dev) -> tuple[int, int]:
    """(materialized, failed) asset-partitions over every partitioned asset of the instance."""
    materialized = failed = 0
    for node in dev.graphql(PARTITION_STATS)["assetNodes"]:
        stats = node.get("partitionStats")
        if node["isPartitioned"] and stats:
            materialized += stats["numMaterialized"]
            failed += stats["numFailed"]
    return materialized, failed


def _table_rows(database: Path) -> dict[str, int]:
    """Rows per warehouse table after the backfill (sanity: same work as the pandas floor)."""
    import duckdb

    if not database.exists():
        return {}
    conn = duckdb.connect(str(database), read_only=True)
    try:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2").fetchall()
        return {f"{s}.{t}": conn.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
                for s, t in tables}
    finally:
        conn.close()


@contextlib.contextmanager
def running_dagster(root: Path, *, location: str, storage: str = "sqlite",
                    extra_env: Mapping[str, str] | None = None) -> Iterator[Any]:
    """A fresh instance under `root` (SQLite or a local PostgreSQL) and `dagster dev` on
    `location`; yields the harness' DagsterDev with `startup_seconds` set."""
    from nba_backfill_tests.dagster_harness import dagster_dev

    root = Path(root).absolute()
    root.mkdir(parents=True, exist_ok=True)
    module, attribute = LOCATIONS[location]
    env = {"PYTHONPATH": str(REPO), "NBA_BACKFILL_CURRENT_SEASON": "2024-25", **(extra_env or {})}
    with _storage(root, storage):
        started = time.perf_counter()
        with dagster_dev(root, module=module, attribute=attribute, extra_env=env,
                         timeout=600) as dev:
            dev.startup_seconds = round(time.perf_counter() - started, 3)
            yield dev


def backfill_measured(dev, *, location: str, storage: str, first: str, last: str,
                      phases: str = "1-4", timeout: float = 6 * 3600) -> BackfillMeasurement:
    """Launch one backfill with the CLI on a running dagster dev, wait for it, measure it.
    Materialization counts are the instance's totals (use a fresh instance per measurement,
    or subtract the previous totals)."""
    result = BackfillMeasurement(location=location, storage=storage, first=first, last=last,
                                 phases=phases, startup_seconds=getattr(dev, "startup_seconds", 0.0))
    before = _partition_totals(dev)
    with TreeRss(dev.process.pid) as rss:
        t0 = time.perf_counter()
        launched = subprocess.run(
            [NBA_BACKFILL, "--url", dev.url, "backfill", "--from", first, "--to", last,
             "--phases", phases],
            env=dev.env, capture_output=True, text=True, timeout=600,
        )
        result.launch_stderr = launched.stderr.strip()[-1000:]
        if launched.returncode != 0:
            raise RuntimeError(f"nba-backfill backfill failed ({launched.returncode}): {launched.stderr}")
        backfill_id = launched.stdout.strip().splitlines()[-1]
        status = ""
        while time.perf_counter() - t0 < timeout:
            data = dev.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            status = data.get("status", data.get("__typename", ""))
            if status in FINAL or data.get("__typename") == "PythonError":
                break
            time.sleep(1.0)
        result.wall_seconds = round(time.perf_counter() - t0, 3)
        result.status = status
    result.peak_rss_mb = rss.peak_mb
    result.peak_rss_by_role_mb = rss.peak_by_role
    runs = _runs(dev, backfill_id)
    result.runs = len(runs)
    for run in runs:
        result.runs_by_status[run["status"]] = result.runs_by_status.get(run["status"], 0) + 1
        if run["startTime"] and run["endTime"]:
            result.run_seconds_sum += run["endTime"] - run["startTime"]
    result.run_seconds_sum = round(result.run_seconds_sum, 3)
    result.run_layers = run_layers(runs)
    after = _partition_totals(dev)
    result.asset_partitions_materialized = after[0] - before[0]
    result.asset_partitions_failed = after[1]
    for line in result.launch_stderr.splitlines():
        if "asset-partitions" in line:
            words = line.replace(",", "").split()
            result.asset_partitions_targeted = int(words[words.index("asset-partitions") - 1])
    return result


def run_layers(runs: list[dict]) -> list[dict]:
    """Runs grouped by the layers they materialize: count, first start and last end (seconds
    from the first run's start) and summed run seconds, in order of first start."""
    starts = [r["startTime"] for r in runs if r["startTime"]]
    origin = min(starts) if starts else 0.0
    groups: dict[str, dict] = {}
    for run in runs:
        layers = ",".join(sorted({k["path"][0] for k in run.get("assetSelection") or []}))
        group = groups.setdefault(layers, {"layers": layers, "runs": 0, "first_start_s": None,
                                           "last_end_s": None, "run_seconds": 0.0})
        group["runs"] += 1
        start, end = run["startTime"], run["endTime"]
        if start:
            first = round(start - origin, 1)
            group["first_start_s"] = first if group["first_start_s"] is None else min(group["first_start_s"], first)
        if start and end:
            last = round(end - origin, 1)
            group["last_end_s"] = last if group["last_end_s"] is None else max(group["last_end_s"], last)
            group["run_seconds"] = round(group["run_seconds"] + end - start, 1)
    return sorted(groups.values(), key=lambda g: (g["first_start_s"] is None, g["first_start_s"] or 0))


def measure_backfill(
    root: Path,
    *,
    location: str,
    first: str,
    last: str,
    phases: str = "1-4",
    storage: str = "sqlite",
    extra_env: Mapping[str, str] | None = None,
    count_rows: bool = True,
) -> BackfillMeasurement:
    """Fresh instance + dagster dev on `location`, one backfill first..last for `phases`."""
    with running_dagster(root, location=location, storage=storage, extra_env=extra_env) as dev:
        result = backfill_measured(dev, location=location, storage=storage, first=first,
                                   last=last, phases=phases)
        database = dev.backfill_home / "warehouse.duckdb"
    if count_rows and not location.startswith("noop"):
        result.table_rows = _table_rows(database)
    return result


class _storage:
    """Context: nothing for SQLite; a local PostgreSQL server + dagster.yaml for `postgres`."""

    def __init__(self, root: Path, storage: str):
        if storage not in {"sqlite", "postgres"}:
            raise ValueError(f"--storage must be sqlite or postgres, got {storage!r}")
        self.root, self.storage, self._pg = root, storage, None

    def __enter__(self):
        if self.storage == "postgres":
            from nba_backfill.instance import template_text, without_event_log_storage

            self._pg = local_postgres(self.root / "postgres")
            url = self._pg.__enter__()
            home = self.root / "dagster_home"
            home.mkdir(parents=True, exist_ok=True)
            config = without_event_log_storage(template_text(home))  # `storage:` replaces it
            (home / "dagster.yaml").write_text(config + "\n" + storage_yaml(url))
        return self

    def __exit__(self, *exc):
        if self._pg is not None:
            self._pg.__exit__(*exc)
