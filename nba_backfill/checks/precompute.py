"""Asset checks of the nba_precompute layer: pure rules, evaluated per partition by the factory.

The checks are declared on the Phase 4 assets (`check_specs=`) and computed inside the asset
step from the frame it just built (see `nba_backfill.assets.precompute.factory`); `checks`
(module attribute used by definitions.py for standalone check definitions) is therefore empty.

Blocking: `lookback_complete`, `keys_unique` (and the core's `partition_ok`).
WARN: `rows_per_day`, `zone_rate_ranges`, `zone_rates_sum`, `feature_ranges`,
`quality_distribution`.
"""

from __future__ import annotations

import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute.feature_contract import FEATURE_NAMES, FEATURE_RANGES
from nba_backfill.assets.precompute.inputs import float_list
from nba_backfill.checks.results import CheckDef, Outcome

LOOKBACK_COMPLETE = "lookback_complete"
KEYS_UNIQUE = "keys_unique"
ROWS_PER_DAY = "rows_per_day"
ZONE_RATE_RANGES = "zone_rate_ranges"
ZONE_RATES_SUM = "zone_rates_sum"
FEATURE_RANGES_CHECK = "feature_ranges"
QUALITY_DISTRIBUTION = "quality_distribution"

DESCRIPTIONS = {
    LOOKBACK_COMPLETE: "Every upstream date inside this date's windows (within the season) was "
    "materialized, holds rows on scheduled game days and passed its checks; names the missing dates. "
    "Incomplete = blocked: the date writes no rows.",
    KEYS_UNIQUE: "One row per key (date + entity).",
    ROWS_PER_DAY: "Rows per day inside SPEC §7's band once it applies: PSZA 300–500 and MLFS 100–400 "
    "after bootstrap, TDZA ≥ 25 teams after day 35.",
    ZONE_RATE_RANGES: "Mean zone rates inside SPEC §7: paint 15–65 %, mid 3–40 %, three 10–60 %.",
    ZONE_RATES_SUM: "Non-NULL zone rates sum to 100 ± 2 (SPEC §4.2).",
    FEATURE_RANGES_CHECK: "MLFS features 18/19/20 (paint/mid/three share) inside SPEC §7's ranges.",
    QUALITY_DISTRIBUTION: "After day 30 of a season ≥ 80 % of feature rows are gold or silver.",
}
BLOCKING = {LOOKBACK_COMPLETE, KEYS_UNIQUE}

checks: list = []

ZONE_BANDS = {"paint_rate_last_10": (15.0, 65.0), "mid_range_rate_last_10": (3.0, 40.0),
              "three_pt_rate_last_10": (10.0, 60.0)}
"""Zone/feature range checks judge the day's mean against SPEC §7's band; single players
legitimately sit outside it (a center's three rate is below 10 %, a floor spacer's above 60 %),
so their count and a sample are reported, not failed."""
QUALITY_AFTER_DAY = 30
QUALITY_GOLD_SILVER_SHARE = 0.80


def defs(names: list[str]) -> list[CheckDef]:
    return [CheckDef(n, DESCRIPTIONS[n], blocking=n in BLOCKING) for n in names]


def lookback_complete(missing: dict[str, list[str]], blocked: list[str]) -> Outcome:
    """`missing`: upstream asset -> window dates never materialized (or, for same-date gaps,
    "<date> <what>" items); `blocked`: guard reasons (failed upstream checks, broken state)."""
    dates = sorted({d for ds in missing.values() for d in ds})
    offending = [f"{asset} [{d}]" for asset, ds in sorted(missing.items()) for d in ds] + blocked
    if not offending:
        return Outcome(True, {"missing_dates": 0})
    parts = [f"{asset} missing {', '.join(ds)}" for asset, ds in sorted(missing.items()) if ds]
    parts += blocked[:3]
    return Outcome(False, {"missing_dates": len(dates), "blocked_reasons": len(blocked)},
                   offending=offending, message="; ".join(parts))


def keys_unique(frame: pd.DataFrame, key_columns: list[str]) -> Outcome:
    if frame.empty:
        return Outcome(True, {"rows": 0, "duplicate_keys": 0})
    dup = frame[frame.duplicated(key_columns, keep=False)]
    keys = sorted({"|".join(map(str, r)) for r in dup[key_columns].itertuples(index=False)})
    return Outcome(not keys, {"rows": len(frame), "duplicate_keys": len(keys)}, offending=keys,
                   message=f"{len(keys)} duplicate keys" if keys else "")


def rows_per_day(rows: int, band: tuple[int, int]) -> Outcome:
    lo, hi = band
    ok = lo <= rows <= hi
    return Outcome(ok, {"rows": rows, "min": lo, "max": hi},
                   message="" if ok else f"{rows} rows outside {lo}–{hi}")


def _band_outcome(frame: pd.DataFrame, bands: dict[str, tuple[float, float]], key: str) -> Outcome:
    counts: dict = {"rows": len(frame)}
    offending: list[str] = []
    problems: list[str] = []
    for col, (lo, hi) in bands.items():
        vals = pd.to_numeric(frame[col], errors="coerce") if len(frame) else pd.Series(dtype=float)
        vals = vals.dropna()
        if vals.empty:
            continue
        out = vals[(vals < lo) | (vals > hi)]
        share = len(out) / len(vals)
        m = float(vals.mean())
        counts[f"{col}_mean"] = round(m, 4)
        counts[f"{col}_out_of_band"] = int(len(out))
        offending += [f"{frame.loc[i, key]}:{col}={vals[i]:.3f}" for i in out.index[:5]]
        counts[f"{col}_out_of_band_share"] = round(share, 4)
        if not lo <= m <= hi:
            problems.append(f"{col} mean {m:.3f} outside {lo}–{hi}")
    return Outcome(not problems, counts, offending=offending, message="; ".join(problems))


def zone_rate_ranges(frame: pd.DataFrame) -> Outcome:
    return _band_outcome(frame, ZONE_BANDS, "player_lookup")


def zone_rates_sum(frame: pd.DataFrame) -> Outcome:
    cols = list(ZONE_BANDS)
    rated = frame.dropna(subset=cols) if len(frame) else frame
    if rated.empty:
        return Outcome(True, {"rated_rows": 0})
    total = rated[cols].sum(axis=1)
    bad = rated[(total - 100.0).abs() > rules.RATES_SUM_TOLERANCE]
    offending = [f"{p}:{t:.1f}" for p, t in zip(bad["player_lookup"], total[bad.index])]
    return Outcome(bad.empty, {"rated_rows": len(rated), "bad_sums": len(bad)}, offending=offending,
                   message=f"{len(bad)} rows whose zone rates do not sum to 100 ± 2" if len(bad) else "")


def feature_ranges(frame: pd.DataFrame) -> Outcome:
    if frame.empty or "features" not in frame.columns:
        return Outcome(True, {"rows": 0})
    vectors = [float_list(v) for v in frame["features"]]
    real = frame[[v is not None for v in vectors]]
    kept = [v for v in vectors if v is not None]
    cols = {}
    for idx in FEATURE_RANGES:
        cols[FEATURE_NAMES[idx]] = [v[idx] for v in kept]
    values = pd.DataFrame(cols)
    values["player_lookup"] = real["player_lookup"].values if len(real) else []
    values.index = range(len(values))
    bands = {FEATURE_NAMES[i]: band for i, band in FEATURE_RANGES.items()}
    return _band_outcome(values, bands, "player_lookup")


def quality_distribution(frame: pd.DataFrame, days_since_opener: int) -> Outcome:
    if days_since_opener <= QUALITY_AFTER_DAY or frame.empty:
        return Outcome(True, {"rows": len(frame), "applies": 0})
    real = frame[[float_list(v) is not None for v in frame["features"]]]
    if real.empty:
        return Outcome(True, {"rows": 0, "applies": 0})
    good = real["quality_tier"].isin(["gold", "silver"])
    share = float(good.mean())
    tiers = real["quality_tier"].value_counts().to_dict()
    ok = share >= QUALITY_GOLD_SILVER_SHARE
    return Outcome(ok, {"rows": len(real), "gold_silver_share": round(share, 4), **{f"tier_{k}": int(v) for k, v in tiers.items()}},
                   offending=list(real.loc[~good, "player_lookup"].head(10)),
                   message="" if ok else f"only {share:.0%} of rows gold/silver (need ≥ 80 %)")
