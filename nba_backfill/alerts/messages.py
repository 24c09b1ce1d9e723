"""The two message kinds the notifiers deliver: an `Alert` (one failure) and a `Digest` (a backfill).

Both are plain frozen dataclasses with `to_dict`/`from_dict` (so an undelivered message can wait
in a sensor cursor as JSON), `to_markdown()` (file sink, sensor log) and `to_slack_text()`
(Slack mrkdwn: `*bold*`, `<url|label>`). `key` is stable for one logical message, so a resent
message overwrites its own file instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Alert:
    """One failure outside a backfill, or one backfill crossing the failure-rate threshold."""

    kind: str  # "run_failure" | "check_failure" | "failure_rate"
    key: str
    title: str
    asset: str
    partition: str
    first_line: str
    url: str
    category: str = ""
    check: str = ""
    run_id: str = ""
    backfill_id: str = ""
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "alert", **asdict(self), "details": list(self.details)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        fields = {k: v for k, v in data.items() if k != "type"}
        fields["details"] = tuple(fields.get("details", ()))
        return cls(**fields)

    def _lines(self) -> list[tuple[str, str]]:
        rows = [("Asset", self.asset), ("Partition", self.partition)]
        if self.check:
            rows.append(("Check", self.check))
        if self.category:
            rows.append(("Category", self.category))
        rows.append(("Error", self.first_line))
        return rows

    def to_markdown(self) -> str:
        out = [f"## {self.title}", ""]
        out += [f"- **{label}:** `{value}`" for label, value in self._lines()]
        out += [f"- {detail}" for detail in self.details]
        out += ["", f"[Open in Dagster]({self.url})", ""]
        return "\n".join(out)

    def to_slack_text(self) -> str:
        out = [f"*{self.title}*"]
        out += [f"*{label}:* `{value}`" for label, value in self._lines()]
        out += [f"• {detail}" for detail in self.details]
        out.append(f"<{self.url}|Open in Dagster>")
        return "\n".join(out)


@dataclass(frozen=True)
class FailureGroup:
    """Failures of one category: root failures, partitions blocked by them, a sample, causes."""

    category: str
    count: int
    blocked: int
    sample: tuple[str, ...]  # "asset [partition]" of the first few failures, date order
    causes: tuple[tuple[str, int], ...]  # (cause label, count), most frequent first


@dataclass(frozen=True)
class PhaseTotals:
    """Asset-partition counts of one phase within the digest's scope."""

    phase: str
    targeted: int
    materialized: int
    failed: int  # step failed (not materialized)
    checks_failed: int  # materialized, but at least one check failed for the partition
    not_run: int  # targeted, neither materialized nor failed (downstream of a failure, canceled)


@dataclass(frozen=True)
class Digest:
    """Summary of one finished backfill, or of one completed season of a long backfill."""

    key: str
    backfill_id: str
    status: str
    scope: str  # "backfill" or "season 2023-24"
    first_partition: str
    last_partition: str
    wall_seconds: float
    groups: tuple[FailureGroup, ...]
    phases: tuple[PhaseTotals, ...]
    retry_command: str
    url: str
    notes: tuple[str, ...] = field(default=())

    @property
    def failure_count(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def title(self) -> str:
        scope = "" if self.scope == "backfill" else f" — {self.scope}"
        return (
            f"Backfill {self.backfill_id}{scope}: {self.status}, "
            f"{self.failure_count} failure(s) in {len(self.groups)} group(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = [
            {**asdict(g), "sample": list(g.sample), "causes": [list(c) for c in g.causes]}
            for g in self.groups
        ]
        data["phases"] = [asdict(p) for p in self.phases]
        data["notes"] = list(self.notes)
        return {"type": "digest", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digest:
        fields = {k: v for k, v in data.items() if k != "type"}
        fields["groups"] = tuple(
            FailureGroup(
                category=g["category"],
                count=g["count"],
                blocked=g["blocked"],
                sample=tuple(g["sample"]),
                causes=tuple((c[0], c[1]) for c in g["causes"]),
            )
            for g in fields["groups"]
        )
        fields["phases"] = tuple(PhaseTotals(**p) for p in fields["phases"])
        fields["notes"] = tuple(fields.get("notes", ()))
        return cls(**fields)

    def _wall(self) -> str:
        minutes, seconds = divmod(int(round(self.wall_seconds)), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"

    def to_markdown(self) -> str:
        out = [
            f"## {self.title}",
            "",
            f"- **Partitions:** {self.first_partition} .. {self.last_partition}",
            f"- **Wall time:** {self._wall()}",
            "",
            "| category | failed | blocked downstream | first partitions | causes |",
            "|---|---|---|---|---|",
        ]
        for g in self.groups:
            causes = ", ".join(f"{label} ×{n}" for label, n in g.causes)
            out.append(
                f"| {g.category} | {g.count} | {g.blocked} | {', '.join(g.sample)} | {causes} |"
            )
        if not self.groups:
            out.append("| (none) | 0 | 0 | | |")
        out += [
            "",
            "| phase | targeted | materialized | failed | checks failed | not run |",
            "|---|---|---|---|---|---|",
        ]
        for p in self.phases:
            out.append(
                f"| {p.phase} | {p.targeted} | {p.materialized} | {p.failed} "
                f"| {p.checks_failed} | {p.not_run} |"
            )
        out.append("")
        out += [f"- {note}" for note in self.notes]
        if self.retry_command:
            out += ["Retry what failed:", "", "```", self.retry_command, "```"]
        out += ["", f"[Open the backfill in Dagster]({self.url})", ""]
        return "\n".join(out)

    def to_slack_text(self) -> str:
        out = [
            f"*{self.title}*",
            f"Partitions {self.first_partition} .. {self.last_partition}, wall time {self._wall()}",
        ]
        for g in self.groups:
            causes = ", ".join(f"{label} ×{n}" for label, n in g.causes)
            blocked = f" (+{g.blocked} blocked downstream)" if g.blocked else ""
            out.append(f"• *{g.category}*: {g.count}{blocked} — {', '.join(g.sample)} — {causes}")
        for p in self.phases:
            out.append(
                f"• {p.phase}: {p.materialized}/{p.targeted} materialized, {p.failed} failed, "
                f"{p.checks_failed} checks failed, {p.not_run} not run"
            )
        out += [f"• {note}" for note in self.notes]
        if self.retry_command:
            out.append(f"Retry: `{self.retry_command}`")
        out.append(f"<{self.url}|Open the backfill in Dagster>")
        return "\n".join(out)


Message = Alert | Digest


def message_from_dict(data: dict[str, Any]) -> Message:
    if data.get("type") == "digest":
        return Digest.from_dict(data)
    if data.get("type") == "alert":
        return Alert.from_dict(data)
    raise ValueError(f"not an alert or digest: type={data.get('type')!r}")
