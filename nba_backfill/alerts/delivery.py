"""Delivery with a retry queue that lives in the sensor cursor.

A sensor tick first retries the messages still pending from earlier ticks, then sends its new
ones. The first `DeliveryError` stops the round (the sink is down; trying the rest now would only
add timeouts): that message and all after it stay pending, are written back into the cursor as
JSON and are retried on the next tick, in order. The tick itself succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nba_backfill.alerts.messages import Message, message_from_dict
from nba_backfill.alerts.notifiers import DeliveryError, Notifier

MAX_PENDING = 500  # a sink down for days must not grow the cursor without bound


@dataclass
class DeliveryRound:
    delivered: list[tuple[Message, str]] = field(default_factory=list)
    pending: list[Message] = field(default_factory=list)
    dropped: list[Message] = field(default_factory=list)
    error: str = ""

    def summary(self) -> str:
        text = f"{len(self.delivered)} delivered, {len(self.pending)} pending"
        if self.error:
            text += f" (sink error: {self.error})"
        if self.dropped:
            text += f", {len(self.dropped)} dropped (queue full)"
        return text


def deliver(notifier: Notifier, messages: Sequence[Message], log) -> DeliveryRound:
    """Send in order; on the first DeliveryError keep that message and the rest pending."""
    result = DeliveryRound()
    queue = list(messages)
    while queue:
        message = queue[0]
        try:
            where = notifier.send(message)
        except DeliveryError as exc:
            result.error = str(exc)
            log.warning(
                f"Could not deliver '{message.title}' ({exc}); {len(queue)} message(s) kept"
                " pending in the cursor, retried next tick"
            )
            break
        queue.pop(0)
        result.delivered.append((message, where))
        log.info(f"Delivered '{message.title}' → {where}")
    if len(queue) > MAX_PENDING:
        result.dropped = queue[: len(queue) - MAX_PENDING]
        queue = queue[len(queue) - MAX_PENDING :]
        log.error(
            f"Pending queue over {MAX_PENDING}: dropped the oldest "
            f"{len(result.dropped)}: {', '.join(m.key for m in result.dropped)}"
        )
    result.pending = queue
    return result


def load_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Parse a JSON sensor cursor; None for no cursor (first tick)."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ValueError(f"sensor cursor is not JSON: {cursor[:80]!r}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"sensor cursor must be a JSON object, got {type(data).__name__}")
    return data


def pending_from(data: dict[str, Any] | None) -> list[Message]:
    return [message_from_dict(m) for m in (data or {}).get("pending", [])]


def dump_cursor(data: dict[str, Any], pending: Sequence[Message]) -> str:
    return json.dumps({**data, "pending": [m.to_dict() for m in pending]}, sort_keys=True)
