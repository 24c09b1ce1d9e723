"""History check of a planned backfill: no targeted partition may read history that nobody fills.

A table partition of date D reads, through its declared lookback mappings, earlier dates of
upstream tables (`nba_backfill.partitions`), cut at D's season opener like `window_start`: a
window never reaches into another season, and never past D (an upcoming-context table also
reads the schedule a week ahead, but only the part before D is required history). Dagster
checks none of it for an exact-range backfill, and the native Materialize dialog instead widens
the range forward through every lookback edge (docs/backfill-route.md). So before anything is
submitted, every history partition a targeted partition reads must be either

- in the backfill's own target, or
- already done: materialized with no failed blocking check (`partition_ok` and the others),

otherwise the plan is refused (`HistoryRefused`, a `BackfillInputError`: the CLI exits 2 and
the `backfill` job fails before submitting) with the exact ranges to add per asset. With
`with_history` those ranges are added to the target instead. The added partitions are closed
over what they read themselves, same-date inputs included (an added Phase 3 date needs its Phase
2 rows of that date), so the widened plan passes the same check. The dates you asked for keep
their same-date inputs as the selection made them (phases/assets); the assets' guards judge
those at run time.

"What is done" is a callable, so the CLI (GraphQL partition and check status) and the
`backfill` job (the instance it runs on) share this module: `DoneFn(asset keys) -> {asset:
done partition keys}`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from dagster import AssetCheckKey, AssetKey, IdentityPartitionMapping, TimeWindowPartitionMapping

from nba_backfill.ops.plan import BackfillInputError, BackfillRequest, contiguous_ranges
from nba_backfill.ops.recover import add_partitions
from nba_backfill.seasons import season_for_date

DoneFn = Callable[[Sequence[str]], Mapping[str, Iterable[str]]]
"""asset keys ("layer/table") -> per asset, its partitions that are materialized and pass every
blocking check (partitions being materialized right now are not done)."""

CLI_FLAG = "--with-history"


@dataclass(frozen=True)
class Read:
    """One declared input of an asset: `parent` partitions start..end partitions from the date."""

    parent: str
    start_offset: int
    end_offset: int


def reads_of(asset_graph) -> dict[str, tuple[Read, ...]]:
    """asset -> its partitioned inputs with their window offsets (0, 0 = same date).

    A mapping other than a time window or identity would be read wrongly here: refused."""
    reads: dict[str, tuple[Read, ...]] = {}
    for node in asset_graph.asset_nodes:
        if not node.is_partitioned:
            continue
        found = []
        for parent in sorted(node.parent_keys, key=lambda k: k.to_string()):
            if not asset_graph.get(parent).is_partitioned:
                continue
            mapping = asset_graph.get_partition_mapping(node.key, parent)
            if isinstance(mapping, TimeWindowPartitionMapping):
                found.append(Read(parent.to_user_string(), mapping.start_offset, mapping.end_offset))
            elif isinstance(mapping, IdentityPartitionMapping):
                found.append(Read(parent.to_user_string(), 0, 0))
            else:
                raise ValueError(
                    f"{node.key.to_user_string()} reads {parent.to_user_string()} through "
                    f"{type(mapping).__name__}: the history check knows time windows and identity"
                )
        reads[node.key.to_user_string()] = tuple(found)
    return reads


def _season_starts(all_keys: Sequence[str]) -> list[int]:
    """Per partition index, the index of its season's first partition."""
    starts: list[int] = []
    current, first = None, 0
    for i, key in enumerate(all_keys):
        season = season_for_date(key)
        if season != current:
            current, first = season, i
        starts.append(first)
    return starts


def _ancestors(assets: Iterable[str], reads: Mapping[str, Sequence[Read]]) -> set[str]:
    seen: set[str] = set()
    stack = list(assets)
    while stack:
        for read in reads.get(stack.pop(), ()):
            if read.parent not in seen:
                seen.add(read.parent)
                stack.append(read.parent)
    return seen


def missing_history(
    target: Mapping[str, Iterable[str]],
    reads: Mapping[str, Sequence[Read]],
    all_keys: Sequence[str],
    done: DoneFn,
) -> dict[str, list[str]]:
    """asset -> the partitions (sorted) that the target reads as history, directly or through
    what those partitions read, that are neither targeted nor done. Empty when the plan is whole."""
    index = {k: i for i, k in enumerate(all_keys)}
    starts = _season_starts(all_keys)
    planned = {asset: {index[k] for k in keys} for asset, keys in target.items()}
    upstream = _ancestors(planned, reads)
    done_idx = {
        asset: {index[k] for k in keys if k in index}
        for asset, keys in done(sorted(upstream)).items()
    } if upstream else {}
    added: dict[str, set[int]] = defaultdict(set)
    # (asset, partition indices, whether they were added): a requested date's required reads are
    # its history; an added date's are its history and its same-date inputs.
    queue = deque((asset, idx, False) for asset, idx in planned.items())
    while queue:
        asset, idx, was_added = queue.popleft()
        for read in reads.get(asset, ()):
            need: set[int] = set()
            for i in idx:
                lo = max(i + read.start_offset, starts[i])
                hi = min(i + read.end_offset, i if was_added else i - 1)
                need.update(range(lo, hi + 1))
            new = need - planned.get(read.parent, set()) - done_idx.get(read.parent, set())
            new -= added[read.parent]
            if new:
                added[read.parent] |= new
                queue.append((read.parent, new, True))
    return {asset: [all_keys[i] for i in sorted(idx)] for asset, idx in sorted(added.items()) if idx}


def describe_missing(missing: Mapping[str, Sequence[str]], all_keys: Sequence[str]) -> list[str]:
    """One line per asset: "nba_analytics/x: 2023-10-24..2023-10-31 (8 partitions)"."""
    lines = []
    for asset, keys in sorted(missing.items()):
        ranges = ", ".join(a if a == b else f"{a}..{b}" for a, b in contiguous_ranges(keys, all_keys))
        lines.append(f"{asset}: {ranges} ({len(keys)} partition{'s' if len(keys) != 1 else ''})")
    return lines


class HistoryRefused(BackfillInputError):
    """The plan reads history that is neither targeted nor done; nothing may be submitted."""

    def __init__(self, request: BackfillRequest, missing: Mapping[str, Sequence[str]],
                 all_keys: Sequence[str], flag: str) -> None:
        self.missing = {asset: list(keys) for asset, keys in missing.items()}
        first = min(keys[0] for keys in self.missing.values())
        lines = [f"  {line} is missing" for line in describe_missing(self.missing, all_keys)]
        outside = sorted(set(self.missing) - set(request.asset_keys))
        if not outside and all(keys[-1] < request.first_key for keys in self.missing.values()):
            fix = f"start the range at {first} or add {flag}"
        elif outside:
            fix = (f"add {flag}, or also select the {len(outside)} assets above that the selection "
                   f"leaves out (e.g. more phases) and start the range at {first}")
        else:
            fix = f"add {flag}"
        super().__init__(
            f"the range {request.first_key}..{request.last_key} reads history that is neither in "
            "the backfill nor materialized with passing checks (its partitions would fail "
            "lookback_complete or be blocked):\n" + "\n".join(lines)
            + f"\n{fix} ({flag} adds exactly the partitions above)"
        )


def check_history(
    request: BackfillRequest,
    reads: Mapping[str, Sequence[Read]],
    all_keys: Sequence[str],
    done: DoneFn,
    *,
    with_history: bool,
    flag: str = CLI_FLAG,
) -> tuple[BackfillRequest, dict[str, list[str]]]:
    """(the request to submit, the history added to it). Without `with_history`, a plan with
    missing history raises `HistoryRefused` naming it; with it, exactly that history is added."""
    position = {k: i for i, k in enumerate(all_keys)}
    target = {
        item.asset: [k for a, b in item.ranges for k in all_keys[position[a]: position[b] + 1]]
        for item in request.partitions_by_assets
    }
    missing = missing_history(target, reads, all_keys, done)
    if not missing:
        return request, {}
    if not with_history:
        raise HistoryRefused(request, missing, all_keys, flag)
    widened = add_partitions(
        request, missing, all_keys,
        f"history the range reads (earlier dates of its seasons), added by {flag}",
    )
    return widened, missing


def instance_done(instance) -> DoneFn:
    """`DoneFn` read from a Dagster instance: materialized partitions minus those whose latest
    result of a blocking check failed."""
    from nba_backfill.checks.results import blocking_check_names
    from nba_backfill.guards import FAILED_STATUSES

    def done(assets: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for asset in assets:
            key = AssetKey.from_user_string(asset)
            materialized = set(instance.get_materialized_partitions(key))
            names = sorted(blocking_check_names(key))
            if materialized and names:
                infos = instance.event_log_storage.get_asset_check_partition_info(
                    [AssetCheckKey(key, name) for name in names], partition_keys=sorted(materialized)
                )
                materialized -= {
                    info.partition_key for info in infos
                    if info.latest_execution_status in FAILED_STATUSES
                }
            out[asset] = materialized
        return out

    return done
