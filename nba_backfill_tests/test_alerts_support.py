"""Shared fixtures of the alert tests: a small asset graph built with the project's helpers, a
local HTTP server (NBA stats endpoint + Slack-style webhook) and a real asset backfill driven by
the backfill daemon's iteration against a test instance.

The graph mirrors a real slice: a Phase 1 scraper that calls the project's `NbaApiClient`
(`nba_lake/alert_scoreboard`), a Phase 2 table with a blocking `games_complete` check
(`nba_raw/alert_games`) and a Phase 3 table gated by the cross-run guard
(`nba_analytics/alert_player_form`, check `partition_ok` with the table core's outcome metadata). Failures are injected at
the HTTP server: a status code for a date (→ NbaApiError) or fewer games than expected.
"""


import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    Definitions,
    EnvVar,
    MaterializeResult,
    asset,
    in_process_executor,
)
from dagster._core.execution.backfill import PartitionBackfill
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.backfill import execute_backfill_iteration

from nba_backfill.alerts.digest import TERMINAL_STATUSES
from nba_backfill.alerts.notifiers import FileNotifier
from nba_backfill.alerts.sensors import sensors as alert_sensors
from nba_backfill.assets.common import partition_keys
from nba_backfill.checks.results import PARTITION_OK, Outcome, check_spec, emit_check
from nba_backfill.guards import blocked_partitions
from nba_backfill.layers import ANALYTICS, LAKE, RAW
from nba_backfill.partitions import DAILY_PARTITIONS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.nba_api import NbaApiClient

STATS_URL_ENV = "NBA_BACKFILL_TEST_STATS_URL"
ALERTS_DIR_ENV = "NBA_BACKFILL_TEST_ALERTS_DIR"
GAMES_PER_DAY = 3

SCOREBOARD = AssetKey([LAKE, "alert_scoreboard"])
GAMES = AssetKey([RAW, "alert_games"])
PLAYER_FORM = AssetKey([ANALYTICS, "alert_player_form"])
ALL_ASSETS = [SCOREBOARD, GAMES, PLAYER_FORM]


def _scoreboard(nba_api: NbaApiClient, day: str) -> dict:
    return nba_api.stats("scoreboardv2", {"GameDate": day}, context=day).data


@asset(
    key=SCOREBOARD,
    group_name=LAKE,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=BackfillPolicy.multi_run(max_partitions_per_run=1),
    kinds={"python"},
)
def alert_scoreboard(context: AssetExecutionContext, nba_api: NbaApiClient) -> MaterializeResult:
    """One scoreboard response per date."""
    games = sum(len(_scoreboard(nba_api, day)["games"]) for day in partition_keys(context))
    return MaterializeResult(metadata={"games": games})


@asset(
    key=GAMES,
    group_name=RAW,
    deps=[SCOREBOARD],
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=TABLE_BACKFILL_POLICY,
    kinds={"python"},
    check_specs=[check_spec(GAMES, "games_complete", "Every scheduled game is present", blocking=True)],
)
def alert_games(context: AssetExecutionContext, nba_api: NbaApiClient):
    """One row per game."""
    outcomes = {}
    for day in partition_keys(context):
        board = _scoreboard(nba_api, day)
        found, expected = len(board["games"]), board["expected"]
        outcomes[day] = Outcome(
            passed=found == expected,
            counts={"games": found, "expected_games": expected},
            message="" if found == expected else f"{expected - found} of {expected} games missing on {day}",
        )
    yield MaterializeResult(metadata={"partitions": len(outcomes)})
    yield emit_check(context, GAMES, "games_complete", outcomes, blocking=True)


@asset(
    key=PLAYER_FORM,
    group_name=ANALYTICS,
    deps=[GAMES],
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=TABLE_BACKFILL_POLICY,
    kinds={"python"},
    check_specs=[
        check_spec(PLAYER_FORM, PARTITION_OK, "Inputs passed blocking checks", blocking=True)
    ],
)
def alert_player_form(context: AssetExecutionContext):
    """One row per player per game."""
    keys = partition_keys(context)
    blocked = blocked_partitions(context, keys)
    outcomes = {
        day: Outcome(
            passed=day not in blocked,
            message="; ".join(blocked.get(day, [])),
            extra=(
                {"outcome": "blocked", "cause_kind": "upstream_check_failed", "cause": blocked[day][0]}
                if day in blocked else {"outcome": "ok"}
            ),
        )
        for day in keys
    }
    yield MaterializeResult(metadata={"blocked_partitions": len(blocked)})
    yield emit_check(context, PLAYER_FORM, PARTITION_OK, outcomes, blocking=True)


alert_test_defs = Definitions(
    assets=[alert_scoreboard, alert_games, alert_player_form],
    sensors=alert_sensors,
    resources={
        "notifier": FileNotifier(root=EnvVar(ALERTS_DIR_ENV)),
        "nba_api": NbaApiClient(
            mode="live",
            stats_base_url=EnvVar(STATS_URL_ENV),
            max_attempts=1,
            requests_per_second=100.0,
        )
    },
    executor=in_process_executor,
)


# --- local HTTP server: NBA stats endpoint + webhook ------------------------------------------
@dataclass
class LocalServer:
    """Stats endpoint with per-date faults, and a webhook that records what it is sent."""

    status_by_date: dict[str, int] = field(default_factory=dict)
    missing_games_by_date: dict[str, int] = field(default_factory=dict)
    webhook_status: int = 200
    received: list[dict] = field(default_factory=list)
    port: int = 0

    @property
    def stats_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stats"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


def _handler(state: LocalServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            return

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path != "/stats/scoreboardv2":
                self._reply(404, b"not found", "text/plain")
                return
            day = parse_qs(url.query)["GameDate"][0]
            status = state.status_by_date.get(day, 200)
            if status != 200:
                self._reply(status, b"upstream unavailable", "text/plain")
                return
            found = GAMES_PER_DAY - state.missing_games_by_date.get(day, 0)
            games = [{"gameId": f"{day}-{i}"} for i in range(found)]
            body = json.dumps({"games": games, "expected": GAMES_PER_DAY}).encode()
            self._reply(200, body, "application/json")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path != "/webhook":
                self._reply(404, b"not found", "text/plain")
                return
            if state.webhook_status == 200:
                state.received.append(
                    {"content_type": self.headers.get("Content-Type"), "json": json.loads(body)}
                )
            self._reply(state.webhook_status, b"ok" if state.webhook_status == 200 else b"down", "text/plain")

    return Handler


@contextmanager
def local_server(state: "LocalServer | None" = None, port: int = 0) -> Iterator[LocalServer]:
    """Serve on 127.0.0.1 in a thread for the duration of the block."""
    state = state or LocalServer()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- real asset backfills through the backfill daemon --------------------------------------------
@contextmanager
def backfill_workspace(instance: DagsterInstance):
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name=__name__,
            attribute="alert_test_defs",
        ),
        location_name="alerts_test",
    )
    with create_test_daemon_workspace_context(
        InProcessWorkspaceLoadTarget(origin), instance
    ) as context:
        yield context


def submit_backfill(workspace, partition_names: list[str], assets=ALL_ASSETS, tags=None) -> str:
    instance = workspace.instance
    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=workspace.create_request_context().asset_graph,
        partition_names=partition_names,
        asset_selection=assets,
        backfill_timestamp=time.time(),
        tags=tags or {},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=None,
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


def backfill_iteration(workspace) -> None:
    """One tick of the backfill daemon; runs launch and execute synchronously."""
    for error in execute_backfill_iteration(workspace, logging.getLogger("alerts_test_backfill")):
        if error is not None:
            raise AssertionError(f"backfill daemon error: {error.to_string()}")


def run_backfill_to_end(workspace, backfill_id: str, max_iterations: int = 15) -> PartitionBackfill:
    for _ in range(max_iterations):
        backfill_iteration(workspace)
        backfill = workspace.instance.get_backfill(backfill_id)
        if backfill.status in TERMINAL_STATUSES:
            return backfill
    raise AssertionError(f"backfill {backfill_id} not finished after {max_iterations} iterations")
