"""`nba-backfill needs ASSET DATE`: the exact upstream partitions one partition reads, and which
of them are ok, missing or failed on the running Dagster.

What is read comes from the project's own asset graph (`nba_backfill.definitions`): each
dependency's partition mapping, cut to the date's season exactly as the steps cut it
(`assets.core.windows.season_window`). Dagster's GraphQL can map partitions upstream too, but only
through the declared mappings: it does not know the season cut, so near an opener it would list
previous-season days no window reads. By default the walk is transitive, down to the scrapers
(what a backfill must have produced first); `--direct` stops at the partition's own inputs.

Statuses are read from the running Dagster over GraphQL, as `status` reads them. A partition is
- failed: its latest materialization attempt failed, or a blocking check (the table core's
  `partition_ok`, ...) failed there or was not executed because its step failed;
- running: being materialized now;
- ok: materialized, nothing above;
- missing: never materialized.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from dagster import AssetKey

from nba_backfill.assets.core.windows import season_window
from nba_backfill.checks.results import PARTITION_OK
from nba_backfill.ops.graphql import DagsterGraphQL, OpsError
from nba_backfill.ops.plan import BackfillInputError, contiguous_ranges
from nba_backfill.ops.state import (
    fetch_asset_nodes,
    fetch_failed_blocking_checks,
    fetch_partition_status,
    fetch_verdicts,
)
from nba_backfill.seasons import parse_date, season_for_date

OK, MISSING, FAILED, RUNNING = "ok", "missing", "failed", "running"
CLASSES = (FAILED, MISSING, RUNNING, OK)  # the order a verdict lists them in


def asset_graph():
    """The project's asset graph (the code location's own definitions)."""
    with warnings.catch_warnings():  # the definitions' preview/beta warnings are not the CLI's output
        warnings.simplefilter("ignore")
        from nba_backfill.definitions import defs

        return defs.resolve_asset_graph()


def resolve_asset(graph, text: str) -> AssetKey:
    """The asset named `text`: layer/table, layer.table, or a table name found in one layer only."""
    known = {k.to_user_string(): k for k in graph.materializable_asset_keys}
    name = text.strip().replace(".", "/")
    matches = [name] if name in known else sorted(k for k in known if k.split("/")[-1] == name)
    if not matches:
        similar = sorted(k for k in known if name.split("/")[-1] in k)[:5]
        hint = f"; similar: {', '.join(similar)}" if similar else ""
        raise BackfillInputError(f"unknown asset {text!r}{hint}")
    if len(matches) > 1:
        raise BackfillInputError(f"asset {text!r} is ambiguous: {', '.join(matches)}")
    return known[matches[0]]


def resolve_date(text: str, all_keys: Sequence[str]) -> str:
    """`text` as a partition key; refuses bad dates, off-season days and dates outside the partitions."""
    try:
        day = parse_date(text)
    except ValueError as exc:
        raise BackfillInputError(str(exc)) from None
    key = day.isoformat()
    if not all_keys or not all_keys[0] <= key <= all_keys[-1]:
        span = f"{all_keys[0]}..{all_keys[-1]}" if all_keys else "(none)"
        raise BackfillInputError(f"{key} is outside the partitions {span}")
    if key not in set(all_keys):
        raise BackfillInputError(f"{key} is an off-season day: it has no partition (in-season days only)")
    return key


def resolve_target(graph, asset_text: str, date_text: str, all_keys: Sequence[str]) -> tuple[AssetKey, str]:
    """(asset, partition key) named on the command line; the date must be a partition of that
    asset (Phase 5 has partitions from the current season's opener only)."""
    day = resolve_date(date_text, all_keys)
    key = resolve_asset(graph, asset_text)
    partitions_def = graph.get(key).partitions_def
    if partitions_def is not None and not partitions_def.has_partition_key(day):
        own = partitions_def.get_partition_keys()
        span = f"{own[0]}..{own[-1]}" if own else "(none)"
        raise BackfillInputError(f"{day} is not a partition of {key.to_user_string()} (its partitions: {span})")
    return key, day


def needed_partitions(graph, target: AssetKey, day: str, all_keys: Sequence[str],
                      transitive: bool = True) -> dict[AssetKey, set[str]]:
    """Asset -> the partitions that `target`'s partition `day` reads from it: through every
    dependency's mapping cut to the season, transitively (or, `transitive=False`, one level).
    A self-dependent asset (a season accumulator) reads its own earlier dates; `day` itself is
    never listed as a need of the target."""
    index = {k: i for i, k in enumerate(all_keys)}

    def reads(child: AssetKey, parent: AssetKey, keys: set[str]) -> set[str]:
        mapping = graph.get_partition_mapping(child, parent)
        return {u for k in keys for u in season_window(k, mapping, all_keys, index)}

    if not transitive:
        return {parent: found for parent in graph.get(target).parent_keys
                if (found := reads(target, parent, {day}))}
    needed: dict[AssetKey, set[str]] = {target: {day}}
    for key in reversed(graph.toposorted_asset_keys):  # every reader before what it reads
        keys = needed.get(key)
        if not keys:
            continue
        if key in graph.get(key).parent_keys:  # its own earlier dates, and theirs, to the opener
            frontier = set(keys)
            while frontier := reads(key, key, frontier) - keys:
                keys |= frontier
        for parent in graph.get(key).parent_keys - {key}:
            needed.setdefault(parent, set()).update(reads(key, parent, keys))
    own = needed.pop(target) - {day}
    if own:
        needed[target] = own
    return {k: v for k, v in needed.items() if v}


@dataclass
class AssetNeeds:
    """One upstream asset: the partitions needed, each partition's class, and why failed ones failed."""

    asset: str
    partitions: list[str]
    status: dict[str, str] = field(default_factory=dict)
    causes: dict[str, str] = field(default_factory=dict)

    def of(self, cls: str) -> list[str]:
        return [p for p in self.partitions if self.status[p] == cls]

    @property
    def ok(self) -> bool:
        return all(self.status[p] == OK for p in self.partitions)


@dataclass
class NeedsReport:
    asset: str
    day: str
    transitive: bool
    needs: list[AssetNeeds]

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.needs)

    def count(self, cls: str) -> int:
        return sum(len(n.of(cls)) for n in self.needs)


def classify(client: DagsterGraphQL, needed: dict[str, list[str]], all_keys: Sequence[str]) -> list[AssetNeeds]:
    """Each needed partition's class on the running Dagster, with the cause of failed ones (the
    latest `partition_ok` cause, else the failed blocking checks, else the failed materialization)."""
    assets = list(needed)
    known = {n.key for n in fetch_asset_nodes(client)}
    absent = [a for a in assets if a not in known]
    if absent:
        raise OpsError(f"the running Dagster does not know {', '.join(absent)}: its code location is not "
                       "this project's current definitions (reload it in the UI's Deployment page)")
    statuses = fetch_partition_status(client, assets, all_keys)
    checks = fetch_failed_blocking_checks(client, assets, all_keys)
    out = []
    for asset in assets:
        item = AssetNeeds(asset, needed[asset])
        by_status, failed_checks = statuses.get(asset, {}), checks.get(asset, {})
        for p in item.partitions:
            if p in by_status.get("FAILED", ()) or p in failed_checks:
                item.status[p] = FAILED
            elif p in by_status.get("MATERIALIZING", ()):
                item.status[p] = RUNNING
            else:
                item.status[p] = OK if p in by_status.get("MATERIALIZED", ()) else MISSING
        failed = item.of(FAILED)
        verdicts = fetch_verdicts(client, asset, [p for p in failed if PARTITION_OK in failed_checks.get(p, ())])
        for p in failed:
            if p in verdicts and verdicts[p].cause:
                item.causes[p] = f"{verdicts[p].outcome}: {verdicts[p].cause}"
            elif p in failed_checks:
                item.causes[p] = "blocking check failed: " + ", ".join(failed_checks[p])
            else:
                item.causes[p] = "materialization failed"
        out.append(item)
    return out


def needs_report(client: DagsterGraphQL, graph, target: AssetKey, day: str, all_keys: Sequence[str],
                 transitive: bool = True) -> NeedsReport:
    """What `target`'s partition `day` needs and the state of each needed partition."""
    needed = needed_partitions(graph, target, day, all_keys, transitive)
    order = {k: i for i, k in enumerate(graph.toposorted_asset_keys)}
    position = {k: i for i, k in enumerate(all_keys)}
    by_asset = {k.to_user_string(): sorted(v, key=position.__getitem__)
                for k, v in sorted(needed.items(), key=lambda kv: order[kv[0]])}
    needs = classify(client, by_asset, all_keys) if by_asset else []
    return NeedsReport(target.to_user_string(), day, transitive, needs)


def span(keys: Sequence[str], all_keys: Sequence[str]) -> str:
    """Compact ranges of partition keys: "2023-10-24..2023-11-14 (22), 2023-11-16"."""
    return ", ".join(a if a == b else f"{a}..{b} ({len([k for k in keys if a <= k <= b])})"
                     for a, b in contiguous_ranges(keys, all_keys))


def render(report: NeedsReport, all_keys: Sequence[str], limit: int) -> str:
    """The report: a headline, one line per needed asset (upstream first) and the failed
    partitions with their causes (at most `limit` lines)."""
    season = season_for_date(dt.date.fromisoformat(report.day))
    total = sum(len(n.partitions) for n in report.needs)
    how = "its direct inputs" if not report.transitive else "every input, down to the scrapers"
    cut = f"; windows cut to {season.label}: {season.opener}..{season.finals_end}" if season else ""
    lines = [f"{report.asset} {report.day} reads {total} partitions of {len(report.needs)} assets ({how}{cut})"]
    if not report.needs:
        return lines[0] + "\nIt reads no upstream partition."
    lines.append("  " + ", ".join(f"{report.count(c)} {c}" for c in CLASSES if report.count(c) or c == OK))
    width = max(len(n.asset) for n in report.needs)
    for item in report.needs:
        present = [c for c in CLASSES if item.of(c)]
        verdict = present[0] if len(present) == 1 else "; ".join(f"{c} {span(item.of(c), all_keys)}" for c in present)
        lines.append(f"  {item.asset:<{width}}  {span(item.partitions, all_keys)}: {verdict}")
    failed = [(n.asset, p, n.causes[p]) for n in report.needs for p in n.of(FAILED)]
    if failed:
        lines.append("Failed:")
        lines += [f"  {asset} {p}: {cause}" for asset, p, cause in failed[:limit]]
        if len(failed) > limit:
            lines.append(f"  ... {len(failed) - limit} more (use --limit)")
    return "\n".join(lines)
