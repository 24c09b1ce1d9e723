"""Shot zones, shot creation and blocks by zone from `nba_raw.nbac_play_by_play` (SPEC §3.1).

A field-goal attempt is an event with `shot_type` '2PT' or '3PT'. Zones: paint = 2PT at
≤ 8 ft, mid_range = other 2PT, three = 3PT. A made shot with an assister (`player_2_lookup`) is
assisted; the blocker of a blocked attempt is `player_3_lookup`. The aggregates are only trusted
when they reconcile with the box score (`zones_complete`), otherwise the zone columns are NULL.
"""

from __future__ import annotations

import pandas as pd

from nba_backfill.assets.analytics.formulas import shot_zones

ZONES = ("paint", "mid_range", "three")
ZONE_COUNTS = [f"{z}_{k}" for z in ZONES for k in ("attempts", "makes")]
BLOCK_COUNTS = ["paint_blocks", "mid_range_blocks", "three_pt_blocks"]
SHOT_COUNTS = [*ZONE_COUNTS, "pbp_fg_attempts", "pbp_fg_makes", "unzoned_attempts", "assisted_fg_makes"]


def field_goal_events(pbp: pd.DataFrame) -> pd.DataFrame:
    """One row per field-goal attempt: game_id, team_abbr, player_lookup, zone, made, assisted,
    blocker_lookup."""
    fg = pbp[pbp["shot_type"].isin(["2PT", "3PT"])]
    made = fg["shot_made"].fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "game_id": fg["game_id"].astype("string"),
            "team_abbr": fg["player_1_team_abbr"].astype("string"),
            "player_lookup": fg["player_1_lookup"].astype("string"),
            "zone": shot_zones(fg["shot_type"], pd.to_numeric(fg["shot_distance"], errors="coerce")),
            "made": made,
            "assisted": made & fg["player_2_lookup"].notna(),
            "blocker_lookup": fg["player_3_lookup"].astype("string"),
        }
    ).reset_index(drop=True)


def _counts(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if events.empty:
        return pd.DataFrame(columns=[*keys, *SHOT_COUNTS])
    e = events.assign(
        _one=1,
        _unzoned=events["zone"].isna().astype(int),
        _made=events["made"].astype(int),
        _assisted=events["assisted"].astype(int),
    )
    for zone in ZONES:
        in_zone = e["zone"] == zone
        e[f"{zone}_attempts"] = in_zone.fillna(False).astype(int)
        e[f"{zone}_makes"] = (in_zone.fillna(False) & e["made"]).astype(int)
    out = e.groupby(keys, as_index=False).agg(
        **{c: (c, "sum") for c in ZONE_COUNTS},
        pbp_fg_attempts=("_one", "sum"),
        pbp_fg_makes=("_made", "sum"),
        unzoned_attempts=("_unzoned", "sum"),
        assisted_fg_makes=("assisted", "sum"),
    )
    return out


def shooter_zones(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Zone attempts/makes, play-by-play FGA/FGM, unzoned attempts and assisted makes per key
    (e.g. ["game_id", "player_lookup"] or ["game_id", "team_abbr"])."""
    return _counts(events, keys)


def blocks_by_zone(events: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Blocks per blocker key (["game_id", "blocker_lookup"]) or per shooting team, by zone of
    the blocked attempt."""
    blocked = events[events["blocker_lookup"].notna()]
    if blocked.empty:
        return pd.DataFrame(columns=[*keys, *BLOCK_COUNTS])
    b = blocked.assign(
        paint_blocks=(blocked["zone"] == "paint").fillna(False).astype(int),
        mid_range_blocks=(blocked["zone"] == "mid_range").fillna(False).astype(int),
        three_pt_blocks=(blocked["zone"] == "three").fillna(False).astype(int),
    )
    return b.groupby(keys, as_index=False)[BLOCK_COUNTS].sum()


def zones_complete(zone_row: pd.DataFrame, fga: pd.Series, fgm: pd.Series) -> pd.Series:
    """True where the play-by-play reconciles with the box score: same FGA and FGM, and every
    attempt has a zone. Rows without play-by-play (NaN counts) are incomplete."""
    attempts = pd.to_numeric(zone_row["pbp_fg_attempts"], errors="coerce")
    makes = pd.to_numeric(zone_row["pbp_fg_makes"], errors="coerce")
    unzoned = pd.to_numeric(zone_row["unzoned_attempts"], errors="coerce")
    ok = (attempts == fga.astype("float64")) & (makes == fgm.astype("float64")) & (unzoned == 0)
    return ok.fillna(False).astype(bool)
