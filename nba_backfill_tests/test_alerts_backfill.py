"""Backfill digests from real asset backfills run by the backfill daemon's iteration.

Each test submits an asset backfill of the small graph in `test_alerts_support` to a test
instance (synchronous run launcher), injects failures at the local stats server, advances the
backfill with `execute_backfill_iteration` and ticks the alert sensors in between, as the
sensor daemon would.
"""

import json
import socket

import pytest
from dagster import build_sensor_context
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.test_utils import instance_for_test

from nba_backfill.alerts import digest as digest_module
from nba_backfill.alerts.notifiers import FileNotifier, WebhookNotifier
from nba_backfill.alerts.sensors import backfill_digests, failed_check_alerts, run_failure_alerts
from nba_backfill.partitions import season_keys
from nba_backfill.seasons import season_by_label
from nba_backfill_tests.test_alerts_support import (
    ALERTS_DIR_ENV,
    SCOREBOARD,
    STATS_URL_ENV,
    LocalServer,
    backfill_iteration,
    backfill_workspace,
    local_server,
    run_backfill_to_end,
    submit_backfill,
)

DAYS = ["2023-11-01", "2023-11-02", "2023-11-03", "2023-11-04"]


def tick(sensor_def, instance, notifier, cursor=None):
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"notifier": notifier}, sensor_name=sensor_def.name
    )
    return sensor_def.evaluate_tick(context)


class Sensors:
    """The three tick-driven sensors with their cursors, ticked together."""

    def __init__(self, instance, notifier):
        self.instance, self.notifier = instance, notifier
        self.cursors = {s.name: None for s in (run_failure_alerts, failed_check_alerts, backfill_digests)}
        self.digest_ticks = []
        self.tick_all()

    def tick_all(self):
        for sensor_def in (run_failure_alerts, failed_check_alerts, backfill_digests):
            result = tick(sensor_def, self.instance, self.notifier, self.cursors[sensor_def.name])
            self.cursors[sensor_def.name] = result.cursor
            if sensor_def is backfill_digests:
                self.digest_ticks.append(result)


def files(root, folder):
    return sorted((root / folder).glob("*.json")) if (root / folder).exists() else []


@pytest.fixture
def instance():
    with instance_for_test(synchronous_run_coordinator=True, synchronous_run_launcher=True) as inst:
        yield inst


def test_backfill_with_two_failure_categories_gives_exactly_one_digest(instance, tmp_path, monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_ALERT_FAILURE_RATE", "0.5")  # stays under it: no early alert
    root = tmp_path / "alerts"
    faults = LocalServer(status_by_date={"2023-11-01": 503}, missing_games_by_date={"2023-11-02": 1, "2023-11-04": 2})
    with local_server(faults) as server, backfill_workspace(instance) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, server.stats_url)
        sensors = Sensors(instance, FileNotifier(root=str(root)))
        backfill_id = submit_backfill(workspace, DAYS)
        for _ in range(15):
            backfill_iteration(workspace)
            sensors.tick_all()
            if instance.get_backfill(backfill_id).status.value.startswith("COMPLETED"):
                break
        sensors.tick_all()  # a later tick must not repeat the digest

    assert files(root, "alerts") == []  # every failure was folded into the digest
    (digest_file,) = files(root, "digests")
    assert digest_file.name == f"backfill_{backfill_id}.json"
    digest = json.loads(digest_file.read_text())
    assert digest["status"] == "COMPLETED_FAILED"
    assert (digest["first_partition"], digest["last_partition"]) == ("2023-11-01", "2023-11-04")
    groups = {g["category"]: g for g in digest["groups"]}
    assert list(groups) == ["source HTTP errors", "completeness"]
    assert groups["source HTTP errors"]["count"] == 1
    assert groups["source HTTP errors"]["sample"] == ["nba_lake/alert_scoreboard [2023-11-01]"]
    assert groups["source HTTP errors"]["causes"] == [["scoreboardv2 HTTP 503", 1]]
    assert groups["completeness"]["count"] == 2
    assert groups["completeness"]["blocked"] == 2  # nba_analytics partitions held back by the guard
    assert groups["completeness"]["sample"] == [
        "nba_raw/alert_games [2023-11-02]",
        "nba_raw/alert_games [2023-11-04]",
    ]
    phases = {p["phase"]: p for p in digest["phases"]}
    assert phases["Phase 1 (nba_lake)"] == {
        "phase": "Phase 1 (nba_lake)", "targeted": 4, "materialized": 3, "failed": 1,
        "checks_failed": 0, "not_run": 0,
    }
    assert phases["Phase 2 (nba_raw)"]["checks_failed"] == 2
    assert phases["Phase 2 (nba_raw)"]["not_run"] == 1
    assert phases["Phase 3 (nba_analytics)"]["checks_failed"] == 2
    assert digest["retry_command"] == (
        "nba-backfill backfill --from 2023-11-01 --to 2023-11-04 --assets "
        "nba_analytics/alert_player_form nba_lake/alert_scoreboard nba_raw/alert_games "
        "--only-missing-or-failed"
    )
    assert digest["wall_seconds"] > 0
    markdown = digest_file.with_suffix(".md").read_text()
    assert "| completeness | 2 | 2 |" in markdown and digest["retry_command"] in markdown

    with_digest = [t for t in sensors.digest_ticks if "1 digest(s)" in (t.skip_message or "")]
    assert len(with_digest) == 1
    observed = {tuple(e.asset_key.path): e.metadata for e in with_digest[0].asset_events}
    assert set(observed) == {
        ("nba_lake", "alert_scoreboard"), ("nba_raw", "alert_games"), ("nba_analytics", "alert_player_form")
    }
    assert observed[("nba_raw", "alert_games")]["digest_location"].value == str(digest_file.with_suffix(".md"))


def test_failure_rate_above_threshold_alerts_at_once_and_only_once(instance, tmp_path, monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_ALERT_MIN_PARTITIONS", "4")
    root = tmp_path / "alerts"
    faults = LocalServer(status_by_date={"2023-11-03": 503, "2023-11-04": 429})
    with local_server(faults) as server, backfill_workspace(instance) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, server.stats_url)
        sensors = Sensors(instance, FileNotifier(root=str(root)))
        backfill_id = submit_backfill(workspace, DAYS)
        backfill_iteration(workspace)  # the four scraper runs: two fail
        assert instance.get_backfill(backfill_id).status.value == "REQUESTED"
        sensors.tick_all()
        (alert_file,) = files(root, "alerts")
        alert = json.loads(alert_file.read_text())
        assert alert["kind"] == "failure_rate"
        assert alert["title"] == (
            f"Backfill {backfill_id}: failure rate 50% exceeds 20% (2 of 4 asset partitions)"
        )
        assert alert["partition"] == "2023-11-03..2023-11-04"
        assert alert["url"].endswith(f"/runs/b/{backfill_id}")
        assert files(root, "digests") == []

        run_backfill_to_end(workspace, backfill_id)
        sensors.tick_all()
    assert len(files(root, "alerts")) == 1  # alerted once
    (digest_file,) = files(root, "digests")
    digest = json.loads(digest_file.read_text())
    assert [(g["category"], g["count"]) for g in digest["groups"]] == [("source HTTP errors", 2)]
    assert dict(map(tuple, digest["groups"][0]["causes"])) == {
        "scoreboardv2 HTTP 503": 1, "scoreboardv2 HTTP 429": 1,
    }


def test_canceled_backfill_gets_a_digest_whose_retry_covers_what_never_ran(instance, tmp_path, monkeypatch):
    root = tmp_path / "alerts"
    with local_server() as server, backfill_workspace(instance) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, server.stats_url)
        sensors = Sensors(instance, FileNotifier(root=str(root)))
        backfill_id = submit_backfill(workspace, DAYS[:2])
        backfill_iteration(workspace)  # the scrapers run
        instance.update_backfill(
            instance.get_backfill(backfill_id).with_status(BulkActionStatus.CANCELING)
        )
        assert run_backfill_to_end(workspace, backfill_id).status == BulkActionStatus.CANCELED
        sensors.tick_all()
    (digest_file,) = files(root, "digests")
    digest = json.loads(digest_file.read_text())
    assert digest["status"] == "CANCELED" and digest["groups"] == []
    assert {p["phase"]: (p["materialized"], p["not_run"]) for p in digest["phases"]} == {
        "Phase 1 (nba_lake)": (2, 0), "Phase 2 (nba_raw)": (0, 2), "Phase 3 (nba_analytics)": (0, 2),
    }
    assert digest["retry_command"] == (
        "nba-backfill backfill --from 2023-11-01 --to 2023-11-02 --assets "
        "nba_analytics/alert_player_form nba_raw/alert_games --only-missing-or-failed"
    )


def test_backfills_of_the_automation_sensor_get_no_digest(instance, tmp_path, monkeypatch):
    root = tmp_path / "alerts"
    with local_server() as server, backfill_workspace(instance) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, server.stats_url)
        first = tick(backfill_digests, instance, FileNotifier(root=str(root)))
        backfill_id = submit_backfill(
            workspace, DAYS[:1], assets=[SCOREBOARD], tags={"dagster/from_automation_condition": "true"}
        )
        run_backfill_to_end(workspace, backfill_id)
        after = tick(backfill_digests, instance, FileNotifier(root=str(root)), first.cursor)
    assert after.skip_message.startswith("0 digest(s)")
    assert json.loads(after.cursor)["handled"] == [backfill_id]
    assert files(root, "digests") == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_down_keeps_digest_pending_and_delivers_it_next_tick(instance, monkeypatch, capsys):
    port = _closed_port()
    notifier = WebhookNotifier(url=f"http://127.0.0.1:{port}/webhook", timeout_seconds=2)
    with local_server(LocalServer(status_by_date={"2023-11-02": 500})) as source:
        monkeypatch.setenv(STATS_URL_ENV, source.stats_url)
        with backfill_workspace(instance) as workspace:
            first = tick(backfill_digests, instance, notifier)
            backfill_id = submit_backfill(workspace, DAYS[:2], assets=[SCOREBOARD])
            run_backfill_to_end(workspace, backfill_id)

    capsys.readouterr()
    down = tick(backfill_digests, instance, notifier, first.cursor)  # webhook unreachable
    assert "1 digest(s)" in down.skip_message and "0 delivered, 1 pending" in down.skip_message
    assert "ConnectError" in down.skip_message
    pending = json.loads(down.cursor)["pending"]
    assert [m["key"] for m in pending] == [f"backfill_{backfill_id}"]
    logged = capsys.readouterr().err
    assert "WARNING - Could not deliver" in logged and "kept pending in the cursor" in logged

    still_down = tick(backfill_digests, instance, notifier, down.cursor)
    assert "0 digest(s)" in still_down.skip_message and "1 pending" in still_down.skip_message

    with local_server(LocalServer(), port=port) as webhook:  # back up on the same address
        back = tick(backfill_digests, instance, notifier, still_down.cursor)
    assert "1 delivered, 0 pending" in back.skip_message
    assert json.loads(back.cursor)["pending"] == []
    (request,) = webhook.received
    assert request["content_type"] == "application/json"
    body = request["json"]
    assert body["text"] == f"Backfill {backfill_id}: COMPLETED_FAILED, 1 failure(s) in 1 group(s)"
    section = body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn"
    assert "*source HTTP errors*: 1 — nba_lake/alert_scoreboard [2023-11-02]" in section["text"]
    assert (
        "nba-backfill backfill --from 2023-11-02 --to 2023-11-02 --assets nba_lake/alert_scoreboard"
        " --only-missing-or-failed" in section["text"]
    )
    again = tick(backfill_digests, instance, notifier, back.cursor)
    assert "0 digest(s)" in again.skip_message and len(webhook.received) == 1


def test_long_backfill_sends_a_digest_per_completed_season(instance, tmp_path, monkeypatch):
    monkeypatch.setattr(digest_module, "SETTLE_SECONDS", -1)  # exercise the finished-run cache
    last_of_2022_23 = season_keys(season_by_label("2022-23"))[-1]
    first_of_2023_24 = season_keys(season_by_label("2023-24"))[0]
    root = tmp_path / "alerts"
    with local_server(LocalServer(status_by_date={last_of_2022_23: 503})) as server, backfill_workspace(
        instance
    ) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, server.stats_url)
        sensors = Sensors(instance, FileNotifier(root=str(root)))
        backfill_id = submit_backfill(workspace, [last_of_2022_23, first_of_2023_24])
        backfill_iteration(workspace)  # scrapers: 2022-23's only date fails, 2023-24's succeeds
        sensors.tick_all()
        assert files(root, "digests") == []  # neither season has all its tables yet
        # the daemon marks 2022-23's tables failed-downstream and runs 2023-24's tables
        backfill_iteration(workspace)
        assert instance.get_backfill(backfill_id).status.value == "REQUESTED"
        sensors.tick_all()  # both seasons are complete, the backfill is not finished yet
        assert [f.name for f in files(root, "digests")] == [
            f"backfill_{backfill_id}_season_2022-23.json",
            f"backfill_{backfill_id}_season_2023-24.json",
        ]
        run_backfill_to_end(workspace, backfill_id)
        sensors.tick_all()
    assert [f.name for f in files(root, "digests")] == [
        f"backfill_{backfill_id}.json",
        f"backfill_{backfill_id}_season_2022-23.json",
        f"backfill_{backfill_id}_season_2023-24.json",
    ]
    season = json.loads((root / "digests" / f"backfill_{backfill_id}_season_2022-23.json").read_text())
    assert season["scope"] == "season 2022-23"
    assert [(g["category"], g["count"]) for g in season["groups"]] == [("source HTTP errors", 1)]
    assert {p["phase"]: p["not_run"] for p in season["phases"]} == {
        "Phase 1 (nba_lake)": 0, "Phase 2 (nba_raw)": 1, "Phase 3 (nba_analytics)": 1,
    }
    later = json.loads((root / "digests" / f"backfill_{backfill_id}_season_2023-24.json").read_text())
    assert later["groups"] == [] and later["retry_command"] == ""
    whole = json.loads((root / "digests" / f"backfill_{backfill_id}.json").read_text())
    assert whole["retry_command"].startswith(
        f"nba-backfill backfill --from {last_of_2022_23} --to {last_of_2022_23} "
    )


def test_sensor_daemon_records_the_digest_on_the_tick_and_as_asset_observations(instance, tmp_path, monkeypatch):
    """The real sensor daemon iteration: resources from the code location (file sink from an
    EnvVar), tick status text, and the digest as a run-less observation on the failed asset."""
    import logging
    import time

    from dagster._core.scheduler.instigation import TickStatus
    from dagster._core.test_utils import freeze_time
    from dagster._daemon.sensor import execute_sensor_iteration

    monkeypatch.setenv(ALERTS_DIR_ENV, str(tmp_path / "alerts"))

    def sensor_iteration(now):
        with freeze_time(now):
            list(execute_sensor_iteration(workspace, logging.getLogger("alerts_test_sensors"), None, None))

    with local_server(LocalServer(status_by_date={"2023-11-02": 503})) as source, backfill_workspace(
        instance
    ) as workspace:
        monkeypatch.setenv(STATS_URL_ENV, source.stats_url)
        start = time.time()
        sensor_iteration(start)  # first ticks: cursors initialised
        backfill_id = submit_backfill(workspace, DAYS[:2], assets=[SCOREBOARD])
        run_backfill_to_end(workspace, backfill_id)
        sensor_iteration(start + 120)
        location = workspace.create_request_context().get_code_location("alerts_test")
        (repository,) = location.get_repositories().values()
        remote = repository.get_sensor("backfill_digests")

    digest_md = tmp_path / "alerts" / "digests" / f"backfill_{backfill_id}.md"
    assert digest_md.exists()
    (observation,) = instance.fetch_observations(SCOREBOARD, limit=10).records
    metadata = observation.asset_observation.metadata
    assert metadata["backfill_id"].value == backfill_id
    assert metadata["digest_location"].value == str(digest_md)
    assert metadata["categories"].value == "source HTTP errors"
    ticks = instance.get_ticks(remote.get_remote_origin_id(), remote.selector_id)
    assert ticks[0].status == TickStatus.SKIPPED
    assert ticks[0].skip_reason.startswith("1 digest(s), 0 early alert(s); 1 delivered, 0 pending")
