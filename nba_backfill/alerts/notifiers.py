"""Where alerts and digests go: a small `Notifier` interface and its two sinks.

- `WebhookNotifier`: POSTs a Slack-compatible JSON body (`text` + one mrkdwn `section` block) to
  a webhook URL taken from the environment through `dagster.EnvVar` (resolved when a sensor
  tick builds its resources, never at import).
- `FileNotifier`: writes each message as JSON + Markdown under `$NBA_BACKFILL_HOME/alerts/`
  (`digests/` and `alerts/`), atomically, one file pair per message key. Default locally.

`notifier_resource(home)` picks one: the webhook when NBA_BACKFILL_ALERT_WEBHOOK_URL is set,
else the file sink. A sink that cannot deliver raises `DeliveryError`; the sensors keep such a
message pending and retry it on their next tick.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx
from dagster import ConfigurableResource, EnvVar

from nba_backfill.alerts.messages import Digest, Message

WEBHOOK_URL_ENV = "NBA_BACKFILL_ALERT_WEBHOOK_URL"
UI_URL_ENV = "NBA_BACKFILL_UI_URL"
FAILURE_RATE_ENV = "NBA_BACKFILL_ALERT_FAILURE_RATE"
MIN_PARTITIONS_ENV = "NBA_BACKFILL_ALERT_MIN_PARTITIONS"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
SLACK_SECTION_LIMIT = 3000  # Slack rejects a section text longer than this


class DeliveryError(RuntimeError):
    """A sink could not deliver a message (webhook down or refusing, disk not writable)."""


@runtime_checkable
class Notifier(Protocol):
    """Delivers one message; returns where it went (file path or webhook status)."""

    def send(self, message: Message) -> str: ...


def slack_payload(message: Message) -> dict:
    """Slack incoming-webhook body: plain `text` fallback plus one mrkdwn section."""
    text = message.to_slack_text()
    section = text if len(text) <= SLACK_SECTION_LIMIT else text[: SLACK_SECTION_LIMIT - 1] + "…"
    return {
        "text": message.title,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}],
    }


class WebhookNotifier(ConfigurableResource):
    """Slack-compatible incoming webhook (Slack, Mattermost, Teams connectors, chat bridges)."""

    url: str
    timeout_seconds: float = 10.0

    def send(self, message: Message) -> str:
        try:
            response = httpx.post(self.url, json=slack_payload(message), timeout=self.timeout_seconds)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(
                f"webhook refused the message: HTTP {response.status_code} {response.text[:200]!r}"
            )
        return f"webhook HTTP {response.status_code}"


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_") or "message"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class FileNotifier(ConfigurableResource):
    """JSON + Markdown files under `root` (`$NBA_BACKFILL_HOME/alerts` by default)."""

    root: str

    def path_for(self, message: Message) -> Path:
        folder = "digests" if isinstance(message, Digest) else "alerts"
        return Path(self.root) / folder / f"{_safe_name(message.key)}.md"

    def send(self, message: Message) -> str:
        markdown_path = self.path_for(message)
        try:
            markdown_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(
                markdown_path.with_suffix(".json"),
                json.dumps(message.to_dict(), indent=2, sort_keys=True) + "\n",
            )
            _write_atomic(markdown_path, message.to_markdown())
        except OSError as exc:
            raise DeliveryError(f"cannot write {markdown_path}: {exc}") from exc
        return str(markdown_path)


def notifier_resource(home: Path) -> WebhookNotifier | FileNotifier:
    """The `notifier` resource: webhook when NBA_BACKFILL_ALERT_WEBHOOK_URL is set, else files.

    Only the variable's presence is looked at here; its value (a secret) is resolved by Dagster
    from `EnvVar` when a sensor tick initialises the resource.
    """
    if os.environ.get(WEBHOOK_URL_ENV):
        return WebhookNotifier(url=EnvVar(WEBHOOK_URL_ENV))
    return FileNotifier(root=str(Path(home) / "alerts"))


@dataclass(frozen=True)
class AlertSettings:
    """Alert policy, read from the environment at each sensor tick."""

    ui_url: str = DEFAULT_UI_URL
    failure_rate_threshold: float = 0.2
    min_partitions_for_rate: int = 10

    @classmethod
    def from_env(cls) -> AlertSettings:
        def number(name: str, default: float, cast):
            raw = os.environ.get(name, "").strip()
            if not raw:
                return default
            try:
                return cast(raw)
            except ValueError as exc:
                raise ValueError(f"{name} must be a number, got {raw!r}") from exc

        threshold = number(FAILURE_RATE_ENV, cls.failure_rate_threshold, float)
        if not 0 <= threshold <= 1:
            raise ValueError(f"{FAILURE_RATE_ENV} must be between 0 and 1, got {threshold}")
        return cls(
            ui_url=(os.environ.get(UI_URL_ENV) or DEFAULT_UI_URL).rstrip("/"),
            failure_rate_threshold=threshold,
            min_partitions_for_rate=int(number(MIN_PARTITIONS_ENV, cls.min_partitions_for_rate, int)),
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"

    def backfill_url(self, backfill_id: str) -> str:
        return f"{self.ui_url}/runs/b/{backfill_id}"
