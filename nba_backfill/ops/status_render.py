"""Text of `nba-backfill status`: verdict first, crashed runs next, then progress, every partition
that is not done grouped by cause, checks that did not execute (one line per step) and every
step error (its innermost error). A listing longer than `limit` lines is cut with an explicit
"… and N more (use --all)"; nothing is dropped silently."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from nba_backfill.ops.failures import Failure, RootError, RunReport
from nba_backfill.ops.plan import PHASE_LAYERS, contiguous_ranges
from nba_backfill.ops.status import StatusReport
from nba_backfill.partitions import DAILY_PARTITIONS

def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _time(ts: float | None) -> str:
    if not ts:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def compact(keys: Iterable[str], all_keys: Sequence[str]) -> str:
    """["2023-11-01", "2023-11-02", "2023-11-04"] -> "2023-11-01..2023-11-02, 2023-11-04"."""
    known = set(all_keys)
    inside = [k for k in keys if k in known]
    parts = [a if a == b else f"{a}..{b}" for a, b in contiguous_ranges(inside, all_keys)]
    return ", ".join(parts + sorted(set(keys) - known))


def _error(error: RootError, show_all: bool, indent: str) -> list[str]:
    """The innermost error's first line (+ the wrappers it was raised in); its further lines in
    full with --all, else counted."""
    line = error.text
    if error.wrappers:
        line += f"  [wrapped in {' > '.join(error.wrappers)}]"
    rest = list(error.lines[1:])
    if rest and not show_all:
        return [line + f"  (+{plural(len(rest), 'more line')}, use --all)"]
    return [line, *(f"{indent}{l}" for l in rest)]


def _capped(lines: list[str], limit: int | None, what: str, indent: str = "  ") -> list[str]:
    if limit is None or len(lines) <= limit:
        return lines
    return lines[:limit] + [f"{indent}… and {plural(len(lines) - limit, 'more ' + what)} (use --all)"]


def _run_lines(run: RunReport, show_all: bool) -> list[str]:
    head = f"run {run.run_id[:8]} [{run.where}] {run.status}"
    tail = "  (recovered: its partitions ended done)" if run.recovered else ""
    if run.crashed:
        error = run.run_error or RootError("", ("no error recorded",))
        text = _error(error, show_all, "      ")
        return [f"  {head} — crashed, no step failed: {text[0]}{tail}", *text[1:]]
    if not run.steps:
        return [f"  {head}{tail}"]
    lines = []
    for step in run.steps:
        text = _error(step.error, show_all, "      ")
        lines += [f"  {head} step {step.step}: {text[0]}{tail}", *text[1:]]
    return lines


def failure_groups(failures: list[Failure]) -> list[tuple[str, str, list[Failure]]]:
    """(cause kind, cause, members), biggest group first."""
    groups: dict[tuple[str, str], list[Failure]] = defaultdict(list)
    for failure in failures:
        groups[(failure.cause_kind, failure.cause)].append(failure)
    return [(k, c, m) for (k, c), m in sorted(groups.items(), key=lambda i: (-len(i[1]), i[0]))]


def _failure_lines(failures: list[Failure], all_keys: Sequence[str]) -> list[str]:
    lines = []
    for kind, cause, members in failure_groups(failures):
        outcomes = "/".join(sorted({m.outcome for m in members}))
        lines.append(f"  [{kind}] {len(members)} {outcomes}: {cause}")
        by_asset: dict[str, list[str]] = defaultdict(list)
        for member in members:
            by_asset[member.asset].append(member.partition)
        lines += [f"      {asset} {compact(keys, all_keys)}" for asset, keys in sorted(by_asset.items())]
        refetch: dict[str, list[str]] = defaultdict(list)
        for asset, key in {pair for m in members for pair in m.refetch}:
            refetch[asset].append(key)
        lines += [
            f"      re-scrape to recover: {asset} {compact(sorted(set(keys)), all_keys)}"
            for asset, keys in sorted(refetch.items())
        ]
    return lines


def render(report: StatusReport, limit: int = 50, show_all: bool = False,
           all_keys: Sequence[str] | None = None) -> str:
    all_keys = DAILY_PARTITIONS.get_partition_keys() if all_keys is None else all_keys
    cap = None if show_all else limit
    lines = [
        f"Backfill {report.backfill_id}  {report.status}  {report.title or ''}".rstrip(),
        f"created {_time(report.created)}, ended {_time(report.ended)}, runs: "
        + (", ".join(f"{n} {s.lower()}" for s, n in sorted(report.runs.items())) or "none yet"),
    ]
    bad = len(report.failures)
    if report.ok:
        lines.append(f"DONE: all {report.targeted} targeted asset-partitions are materialized "
                     "with passing blocking checks.")
    else:
        running = "" if report.finished else " (the backfill is still running)"
        lines.append(f"NOT DONE: {bad} of {report.targeted} targeted asset-partitions are not "
                     f"materialized with passing blocking checks{running}.")
    if report.error:
        lines.append(f"backfill error: {report.error.strip().splitlines()[0]}")
    crashed = [r for r in report.run_failures if r.crashed]
    if crashed:
        lines += ["", f"Crashed runs ({len(crashed)}):"]
        lines += _capped([l for r in crashed for l in _run_lines(r, show_all)], cap, "line")

    lines += ["", f"{'phase':<6}{'layer':<17}{'assets':>7}{'targeted':>10}{'done':>8}{'failed':>8}"
                  f"{'running':>9}"]
    for row in report.phases:
        layer = PHASE_LAYERS.get(row.phase, "other")
        lines.append(f"{row.phase:<6}{layer:<17}{row.assets:>7}{row.targeted:>10}"
                     f"{row.materialized:>8}{row.failed:>8}{row.in_progress:>9}")
    lines += ["", f"{'season':<12}{'asset-partitions':>17}{'done':>8}{'not done':>10}{'check failed':>14}"]
    for row in report.seasons:
        lines.append(f"{row.season:<12}{row.targeted:>17}{row.materialized:>8}{row.not_done:>10}"
                     f"{row.blocked:>14}")

    lines.append("")
    if report.failures:
        kinds = Counter(f.cause_kind for f in report.failures)
        groups = failure_groups(report.failures)
        lines.append(f"Not done, by cause ({plural(bad, 'asset-partition')}, "
                     f"{plural(len(groups), 'cause')}; "
                     + ", ".join(f"{k} {n}" for k, n in kinds.most_common()) + "):")
        lines += _capped(_failure_lines(report.failures, all_keys), cap, "line")
    else:
        lines.append("No failed partitions.")
    if report.not_executed:
        lines.append("Blocking checks that did not execute because their step failed or was skipped "
                     f"({plural(len(report.not_executed), 'step')}):")
        body = [
            f"  step {n.step}: {plural(len(n.checks), 'check')} ({', '.join(n.checks)}) on "
            f"{plural(len(n.partitions), 'partition')} {compact(n.partitions, all_keys)}"
            for n in report.not_executed
        ]
        lines += _capped(body, cap, "step")
    others = [r for r in report.run_failures if not r.crashed]
    if others:
        steps = sum(len(r.steps) for r in others)
        lines.append(f"Failed and canceled runs ({len(others)}; {plural(steps, 'step error')}, "
                     "innermost error of each shown):")
        lines += _capped([l for r in others for l in _run_lines(r, show_all)], cap, "line")
    return "\n".join(lines)
