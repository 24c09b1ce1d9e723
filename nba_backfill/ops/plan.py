"""Pure backfill-request building: CLI arguments + the asset graph -> one asset backfill.

No I/O here: the caller passes the known asset keys, the partition keys and (for
`--only-missing-or-failed`) what is already done, and gets the exact `partitionsByAssets`
payload of GraphQL `launchPartitionBackfill`. Every asset gets exactly the requested date range
(the UI instead widens ranges downstream through lookback mappings). Bad input raises
`BackfillInputError` naming the argument and the cause, before anything is launched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nba_backfill.environment import is_offline
from nba_backfill.layers import ANALYTICS, LAKE, PRECOMPUTE, PREDICTIONS, RAW
from nba_backfill.seasons import (
    OFFLINE_LAST_DAY,
    Season,
    UnknownSeasonError,
    parse_date,
    season_by_label,
    season_for_date,
)

PHASE_LAYERS: dict[int, str] = {1: LAKE, 2: RAW, 3: ANALYTICS, 4: PRECOMPUTE, 5: PREDICTIONS}
"""Phase number -> asset layer (the first element of every asset key)."""
LAYER_PHASES: dict[str, int] = {layer: phase for phase, layer in PHASE_LAYERS.items()}
PREDICTION_PHASE = 5
DEFAULT_PHASES = (1, 2, 3, 4)
TAG_PREFIX = "nba_backfill"


class BackfillInputError(ValueError):
    """Bad CLI input (season, dates, phases, assets): nothing may be launched."""


@dataclass(frozen=True)
class AssetRanges:
    """The partition ranges (inclusive start/end keys) targeted for one asset."""

    asset: str
    ranges: tuple[tuple[str, str], ...]
    num_keys: int


@dataclass(frozen=True)
class BackfillRequest:
    """One asset backfill: exact partition ranges per asset, plus title/description/tags."""

    partitions_by_assets: tuple[AssetRanges, ...]
    first_key: str
    last_key: str
    phases: tuple[int, ...]
    title: str
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def asset_keys(self) -> list[str]:
        return [item.asset for item in self.partitions_by_assets]

    @property
    def num_asset_partitions(self) -> int:
        return sum(item.num_keys for item in self.partitions_by_assets)

    def graphql_params(self) -> dict:
        """`LaunchBackfillParams` for `launchPartitionBackfill` (asset backfill, exact ranges)."""
        return {
            "partitionsByAssets": [
                {
                    "assetKey": {"path": item.asset.split("/")},
                    "partitions": {"ranges": [{"start": a, "end": b} for a, b in item.ranges]},
                }
                for item in self.partitions_by_assets
            ],
            "title": self.title,
            "description": self.description,
            "tags": [{"key": k, "value": v} for k, v in sorted(self.tags.items())],
        }


# --- argument parsing ----------------------------------------------------------------------------


def parse_phases(text: str | None) -> tuple[int, ...]:
    """"1-4" -> (1, 2, 3, 4); "2" -> (2,); "1,3-4" -> (1, 3, 4). Phases are 1..5; None means the
    default 1-4, an empty text is refused (it must not widen the selection)."""
    if text is None:
        return DEFAULT_PHASES
    if not str(text).strip():
        raise BackfillInputError(
            f"--phases {text!r} is empty: give phases like 1-4, 2 or 1,3 (or leave the option out "
            "for the default 1-4)"
        )
    phases: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        lo_text, sep, hi_text = part.partition("-")
        try:
            lo = int(lo_text)
            hi = int(hi_text) if sep else lo
        except ValueError:
            raise BackfillInputError(
                f"--phases {text!r}: expected phases like 1-4, 2 or 1,3 (phases are 1-5)"
            ) from None
        if hi < lo:
            raise BackfillInputError(f"--phases {text!r}: reversed phase range {part}")
        for phase in range(lo, hi + 1):
            if phase not in PHASE_LAYERS:
                raise BackfillInputError(
                    f"--phases {text!r}: phase {phase} does not exist (phases are 1-5: "
                    + ", ".join(f"{p}={layer}" for p, layer in PHASE_LAYERS.items())
                    + ")"
                )
            phases.add(phase)
    return tuple(sorted(phases))


def phases_label(phases: Sequence[int]) -> str:
    """(1, 2, 3, 4) -> "1-4"; (1, 3) -> "1,3"."""
    parts: list[str] = []
    ordered = sorted(phases)
    start = prev = ordered[0]
    for phase in [*ordered[1:], None]:
        if phase is not None and phase == prev + 1:
            prev = phase
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if phase is not None:
            start = prev = phase
    return ",".join(parts)


def phase_of(asset_key: str) -> int | None:
    """Phase of an asset key "layer/table" (None for keys outside the five layers)."""
    return LAYER_PHASES.get(asset_key.split("/", 1)[0])


def available_range(all_keys: Sequence[str]) -> str:
    """What the partitions offer, for error messages: "2020-12-22..2025-04-13 (seasons
    2020-21..2024-25; the offline data ends 2025-04-13)"."""
    first, last = all_keys[0], all_keys[-1]
    labels = [s.label if (s := season_for_date(k)) else k for k in (first, last)]
    offline = (
        f"; the offline data ends {last}, NBA_BACKFILL_ENV=prod reads the live sources"
        if is_offline() and last == OFFLINE_LAST_DAY.isoformat()
        else ""
    )
    return f"{first}..{last} (seasons {labels[0]}..{labels[1]}{offline})"


def resolve_keys(
    all_keys: Sequence[str],
    *,
    season: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[str]:
    """Partition keys selected by `--season S` or `--from D1 --to D2` (inclusive, in-season days).

    Errors: both or neither given, unknown season, a season without partitions (not started, or
    after the offline data's last day), bad or reversed dates, dates outside the partitions, or a
    range holding no in-season day. Range errors name the available range.
    """
    if not all_keys:
        raise BackfillInputError("the partitions definition has no partition keys")
    if season and (start or end):
        raise BackfillInputError("give either --season or --from/--to, not both")
    if season:
        try:
            found: Season = season_by_label(season)
        except UnknownSeasonError as exc:
            raise BackfillInputError(f"--season: {exc}") from None
        keys = [k for k in all_keys if found.contains(dt.date.fromisoformat(k))]
        if not keys:
            raise BackfillInputError(
                f"--season {season} has no partitions (it opens {found.opener}); the partitions "
                f"are {available_range(all_keys)}"
            )
        return keys
    if not start or not end:
        raise BackfillInputError("give --season S, or both --from D1 and --to D2")
    try:
        a, b = parse_date(start), parse_date(end)
    except ValueError as exc:
        raise BackfillInputError(f"--from/--to: {exc}") from None
    if b < a:
        raise BackfillInputError(f"--from {start} is after --to {end} (reversed range)")
    first, last = all_keys[0], all_keys[-1]
    if a < dt.date.fromisoformat(first) or b > dt.date.fromisoformat(last):
        raise BackfillInputError(
            f"--from {start} --to {end} is outside the partitions {available_range(all_keys)}"
        )
    keys = [k for k in all_keys if start <= k <= end]
    if not keys:
        raise BackfillInputError(
            f"--from {start} --to {end} holds no in-season day (off-season days have no partitions)"
        )
    return keys


def resolve_assets(
    known: Iterable[str], phases: Sequence[int], requested: Sequence[str] | None
) -> list[str]:
    """Asset keys ("layer/table") to backfill: every known asset of `phases` (requested None), or
    the requested ones (given as layer/table, layer.table or a unique table name), which must lie
    in `phases`. A requested list that names nothing is refused: it must not widen the selection."""
    known_sorted = sorted(set(known))
    in_phases = [k for k in known_sorted if phase_of(k) in phases]
    if requested is not None and not [t for t in requested if t.strip()]:
        raise BackfillInputError(
            f"--assets {' '.join(requested)!r} names no asset: give layer/table names (or leave the "
            "option out for every asset of the phases)"
        )
    if requested is None:
        if not in_phases:
            raise BackfillInputError(f"no assets in phases {phases_label(phases)}")
        return in_phases
    chosen: list[str] = []
    for text in (t for t in requested if t.strip()):
        name = text.strip().replace(".", "/")
        matches = [name] if name in known_sorted else [k for k in known_sorted if k.split("/")[-1] == name]
        if not matches:
            similar = [k for k in known_sorted if name.split("/")[-1] in k][:5]
            hint = f"; similar: {', '.join(similar)}" if similar else ""
            raise BackfillInputError(f"--assets: unknown asset {text!r}{hint}")
        if len(matches) > 1:
            raise BackfillInputError(f"--assets: {text!r} is ambiguous: {', '.join(matches)}")
        (key,) = matches
        if phase_of(key) not in phases:
            raise BackfillInputError(
                f"--assets: {key} is phase {phase_of(key)}, outside --phases {phases_label(phases)}"
            )
        if key not in chosen:
            chosen.append(key)
    return sorted(chosen)


def contiguous_ranges(keys: Iterable[str], all_keys: Sequence[str]) -> list[tuple[str, str]]:
    """Group keys into (start, end) runs that are contiguous in the partition order
    (the off-season is not part of the partitions, so a multi-season run stays one range)."""
    position = {k: i for i, k in enumerate(all_keys)}
    ordered = sorted(set(keys), key=lambda k: position[k])
    ranges: list[tuple[str, str]] = []
    for key in ordered:
        if ranges and position[key] == position[ranges[-1][1]] + 1:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


# --- the request -----------------------------------------------------------------------------------


def build_backfill_request(
    *,
    known_assets: Iterable[str],
    all_keys: Sequence[str],
    current_season: Season,
    season: str | None = None,
    start: str | None = None,
    end: str | None = None,
    phases: str | Sequence[int] | None = None,
    assets: Sequence[str] | None = None,
    done: Mapping[str, Iterable[str]] | None = None,
) -> BackfillRequest | None:
    """The asset backfill for the CLI arguments.

    `done` (only with `--only-missing-or-failed`): per asset, the keys that are materialized with
    passing blocking checks; they are left out. Returns None when nothing is left to do.
    Phase 5 (predictions) is refused outside the current season: historical backfills end at
    Phase 4.
    """
    phase_tuple = parse_phases(phases) if phases is None or isinstance(phases, str) else tuple(sorted(set(phases)))
    for phase in phase_tuple:
        if phase not in PHASE_LAYERS:
            raise BackfillInputError(f"--phases: phase {phase} does not exist (phases are 1-5)")
    keys = resolve_keys(all_keys, season=season, start=start, end=end)
    chosen = resolve_assets(known_assets, phase_tuple, assets)
    if any(phase_of(a) == PREDICTION_PHASE for a in chosen):
        outside = [k for k in keys if season_for_date(k) != current_season]
        if outside:
            raise BackfillInputError(
                f"phase 5 (predictions) runs only for the current season {current_season.label}; "
                f"the range includes {outside[0]}..{outside[-1]} ({len(outside)} days outside it). "
                "Historical backfills end at phase 4."
            )
    per_asset: list[AssetRanges] = []
    for asset in chosen:
        skip = set((done or {}).get(asset, ()))
        wanted = [k for k in keys if k not in skip]
        if wanted:
            per_asset.append(
                AssetRanges(asset, tuple(contiguous_ranges(wanted, all_keys)), len(wanted))
            )
    if not per_asset:
        return None
    label = season or f"{keys[0]}..{keys[-1]}"
    phase_text = phases_label(phase_tuple)
    mode = " (missing or failed only)" if done is not None else ""
    return BackfillRequest(
        partitions_by_assets=tuple(per_asset),
        first_key=keys[0],
        last_key=keys[-1],
        phases=phase_tuple,
        title=f"nba-backfill {label} phases {phase_text}{mode}",
        description=(
            f"Exact per-asset ranges {keys[0]}..{keys[-1]} ({len(keys)} in-season days), "
            f"{len(per_asset)} assets, phases {phase_text}{mode}; launched by the nba-backfill CLI."
        ),
        tags={
            f"{TAG_PREFIX}/launched_by": "cli",
            f"{TAG_PREFIX}/range": f"{keys[0]}...{keys[-1]}",
            f"{TAG_PREFIX}/phases": phase_text,
        },
    )


def build_stale_request(
    stale: Mapping[str, Iterable[str]], all_keys: Sequence[str], current_season: Season
) -> tuple[BackfillRequest | None, dict[str, list[str]]]:
    """One backfill re-materializing the stale partitions of every asset.

    Returns (request or None, skipped): stale phase-5 partitions outside the current season are
    not re-run (historical backfills never trigger predictions) and come back in `skipped`. Phase 5
    has partitions from the current season's opener only, so this happens only when the current
    season moved on after the code location loaded them.
    """
    per_asset: list[AssetRanges] = []
    skipped: dict[str, list[str]] = {}
    for asset in sorted(stale):
        keys = sorted(set(stale[asset]))
        if phase_of(asset) == PREDICTION_PHASE:
            outside = [k for k in keys if season_for_date(k) != current_season]
            if outside:
                skipped[asset] = outside
            keys = [k for k in keys if k not in set(outside)]
        if keys:
            per_asset.append(AssetRanges(asset, tuple(contiguous_ranges(keys, all_keys)), len(keys)))
    if not per_asset:
        return None, skipped
    first = min(r.ranges[0][0] for r in per_asset)
    last = max(r.ranges[-1][1] for r in per_asset)
    phases = tuple(sorted({phase_of(r.asset) or 0 for r in per_asset}))
    total = sum(r.num_keys for r in per_asset)
    request = BackfillRequest(
        partitions_by_assets=tuple(per_asset),
        first_key=first,
        last_key=last,
        phases=phases,
        title=f"nba-backfill stale {first}..{last}",
        description=(
            f"Re-materialize {total} stale asset-partitions of {len(per_asset)} assets "
            f"({first}..{last}); launched by `nba-backfill stale --launch`."
        ),
        tags={
            f"{TAG_PREFIX}/launched_by": "cli-stale",
            f"{TAG_PREFIX}/range": f"{first}...{last}",
        },
    )
    return request, skipped
