"""Failure alerts and backfill digests, delivered through a small notifier interface.

Sensors in `nba_backfill.alerts.sensors` (exported as `sensors`) need the resource key
`notifier`, built by `notifier_resource(home)`: a Slack-compatible webhook when
NBA_BACKFILL_ALERT_WEBHOOK_URL is set, else JSON + Markdown files under `<home>/alerts/`.
"""

from nba_backfill.alerts.classify import Category, classify
from nba_backfill.alerts.messages import Alert, Digest
from nba_backfill.alerts.notifiers import (
    DeliveryError,
    FileNotifier,
    Notifier,
    WebhookNotifier,
    notifier_resource,
)

__all__ = [
    "Alert",
    "Category",
    "DeliveryError",
    "Digest",
    "FileNotifier",
    "Notifier",
    "WebhookNotifier",
    "classify",
    "notifier_resource",
]
