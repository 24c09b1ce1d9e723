"""Recovery of partitions whose landed lake data was bad: the lake partitions to re-scrape.

A table partition that failed because of what the lake holds (a malformed or missing landed
object) names, in its `partition_ok` result, the lake partitions whose re-scrape recovers it
(`refetch`, e.g. "nba_lake/nbac_game_summary:2023-11-01"). Re-running only the table would parse
the same bad object again, so `backfill --only-missing-or-failed` adds those lake partitions to
its request (exact partitions, whatever `--phases`/`--assets` selected): the lake is re-scraped
and the table re-parsed in the same backfill.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nba_backfill.layers import LAKE, RAW
from nba_backfill.ops.graphql import DagsterGraphQL
from nba_backfill.ops.plan import (
    TAG_PREFIX,
    AssetRanges,
    BackfillInputError,
    BackfillRequest,
    contiguous_ranges,
    phase_of,
)
from nba_backfill.ops.state import Verdict, fetch_asset_nodes, fetch_verdicts


@dataclass
class Refetch:
    """Lake partitions to re-scrape, and the failed table partitions that named them."""

    partitions: dict[str, set[str]] = field(default_factory=dict)  # lake asset -> partitions
    named_by: dict[str, list[Verdict]] = field(default_factory=dict)  # lake asset -> verdicts
    unknown: set[str] = field(default_factory=set)  # named, but not a partition of the location


def find_refetch(
    client: DagsterGraphQL, request: BackfillRequest, all_keys: list[str]
) -> Refetch:
    """The `refetch` of the latest failed `partition_ok` of every table partition in `request`
    (with --only-missing-or-failed these are exactly the partitions not done)."""
    found = Refetch()
    position = {k: i for i, k in enumerate(all_keys)}
    known: set[str] | None = None
    for item in request.partitions_by_assets:
        if item.asset.split("/", 1)[0] == LAKE:
            continue  # lake assets have no partition_ok
        keys = [k for a, b in item.ranges for k in all_keys[position[a]: position[b] + 1]]
        for verdict in fetch_verdicts(client, item.asset, keys).values():
            if verdict.ok or not verdict.refetch:
                continue
            if known is None:
                known = {n.key for n in fetch_asset_nodes(client) if n.partitioned}
            for asset, key in verdict.refetch:
                if asset not in known or key not in position:
                    found.unknown.add(f"{asset}:{key}")
                    continue
                found.partitions.setdefault(asset, set()).add(key)
                found.named_by.setdefault(asset, []).append(verdict)
    _add_unparsed_raw(client, request, all_keys, found)
    return found


def _add_unparsed_raw(client: DagsterGraphQL, request: BackfillRequest, all_keys: list[str],
                      found: Refetch) -> None:
    """The lake partitions of raw partitions the request re-targets that never parsed good landed
    data: never run (their parent failed first), blocked, or failed without naming a refetch. Their
    landed objects date from the faulty scrape too (a dropped game is dropped from every endpoint),
    so re-parsing them without a re-scrape would fail again."""
    position = {k: i for i, k in enumerate(all_keys)}
    lakes = {n.key: [d for d in n.deps if d.split("/", 1)[0] == LAKE] for n in fetch_asset_nodes(client)}
    for item in request.partitions_by_assets:
        if item.asset.split("/", 1)[0] != RAW:
            continue
        keys = [k for a, b in item.ranges for k in all_keys[position[a]: position[b] + 1]]
        verdicts = fetch_verdicts(client, item.asset, keys)
        for key in keys:
            verdict = verdicts.get(key)
            if verdict is not None and (verdict.ok or verdict.refetch):
                continue  # parsed fine, or already named what to re-scrape
            for lake in lakes.get(item.asset, ()):
                found.partitions.setdefault(lake, set()).add(key)
                found.named_by.setdefault(lake, []).append(verdict or Verdict(
                    item.asset, key, "not run", "never parsed", "", ()))


def add_partitions(
    request: BackfillRequest, extra: Mapping[str, Iterable[str]], all_keys: Sequence[str], why: str
) -> BackfillRequest:
    """`request` plus the `extra` partitions of each asset (exact keys, merged with what it already
    targets), with `why` in its description. Every extra key must be a partition key."""
    position = {k: i for i, k in enumerate(all_keys)}
    targeted: dict[str, set[str]] = {
        item.asset: {k for a, b in item.ranges for k in all_keys[position[a]: position[b] + 1]}
        for item in request.partitions_by_assets
    }
    added = 0
    for asset, keys in extra.items():
        new = set(keys) - targeted.get(asset, set())
        unknown = sorted(k for k in new if k not in position)
        if unknown:
            raise BackfillInputError(f"{asset}: {unknown[0]} is not a partition key")
        targeted.setdefault(asset, set()).update(new)
        added += len(new)
    if not added:
        return request
    per_asset = tuple(
        AssetRanges(asset, tuple(contiguous_ranges(keys, all_keys)), len(keys))
        for asset, keys in sorted(targeted.items())
    )
    return BackfillRequest(
        partitions_by_assets=per_asset,
        first_key=min(request.first_key, *(r.ranges[0][0] for r in per_asset)),
        last_key=max(request.last_key, *(r.ranges[-1][1] for r in per_asset)),
        phases=tuple(sorted(set(request.phases) | {phase_of(a) or 0 for a in extra})),
        title=request.title,
        description=f"{request.description} Plus {added} partitions: {why}.",
        tags={**request.tags, f"{TAG_PREFIX}/added_partitions": str(added)},
    )


def with_refetch(request: BackfillRequest, refetch: Refetch, all_keys: list[str]) -> BackfillRequest:
    return add_partitions(
        request, refetch.partitions, all_keys,
        "lake partitions named by failed partition_ok checks (refetch), re-scraped so their tables "
        "re-parse fresh landed data",
    )


def describe(refetch: Refetch, all_keys: list[str]) -> list[str]:
    """Operator lines: what was added to the backfill and why (every partition, as ranges)."""
    if not refetch.partitions and not refetch.unknown:
        return []
    total = sum(len(k) for k in refetch.partitions.values())
    noun = "lake partition" if total == 1 else "lake partitions"
    lines = [f"Re-scraping {total} {noun} whose landed data failed a table "
             "(named by `partition_ok` refetch):"] if total else []
    for asset, keys in sorted(refetch.partitions.items()):
        ranges = ", ".join(a if a == b else f"{a}..{b}" for a, b in contiguous_ranges(keys, all_keys))
        tables: dict[str, set[str]] = defaultdict(set)
        for verdict in refetch.named_by[asset]:
            tables[verdict.asset].add(verdict.cause_kind or "failed")
        why = "; ".join(f"{t} ({', '.join(sorted(k))})" for t, k in sorted(tables.items()))
        lines.append(f"  {asset} {ranges}  <- failed partitions of {why}")
    if refetch.unknown:
        unknown = ", ".join(sorted(refetch.unknown))
        lines.append(f"  not added (not a partition of the code location): {unknown}")
    return lines
