"""Drive real Dagster machinery from tests: a `dagster dev` process, or the backfill daemon's
own iteration in-process.

    with dagster_dev(tmp_path) as dev:
        dev.graphql("{ version }")
        dev.url          # http://127.0.0.1:<port>  (GraphQL at dev.graphql_url)

    with daemon_workspace("nba_backfill_tests.dagster_harness", "home_definitions") as ws:
        backfill_id = launch_asset_backfill(ws, {"nba_raw/x": [("2024-11-01", "2024-11-04")]})
        backfill = run_backfill(ws, backfill_id)   # execute_backfill_iteration until done

Each instance gets a free loopback port, its own DAGSTER_HOME (prepared from the packaged
dagster.yaml template, pool limits set) and its own NBA_BACKFILL_HOME (warehouse + lake), so tests
never touch the developer's data. The process starts in its own session/process group with
SIGINT/SIGTERM reset to their defaults (background shells may hand them down as ignored);
`stop()` interrupts the group, then kills it and any descendant that left it. Readiness means
the code location is LOADED over GraphQL (a load error is raised with its message), and
optionally that the daemon reports healthy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from nba_backfill.instance import dagster_environment, prepare_dagster_home

PROJECT_ROOT = Path(__file__).resolve().parents[1]

LOCATION_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""

RELOAD_MUTATION = """
mutation($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename ... on PythonError { message } } }
"""

DAEMON_QUERY = """
{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }
"""


class DagsterDevError(RuntimeError):
    """`dagster dev` did not start, did not load the code location, or answered with an error."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_signals() -> None:
    """SIGINT/SIGTERM back to their defaults; runs in a child between fork and exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def descendants(pid: int) -> list[int]:
    """Every live descendant pid of `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


@dataclass
class DagsterDev:
    """A running `dagster dev` process group and where its state lives."""

    port: int
    dagster_home: Path
    backfill_home: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    _client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=180.0))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL query; returns `data`, raises DagsterDevError on transport/GraphQL errors."""
        response = self._client.post(
            self.graphql_url, json={"query": query, "variables": dict(variables or {})}
        )
        if response.status_code != 200:
            raise DagsterDevError(f"GraphQL HTTP {response.status_code}: {response.text[:500]}")
        body = response.json()
        if body.get("errors"):
            raise DagsterDevError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def start(self, module: str, attribute: str | None, timeout: float, wait_for_daemon: bool) -> None:
        dagster = Path(sys.executable).with_name("dagster")
        command = [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(self.port), "-m", module]
        if attribute:
            command += ["-a", attribute]
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                command,
                cwd=str(self.backfill_home),
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=reset_signals,
            )
        finally:
            log.close()
        self.wait_until_loaded(timeout)
        if wait_for_daemon:
            self.wait_for_daemon(timeout)

    def _alive_or_raise(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise DagsterDevError(f"dagster dev exited (code {code}); log:\n{self.log_tail()}")

    def wait_until_loaded(self, timeout: float) -> None:
        """Poll GraphQL until every code location is LOADED; raise its load error if any."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            self._alive_or_raise()
            try:
                data = self.graphql(LOCATION_QUERY)
            except (httpx.HTTPError, DagsterDevError, ValueError) as exc:
                last = str(exc)
                time.sleep(0.5)
                continue
            workspace = data["workspaceOrError"]
            entries = workspace.get("locationEntries") or []
            for entry in entries:
                loaded = entry["locationOrLoadError"] or {}
                if loaded.get("__typename") == "PythonError":
                    raise DagsterDevError(
                        f"code location {entry['name']} failed to load: {loaded['message']}"
                    )
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return
            last = f"locations: {[(e['name'], e['loadStatus']) for e in entries]}"
            time.sleep(0.5)
        raise DagsterDevError(
            f"code location not LOADED within {timeout:.0f}s ({last}); log:\n{self.log_tail()}"
        )

    def reload_location(self, timeout: float = 180.0) -> None:
        """Reload every code location (fresh import in a new code server) and wait until LOADED."""
        data = self.graphql(LOCATION_QUERY)
        for entry in data["workspaceOrError"]["locationEntries"]:
            result = self.graphql(RELOAD_MUTATION, {"name": entry["name"]})
            outcome = result["reloadRepositoryLocation"]
            if outcome["__typename"] != "WorkspaceLocationEntry":
                raise DagsterDevError(f"reload of {entry['name']} failed: {outcome}")
        self.wait_until_loaded(timeout)

    def daemon_statuses(self) -> dict[str, bool]:
        data = self.graphql(DAEMON_QUERY)
        return {
            s["daemonType"]: s["healthy"]
            for s in data["instance"]["daemonHealth"]["allDaemonStatuses"]
            if s["required"]
        }

    def wait_for_daemon(self, timeout: float, daemon: str = "BACKFILL") -> None:
        deadline = time.monotonic() + timeout
        statuses: dict[str, bool] = {}
        while time.monotonic() < deadline:
            self._alive_or_raise()
            statuses = self.daemon_statuses()
            if statuses.get(daemon):
                return
            time.sleep(1.0)
        raise DagsterDevError(f"daemon {daemon} not healthy within {timeout:.0f}s: {statuses}")

    def stop(self, grace_seconds: float = 15.0) -> None:
        """Interrupt the process group, then kill it and any descendant that left the group."""
        self._client.close()
        proc = self.process
        if proc is None:
            return
        pids = descendants(proc.pid)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        deadline = time.monotonic() + 15  # killed members may take a moment to be reaped
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.process = None


@contextlib.contextmanager
def dagster_dev(
    root: Path,
    *,
    module: str = "nba_backfill.definitions",
    attribute: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 180.0,
    wait_for_daemon: bool = True,
) -> Iterator[DagsterDev]:
    """Run `dagster dev` on `module` (optionally `-a attribute`) with
    DAGSTER_HOME=root/dagster_home and NBA_BACKFILL_HOME=root/home."""
    root = Path(root).absolute()
    dagster_home = prepare_dagster_home(root / "dagster_home")
    backfill_home = root / "home"
    backfill_home.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "NBA_BACKFILL_HOME"}}
    base["NBA_BACKFILL_HOME"] = str(backfill_home)
    # the test package is not installed: make `nba_backfill_tests...` targets importable
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), base.get("PYTHONPATH")) if p)
    base.update(extra_env or {})
    dev = DagsterDev(
        port=free_port(),
        dagster_home=dagster_home,
        backfill_home=backfill_home,
        log_path=root / "dagster_dev.log",
        env=dagster_environment(dagster_home, base=base),
    )
    try:
        dev.start(module, attribute, timeout, wait_for_daemon)
        yield dev
    finally:
        dev.stop()


# --- in-process asset backfills (the daemon's own iteration, no webserver) -----------------------


CODE_VERSION_OVERRIDES = "test_code_versions.json"
"""Test knob read by `home_definitions`: {"layer/table": "code version"} in NBA_BACKFILL_HOME,
to simulate a logic change (write it, then `DagsterDev.reload_location()`)."""


def home_definitions():
    """The project's Definitions with resources built now (NBA_BACKFILL_HOME read at call time)
    and the in-process executor. A zero-argument function, so every code-pointer load (workspace,
    each launched run) builds it against the current environment. Code versions listed in
    `$NBA_BACKFILL_HOME/test_code_versions.json` replace the assets' own."""
    import json

    from dagster import Definitions, in_process_executor, map_asset_specs

    from nba_backfill.definitions import defs
    from nba_backfill.resources import build_resources
    from nba_backfill.resources.environment import backfill_home
    from nba_backfill.staleness import stale_partitions

    assets = list(defs.assets or [])
    overrides_file = backfill_home() / CODE_VERSION_OVERRIDES
    if overrides_file.exists():
        overrides = json.loads(overrides_file.read_text())
        assets = map_asset_specs(
            lambda spec: spec.replace_attributes(code_version=overrides[spec.key.to_user_string()])
            if spec.key.to_user_string() in overrides
            else spec,
            assets,
        )
    return Definitions(
        assets=assets,
        asset_checks=list(defs.asset_checks or []),
        jobs=list(defs.jobs or []),
        sensors=[stale_partitions],  # staleness is part of what the UI and CLI show
        resources=build_resources(),
        executor=in_process_executor,
    )


def mirror_definitions():
    """No-op stand-ins for every asset of the project: same keys, op grouping, dependencies,
    partition mappings, partitions and backfill policies, so Dagster plans exactly the runs it
    would plan for the real graph, in a fraction of the time (used to count runs)."""
    from dagster import AssetsDefinition, Definitions, MaterializeResult, in_process_executor, multi_asset

    from nba_backfill.definitions import defs

    mirrors = []
    for assets_def in defs.assets or []:
        if not isinstance(assets_def, AssetsDefinition):
            continue
        specs = [spec.replace_attributes(automation_condition=None) for spec in assets_def.specs]

        def build(specs=specs, assets_def=assets_def):
            @multi_asset(
                name=assets_def.node_def.name,
                specs=specs,
                partitions_def=assets_def.partitions_def,
                backfill_policy=assets_def.backfill_policy,
                can_subset=assets_def.can_subset,
            )
            def _mirror(context):
                for key in sorted(context.selected_asset_keys, key=lambda k: k.to_string()):
                    yield MaterializeResult(asset_key=key)

            return _mirror

        mirrors.append(build())
    return Definitions(assets=mirrors, executor=in_process_executor)


@contextlib.contextmanager
def daemon_workspace(module: str, attribute: str, instance=None, queued: bool = False):
    """A daemon workspace loading `module.attribute` in-process, on `instance` (default: a temporary
    test instance whose runs execute synchronously in this process: at submission, or with
    `queued=True` when `run_backfill(..., runs_per_tick=K)` dequeues them, K per daemon tick)."""
    from dagster import instance_for_test
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    with contextlib.ExitStack() as stack:
        if instance is None:
            overrides = (
                {"run_coordinator": {"module": "dagster", "class": "QueuedRunCoordinator"}}
                if queued
                else None
            )
            instance = stack.enter_context(
                instance_for_test(
                    overrides=overrides,
                    synchronous_run_coordinator=not queued,
                    synchronous_run_launcher=True,
                )
            )
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(executable_path=sys.executable, module_name=module, attribute=attribute)
        )
        yield stack.enter_context(
            create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance)
        )


@contextlib.contextmanager
def backfill_env(home: Path, current_season: str) -> Iterator[pytest.MonkeyPatch]:
    """The environment of a daemon-path test: NBA_BACKFILL_HOME, the current season, and the
    ranged-run variables every Dagster process of the project gets (`RANGED_RUN_ENV`)."""
    from nba_backfill.instance import RANGED_RUN_ENV

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBA_BACKFILL_HOME", str(home))
        mp.setenv("NBA_BACKFILL_CURRENT_SEASON", current_season)
        for key, value in RANGED_RUN_ENV.items():
            mp.setenv(key, value)
        yield mp


def launch_asset_backfill(
    workspace_context,
    ranges_by_asset: Mapping[str, Sequence[tuple[str, str]]],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Store an asset backfill with exact per-asset ranges, exactly as GraphQL
    `launchPartitionBackfill(partitionsByAssets)` does; returns its id."""
    from dagster import AssetKey
    from dagster._core.definitions.selector import (
        PartitionRangeSelector,
        PartitionsByAssetSelector,
        PartitionsSelector,
    )
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id

    instance = workspace_context.instance
    backfill = PartitionBackfill.from_partitions_by_assets(
        backfill_id=make_new_backfill_id(),
        asset_graph=workspace_context.create_request_context().asset_graph,
        backfill_timestamp=time.time(),
        tags=dict(tags or {}),
        dynamic_partitions_store=instance,
        partitions_by_assets=[
            PartitionsByAssetSelector(
                asset_key=AssetKey(asset.split("/")),
                partitions=PartitionsSelector(
                    ranges=[PartitionRangeSelector(start=a, end=b) for a, b in ranges]
                ),
            )
            for asset, ranges in ranges_by_asset.items()
        ],
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


def run_backfill(
    workspace_context, backfill_id: str, max_iterations: int = 500, runs_per_tick: int | None = None
):
    """Run the backfill daemon's iteration until the backfill reaches a final status.

    With the synchronous coordinator every submitted run executes inside the iteration, so each
    iteration sees all earlier runs finished (the fewest runs Dagster plans). With a queued
    workspace and `runs_per_tick=K`, the K oldest queued runs execute after each iteration: the
    model of a run queue with K concurrent runs that each last about one daemon tick."""
    import logging

    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    from dagster._core.execution.backfill import BulkActionStatus
    from dagster._daemon.backfill import execute_backfill_iteration

    logger = logging.getLogger("nba_backfill_tests.backfill_daemon")
    final = {
        BulkActionStatus.COMPLETED,
        BulkActionStatus.COMPLETED_SUCCESS,
        BulkActionStatus.COMPLETED_FAILED,
        BulkActionStatus.FAILED,
        BulkActionStatus.CANCELED,
    }
    instance = workspace_context.instance
    for _ in range(max_iterations):
        for error in execute_backfill_iteration(workspace_context, logger):
            if error is not None:
                raise DagsterDevError(f"backfill daemon iteration failed: {error.to_string()}")
        if runs_per_tick is not None:
            queued = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
            for run in list(reversed(queued))[:runs_per_tick]:  # get_runs is newest first
                instance.launch_run(run.run_id, workspace_context.create_request_context())
        backfill = instance.get_backfill(backfill_id)
        if backfill.status in final:
            return backfill
    raise DagsterDevError(f"backfill {backfill_id} not finished after {max_iterations} iterations")


def backfill_runs(instance, backfill_id: str) -> list:
    """The runs of a backfill, oldest first."""
    from dagster._core.storage.dagster_run import RunsFilter
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    return list(reversed(instance.get_runs(filters=RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}))))


class InProcessGraphQL:
    """The CLI's GraphQL client interface (`execute`, `url`) answered in-process by
    dagster-graphql against a daemon workspace: the CLI's read paths without a webserver."""

    url = "in-process/graphql"

    def __init__(self, workspace_context):
        self._workspace_context = workspace_context

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        from dagster_graphql.test.utils import execute_dagster_graphql

        from nba_backfill.ops.graphql import OpsError

        result = execute_dagster_graphql(
            self._workspace_context.create_request_context(), query, dict(variables or {})
        )
        if result.errors:
            raise OpsError(f"GraphQL errors: {[str(e) for e in result.errors]}")
        return result.data


# --- run counting (the README's "runs per full-season backfill") ----------------------------------


def count_backfill_runs(
    start: str, end: str, phases: str = "1-4", runs_per_tick: int | None = None
) -> list[tuple[str, str, str, list[str]]]:
    """Runs Dagster launches for one exact-range asset backfill of the mirrored graph:
    [(status, range start, range end, asset keys)] in launch order."""
    from nba_backfill.ops.plan import build_backfill_request
    from nba_backfill.partitions import DAILY_PARTITIONS
    from nba_backfill.seasons import current_season

    with daemon_workspace(
        "nba_backfill_tests.dagster_harness", "mirror_definitions", queued=runs_per_tick is not None
    ) as ws:
        graph = ws.create_request_context().asset_graph
        request = build_backfill_request(
            known_assets=[k.to_user_string() for k in graph.get_all_asset_keys()],
            all_keys=DAILY_PARTITIONS.get_partition_keys(),
            current_season=current_season(),
            start=start,
            end=end,
            phases=phases,
        )
        backfill_id = launch_asset_backfill(ws, {i.asset: i.ranges for i in request.partitions_by_assets})
        run_backfill(ws, backfill_id, runs_per_tick=runs_per_tick)
        return [
            (
                run.status.value,
                run.tags.get("dagster/asset_partition_range_start", ""),
                run.tags.get("dagster/asset_partition_range_end", ""),
                sorted(k.to_user_string() for k in run.asset_selection or ()),
            )
            for run in backfill_runs(ws.instance, backfill_id)
        ]


if __name__ == "__main__":
    # python -m nba_backfill_tests.dagster_harness 2023-10-24 2024-06-17 [RUNS_PER_TICK]
    from collections import Counter

    from nba_backfill.instance import RANGED_RUN_ENV

    for name, value in RANGED_RUN_ENV.items():
        os.environ.setdefault(name, value)
    per_tick = int(sys.argv[3]) if len(sys.argv) > 3 else None
    runs = count_backfill_runs(sys.argv[1], sys.argv[2], runs_per_tick=per_tick)
    print(f"{len(runs)} runs")
    for status, first, last, assets in runs:
        layers = dict(Counter(a.split("/")[0] for a in assets))
        print(f"{status:<8} {first}..{last} {layers}")
