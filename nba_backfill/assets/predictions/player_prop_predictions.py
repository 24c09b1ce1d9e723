"""nba_predictions.player_prop_predictions — SPEC §5.

One row per player per game date per system (moving_average, zone_matchup_v1,
similarity_balanced_v1, ensemble_v1), for the MLFS players of the date that pass the quality
gate (BACKFILL mode: feature quality ≥ 70, matchup quality ≥ 50, zero required defaults; the
placeholder rows of bootstrap days never pass).

Current season only: the asset's partitions (`partitions.PREDICTION_PARTITIONS`) start at the
opener of `seasons.current_season()` (NBA_BACKFILL_CURRENT_SEASON, else the bundled last season
offline and today's season in production), so no past-season partition exists. Should the current
season move on while a process runs (a new season opens, the variable changes), a date outside it
writes no rows and is listed with the reason under `skipped_partitions` in the materialization
metadata; its checks pass as not applicable.

Lines: no prop-line source is scraped, so current_points_line is NULL, has_prop_line FALSE and
the recommendation is NO_LINE; predicted_points is still produced. With a line the SPEC rule
applies (PASS when |edge| ≤ 2.0 or confidence ≤ 0.45, else OVER/UNDER) — see
`systems.recommendation`.

Inputs: MLFS of the same date; PGS over `ROLLING_60_DAYS` for the similarity system's past games
(home/away from the game id, rest days, the opponent's points allowed per game in the window).
xgboost_v1 (SPEC's fifth system) is not built: no gradient-boosting library is in our package set.
"""

from __future__ import annotations

import json

import pandas as pd

from nba_backfill.assets.precompute.factory import Day, ExtraCheck, Input, PrecomputeSpec
from nba_backfill.assets.precompute.feature_contract import FEATURE_NAMES
from nba_backfill.assets.precompute.inputs import (
    PGS, Histories, active_games, float_list, numeric, precompute_table, value,
)
from nba_backfill.assets.predictions import systems
from nba_backfill.assets.tables import Col
from nba_backfill.checks import predictions as checks
from nba_backfill.layers import PREDICTIONS
from nba_backfill.partitions import ROLLING_60_DAYS
from nba_backfill.seasons import current_season

MLFS_IN = precompute_table(
    "ml_feature_store_v2", "game_date",
    ("player_lookup", "universal_player_id", "game_id", "team_abbr", "opponent_team_abbr", "features",
     "feature_sources", "feature_quality_score", "quality_tier", "matchup_quality_pct", "required_default_count",
     "has_prop_line"),
)

COLS = (
    Col("prediction_id", "STRING", "<game_date>_<player_lookup>_<system_id>"),
    Col("system_id", "STRING"),
    Col("player_lookup", "STRING"),
    Col("universal_player_id", "STRING"),
    Col("game_date", "DATE"),
    Col("game_id", "STRING"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("prediction_version", "STRING"),
    Col("predicted_points", "FLOAT64"),
    Col("confidence_score", "FLOAT64", "0–1"),
    Col("recommendation", "STRING", "OVER | UNDER | PASS | NO_LINE"),
    Col("current_points_line", "FLOAT64", "NULL: no prop-line source is scraped"),
    Col("line_margin", "FLOAT64"),
    Col("has_prop_line", "BOOL"),
    Col("line_source", "STRING"),
    Col("sportsbook", "STRING"),
    Col("fatigue_adjustment", "FLOAT64", "PCF fatigue adjustment (score − 100)/20"),
    Col("shot_zone_adjustment", "FLOAT64"),
    Col("pace_adjustment", "FLOAT64"),
    Col("usage_spike_adjustment", "FLOAT64"),
    Col("ml_model_id", "STRING"),
    Col("model_file_name", "STRING"),
    Col("prediction_variance", "FLOAT64", "ensemble_v1: variance of the three systems"),
    Col("key_factors", "STRING", "JSON"),
    Col("warnings", "STRING", "JSON"),
    Col("is_active", "BOOL"),
    Col("superseded_by", "STRING"),
    Col("default_feature_indices", "ARRAY<STRING>"),
    Col("feature_quality_score", "FLOAT64"),
    Col("quality_tier", "STRING"),
    Col("quality_gate", "STRING", "Gate mode applied (BACKFILL: threshold 70)"),
    Col("data_hash", "STRING"),
    Col("processed_at", "TIMESTAMP"),
)
VERSION = "v1"


def outside_current_season(day: Day) -> str | None:
    current = current_season()
    if day.season.label != current.label:
        return f"{day.key} is in {day.season.label}, not the current season {current.label}: no predictions"
    return None


def past_games(pgs: pd.DataFrame) -> tuple[Histories, dict[str, float]]:
    """Players' played games (with home flag and rest days) and each team's points allowed per
    game in the window."""
    played = numeric(active_games(pgs), ["points"])
    if played.empty:
        return Histories(played.assign(home=[], rest=[]), "player_lookup", ["points", "home", "rest", "opponent_team_abbr"]), {}
    home_team = played["game_id"].str.split("_").str[2]
    played = played.assign(home=(played["team_abbr"] == home_team).values)
    played = played.sort_values(["player_lookup", "game_date"])
    prev = played.groupby("player_lookup")["game_date"].shift(1)
    played["rest"] = [None if p is None or pd.isna(p) else (d - p).days for d, p in zip(played["game_date"], prev)]
    scored = played.groupby(["game_id", "team_abbr", "opponent_team_abbr"], as_index=False)["points"].sum()
    allowed = scored.groupby("opponent_team_abbr")["points"].mean().to_dict()
    return Histories(played, "player_lookup", ["points", "home", "rest", "opponent_team_abbr"]), allowed


def gate(row: dict) -> str | None:
    if float_list(row.get("features")) is None:
        return "bootstrap placeholder (no features)"
    return systems.quality_gate(value(row.get("feature_quality_score")), value(row.get("matchup_quality_pct")),
                                value(row.get("required_default_count")))


def eligible(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    cols = ["features", "feature_quality_score", "matchup_quality_pct", "required_default_count"]
    return frame[[gate(r) is None for r in frame[cols].to_dict("records")]]


def compute(day: Day) -> pd.DataFrame:
    mlfs = eligible(day.frames["mlfs"][list(MLFS_IN.required)])
    if mlfs.empty:
        return pd.DataFrame()
    hist, allowed = past_games(day.frames["pgs"])
    vectors = {r["player_lookup"]: dict(zip(FEATURE_NAMES, float_list(r["features"]))) for r in mlfs.to_dict("records")}
    defs = [f["opponent_def_rating"] for f in vectors.values() if f.get("opponent_def_rating") is not None]
    league_def = sum(defs) / len(defs) if defs else None
    rows = []
    for r in mlfs.sort_values("player_lookup").to_dict("records"):
        player, f = r["player_lookup"], vectors[r["player_lookup"]]
        quality = float(value(r["feature_quality_score"]))
        g = hist.get(player)
        history = [systems.PastGame(float(p), bool(h), value(rest) and int(rest), allowed.get(o))
                   for p, h, rest, o in zip(g["points"], g["home"], g["rest"], g["opponent_team_abbr"])]
        parts = {
            "moving_average": systems.moving_average(f, quality),
            "zone_matchup_v1": systems.zone_matchup(f, quality, league_def),
            "similarity_balanced_v1": systems.similarity_balanced(f, quality, history,
                                                                  allowed.get(r["opponent_team_abbr"])),
        }
        parts["ensemble_v1"] = systems.ensemble(parts)
        defaults = [str(i) for i, s in enumerate(r["feature_sources"]) if s in ("default", "fallback", "missing")]
        line = None
        for system_id in systems.SYSTEMS:
            p = parts[system_id]
            rows.append({
                "prediction_id": f"{day.key}_{player}_{system_id}", "system_id": system_id, "player_lookup": player,
                "universal_player_id": value(r.get("universal_player_id")), "game_id": r["game_id"],
                "team_abbr": r["team_abbr"], "opponent_team_abbr": r["opponent_team_abbr"],
                "prediction_version": VERSION, "predicted_points": p.points, "confidence_score": p.confidence,
                "recommendation": systems.recommendation(p.points, line, p.confidence),
                "current_points_line": line, "line_margin": None, "has_prop_line": False, "line_source": None,
                "sportsbook": None,
                "fatigue_adjustment": None if f.get("fatigue_score") is None else (f["fatigue_score"] - 100) / 20.0,
                "shot_zone_adjustment": f.get("shot_zone_mismatch_score"), "pace_adjustment": f.get("pace_score"),
                "usage_spike_adjustment": f.get("usage_spike_score"), "ml_model_id": None, "model_file_name": None,
                "prediction_variance": p.factors.get("variance") if system_id == "ensemble_v1" else None,
                "key_factors": json.dumps(p.factors, sort_keys=True),
                "warnings": json.dumps(["no prop line scraped: recommendation NO_LINE"]),
                "is_active": True, "superseded_by": None, "default_feature_indices": defaults,
                "feature_quality_score": quality, "quality_tier": r["quality_tier"], "quality_gate": "BACKFILL",
            })
    return pd.DataFrame(rows)


def _players_predicted(frame: pd.DataFrame, day: Day):
    expected = set(eligible(day.frames["mlfs"])["player_lookup"]) if len(day.frames["mlfs"]) else set()
    return checks.players_predicted(frame, expected, systems.SYSTEMS)


PREDICTIONS_SPEC = PrecomputeSpec(
    table="player_prop_predictions",
    doc=__doc__,
    cols=COLS,
    date_column="game_date",
    key_columns=("player_lookup", "system_id"),
    # SPEC §5 also clusters by confidence_score; BigQuery cannot cluster by a FLOAT64 column
    cluster_by=("system_id", "player_lookup", "game_date"),
    inputs=(
        Input("mlfs", MLFS_IN, None),
        Input("pgs", PGS, ROLLING_60_DAYS),  # the similarity system's past games (60 days)
    ),
    compute=compute,
    bootstrap="compute",
    skip=outside_current_season,
    extra_checks=(
        ExtraCheck(checks.PLAYERS_PREDICTED, _players_predicted, blocking=True,
                   description=checks.DESCRIPTIONS[checks.PLAYERS_PREDICTED]),
        ExtraCheck(checks.PREDICTED_POINTS_RANGE, lambda f, d: checks.predicted_points_range(f), blocking=True,
                   description=checks.DESCRIPTIONS[checks.PREDICTED_POINTS_RANGE]),
    ),
    layer=PREDICTIONS,
    add_completeness_cols=False,
)
