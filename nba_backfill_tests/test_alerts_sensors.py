"""Daily-flow alerts: run-failure and failed-blocking-check sensors against a real instance.

Runs are real materializations of the small graph in `test_alerts_support` (the project's
NbaApiClient against a local stats server with injected faults); sensors are evaluated through
`evaluate_tick` with `build_sensor_context`, the same entry point the sensor daemon uses.
"""

import json

import pytest
from dagster import build_sensor_context, materialize
from dagster._core.test_utils import instance_for_test

from nba_backfill.alerts.notifiers import FileNotifier, WebhookNotifier
from nba_backfill.alerts.sensors import (
    ALERT_TAG,
    failed_check_alerts,
    run_failure_alert_redelivery,
    run_failure_alerts,
)
from nba_backfill.resources.nba_api import NbaApiClient
from nba_backfill_tests.test_alerts_support import (
    LocalServer,
    alert_games,
    alert_player_form,
    alert_scoreboard,
    local_server,
)

DAY = "2023-11-03"


def _api(server: LocalServer) -> NbaApiClient:
    return NbaApiClient(mode="live", stats_base_url=server.stats_url, max_attempts=1)


def _tick(sensor_def, instance, notifier, cursor=None):
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"notifier": notifier}, sensor_name=sensor_def.name
    )
    return sensor_def.evaluate_tick(context)


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        yield inst


def test_run_failure_alert_names_asset_partition_first_line_and_run_link(instance, tmp_path, monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_UI_URL", "http://dagster.example:3000/")
    notifier = FileNotifier(root=str(tmp_path / "alerts"))
    with local_server(LocalServer(status_by_date={DAY: 503})) as server:
        first = _tick(run_failure_alerts, instance, notifier)  # initialises Dagster's cursor
        result = materialize(
            [alert_scoreboard], partition_key=DAY, instance=instance,
            resources={"nba_api": _api(server)}, raise_on_error=False,
        )
    assert not result.success
    _tick(run_failure_alerts, instance, notifier, cursor=first.cursor)

    files = sorted((tmp_path / "alerts" / "alerts").glob("*.json"))
    assert [f.name for f in files] == [f"run_failure_{result.run_id}.json"]
    alert = json.loads(files[0].read_text())
    assert alert["asset"] == "nba_lake/alert_scoreboard"
    assert alert["partition"] == DAY
    assert alert["first_line"] == f"NbaApiError: scoreboardv2 [{DAY}]: HTTP 503 after 1 attempts"
    assert alert["category"] == "source HTTP errors"
    assert alert["url"] == f"http://dagster.example:3000/runs/{result.run_id}"
    markdown = files[0].with_suffix(".md").read_text()
    assert f"[Open in Dagster](http://dagster.example:3000/runs/{result.run_id})" in markdown


def test_failed_blocking_check_alert_once_per_failure_and_guard_blocks_are_folded(instance, tmp_path):
    notifier = FileNotifier(root=str(tmp_path / "alerts"))
    init = _tick(failed_check_alerts, instance, notifier)
    run_init = _tick(run_failure_alerts, instance, notifier)
    with local_server(LocalServer(missing_games_by_date={DAY: 1})) as server:
        materialize([alert_games], partition_key=DAY, instance=instance,
                    resources={"nba_api": _api(server)}, raise_on_error=False)
        materialize([alert_games], partition_key="2023-11-04", instance=instance,
                    resources={"nba_api": _api(server)}, raise_on_error=False)
    materialize([alert_player_form], partition_key=DAY, instance=instance, raise_on_error=False)

    tick = _tick(failed_check_alerts, instance, notifier, cursor=init.cursor)
    # the two runs failed only because a blocking check failed: no second, run-level alert
    run_tick = _tick(run_failure_alerts, instance, notifier, cursor=run_init.cursor)
    assert len(run_tick.dagster_run_reactions) == 2
    alerts = [json.loads(p.read_text()) for p in sorted((tmp_path / "alerts" / "alerts").glob("*.json"))]
    # one alert: the games_complete failure; the passing day and the guard's block are not alerts
    assert [(a["asset"], a["partition"], a["check"]) for a in alerts] == [
        ("nba_raw/alert_games", DAY, "games_complete")
    ]
    assert alerts[0]["first_line"] == f"1 of 3 games missing on {DAY}"
    assert alerts[0]["category"] == "completeness"
    assert "1 new check alert(s)" in tick.skip_message

    again = _tick(failed_check_alerts, instance, notifier, cursor=tick.cursor)
    assert "0 new check alert(s)" in again.skip_message
    assert len(list((tmp_path / "alerts" / "alerts").glob("*.json"))) == 1


def test_run_failure_alert_survives_webhook_down_and_is_redelivered(instance, tmp_path):
    with local_server(LocalServer(status_by_date={DAY: 500})) as server:
        notifier = WebhookNotifier(url=server.webhook_url, timeout_seconds=2)
        first = _tick(run_failure_alerts, instance, notifier)
        result = materialize([alert_scoreboard], partition_key=DAY, instance=instance,
                             resources={"nba_api": _api(server)}, raise_on_error=False)
        server.webhook_status = 503  # the chat service is down
        tick = _tick(run_failure_alerts, instance, notifier, cursor=first.cursor)
        assert tick.dagster_run_reactions[0].error is None  # the sensor itself did not fail
        assert instance.get_run_by_id(result.run_id).tags[ALERT_TAG] == "pending"

        still_down = _tick(run_failure_alert_redelivery, instance, notifier)
        assert "0 of 1 pending" in still_down.skip_message
        assert server.received == []

        server.webhook_status = 200  # back up: the next tick delivers
        back = _tick(run_failure_alert_redelivery, instance, notifier)
        assert "1 of 1 pending" in back.skip_message
    assert instance.get_run_by_id(result.run_id).tags[ALERT_TAG] == "delivered"
    assert len(server.received) == 1
    text = server.received[0]["json"]["blocks"][0]["text"]["text"]
    assert f"/runs/{result.run_id}" in text and "HTTP 500" in text


def test_run_in_a_backfill_is_folded_not_alerted(instance, tmp_path):
    notifier = FileNotifier(root=str(tmp_path / "alerts"))
    with local_server(LocalServer(status_by_date={DAY: 503})) as server:
        first = _tick(run_failure_alerts, instance, notifier)
        materialize([alert_scoreboard], partition_key=DAY, instance=instance,
                    resources={"nba_api": _api(server)}, raise_on_error=False,
                    tags={"dagster/backfill": "abcdefgh"})
    tick = _tick(run_failure_alerts, instance, notifier, cursor=first.cursor)
    assert tick.dagster_run_reactions and tick.dagster_run_reactions[0].error is None
    assert not (tmp_path / "alerts").exists()


def test_run_of_an_automation_backfill_is_daily_flow_and_alerted(instance, tmp_path):
    notifier = FileNotifier(root=str(tmp_path / "alerts"))
    with local_server(LocalServer(status_by_date={DAY: 503})) as server:
        first = _tick(run_failure_alerts, instance, notifier)
        result = materialize(
            [alert_scoreboard], partition_key=DAY, instance=instance,
            resources={"nba_api": _api(server)}, raise_on_error=False,
            tags={"dagster/backfill": "abcdefgh", "dagster/from_automation_condition": "true"},
        )
    _tick(run_failure_alerts, instance, notifier, cursor=first.cursor)
    assert [p.name for p in (tmp_path / "alerts" / "alerts").glob("*.json")] == [
        f"run_failure_{result.run_id}.json"
    ]
