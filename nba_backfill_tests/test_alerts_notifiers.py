"""Notifier sinks: the webhook against a local HTTP server, the file sink, the selection."""

import json
import socket

import pytest
from dagster import build_resources

from nba_backfill.alerts.messages import Alert, message_from_dict
from nba_backfill.alerts.notifiers import (
    AlertSettings,
    DeliveryError,
    FileNotifier,
    Notifier,
    WebhookNotifier,
    notifier_resource,
)
from nba_backfill_tests.test_alerts_support import LocalServer, local_server

ALERT = Alert(
    kind="run_failure",
    key="run_failure_0f1e",
    title="Run failed: nba_lake/alert_scoreboard [2023-11-03]",
    asset="nba_lake/alert_scoreboard",
    partition="2023-11-03",
    first_line="NbaApiError: scoreboardv2 [2023-11-03]: HTTP 503 after 5 attempts",
    url="http://127.0.0.1:3000/runs/0f1e",
    category="source HTTP errors",
    run_id="0f1e",
)


def test_webhook_posts_a_slack_compatible_body():
    with local_server() as server:
        where = WebhookNotifier(url=server.webhook_url).send(ALERT)
    assert where == "webhook HTTP 200"
    (request,) = server.received
    assert request["content_type"] == "application/json"
    assert request["json"] == {
        "text": "Run failed: nba_lake/alert_scoreboard [2023-11-03]",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        "*Run failed: nba_lake/alert_scoreboard [2023-11-03]*\n"
                        "*Asset:* `nba_lake/alert_scoreboard`\n"
                        "*Partition:* `2023-11-03`\n"
                        "*Category:* `source HTTP errors`\n"
                        "*Error:* `NbaApiError: scoreboardv2 [2023-11-03]: HTTP 503 after 5 attempts`\n"
                        "<http://127.0.0.1:3000/runs/0f1e|Open in Dagster>"
                    ),
                },
            }
        ],
    }


def test_webhook_that_refuses_or_is_unreachable_raises_delivery_error():
    with local_server(LocalServer(webhook_status=500)) as server:
        with pytest.raises(DeliveryError, match="HTTP 500"):
            WebhookNotifier(url=server.webhook_url).send(ALERT)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError, match="unreachable: ConnectError"):
        WebhookNotifier(url=f"http://127.0.0.1:{port}/webhook", timeout_seconds=2).send(ALERT)


def test_file_sink_writes_json_and_markdown_once_per_message(tmp_path):
    sink = FileNotifier(root=str(tmp_path / "alerts"))
    assert isinstance(sink, Notifier)
    first = sink.send(ALERT)
    second = sink.send(ALERT)  # a resend replaces its own files
    assert first == second == str(tmp_path / "alerts" / "alerts" / "run_failure_0f1e.md")
    assert sorted(p.name for p in (tmp_path / "alerts" / "alerts").iterdir()) == [
        "run_failure_0f1e.json",
        "run_failure_0f1e.md",
    ]
    stored = json.loads((tmp_path / "alerts" / "alerts" / "run_failure_0f1e.json").read_text())
    assert message_from_dict(stored) == ALERT
    assert "[Open in Dagster](http://127.0.0.1:3000/runs/0f1e)" in open(first).read()


def test_file_sink_that_cannot_write_raises_delivery_error(tmp_path):
    blocker = tmp_path / "alerts"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match="cannot write"):
        FileNotifier(root=str(blocker)).send(ALERT)


def test_notifier_resource_is_the_file_sink_unless_the_webhook_variable_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("NBA_BACKFILL_ALERT_WEBHOOK_URL", raising=False)
    local = notifier_resource(tmp_path)
    assert isinstance(local, FileNotifier) and local.root == str(tmp_path / "alerts")

    monkeypatch.setenv("NBA_BACKFILL_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/first")
    remote = notifier_resource(tmp_path)
    assert isinstance(remote, WebhookNotifier)
    # the URL is resolved from the environment when the resource is built, not before
    monkeypatch.setenv("NBA_BACKFILL_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/rotated")
    with build_resources({"notifier": remote}) as resources:
        assert resources.notifier.url == "http://127.0.0.1:9/rotated"


def test_alert_settings_from_environment(monkeypatch):
    monkeypatch.setenv("NBA_BACKFILL_UI_URL", "http://dagster.internal:3000/")
    monkeypatch.setenv("NBA_BACKFILL_ALERT_FAILURE_RATE", "0.35")
    settings = AlertSettings.from_env()
    assert settings.failure_rate_threshold == 0.35
    assert settings.run_url("r1") == "http://dagster.internal:3000/runs/r1"
    assert settings.backfill_url("b1") == "http://dagster.internal:3000/runs/b/b1"
    monkeypatch.setenv("NBA_BACKFILL_ALERT_FAILURE_RATE", "35%")
    with pytest.raises(ValueError, match="NBA_BACKFILL_ALERT_FAILURE_RATE must be a number"):
        AlertSettings.from_env()
    monkeypatch.setenv("NBA_BACKFILL_ALERT_FAILURE_RATE", "1.5")
    with pytest.raises(ValueError, match="between 0 and 1"):
        AlertSettings.from_env()
    monkeypatch.delenv("NBA_BACKFILL_ALERT_FAILURE_RATE")
    monkeypatch.delenv("NBA_BACKFILL_UI_URL")
    assert AlertSettings.from_env() == AlertSettings()
