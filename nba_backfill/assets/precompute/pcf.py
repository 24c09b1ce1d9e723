"""nba_precompute.player_composite_factors (PCF) — SPEC §4.3, calculation_version v1_4factors.

One row per player per game date (the players of UPGC for that date): four scored factors and
their sum, from same-date inputs only — UPGC (rest, workload, pace differential, opponent rest), UTGC (game
total/spread, team context present), PSZA (the player's primary zone and its rate) and TDZA (the
opponent's vs-league FG% allowed in that zone).

- fatigue_score 0–100 → adjustment (score − 100)/20 (−5..0);
- shot_zone_mismatch_score −10..+10 (PSZA primary zone vs the opponent's TDZA vs-league FG%);
  pace_score −3..+3 (UPGC pace_differential = team pace last 10 − opponent pace last 10, /2);
  usage_spike_score −3..+3 (needs a projected usage rate, which needs injury/roster sources we
  do not scrape: NULL → 0 and counted as a missing field);
- referee, look-ahead, travel and opponent-strength scores are deferred (0), as in SPEC.
data_completeness_pct = passed/5·100 over: days_rest, projected_usage_rate, pace_differential,
PSZA row present, TDZA row present. Completeness columns: the player's PSZA L10 window (NULL
when the player has no PSZA row). `early_season_flag`: the PSZA row's flag (reduced minimum in
force) — SPEC notes production always writes FALSE because its placeholder path never runs.
Bootstrap days (0–13) write no rows. Same-date `nbac_schedule` is read so `lookback_complete`
also covers "every Final game of the date has UPGC players".
"""

from __future__ import annotations

import json

import pandas as pd

from nba_backfill.assets.precompute import rules
from nba_backfill.assets.precompute.factory import Day, Input, PrecomputeSpec
from nba_backfill.assets.precompute.inputs import PLAYER_GAME_COLS, SCHEDULE, UPGC, UTGC, precompute_table, records, value
from nba_backfill.assets.tables import Col

PSZA_IN = precompute_table(
    "player_shot_zone_analysis", "analysis_date",
    ("player_lookup", "primary_scoring_zone", "paint_rate_last_10", "mid_range_rate_last_10",
     "three_pt_rate_last_10", "expected_games_count", "actual_games_count", "missing_games_count",
     "completeness_percentage", "is_production_ready", "early_season_flag"),
)
TDZA_IN = precompute_table(
    "team_defense_zone_analysis", "analysis_date",
    ("team_abbr", "paint_defense_vs_league_avg", "mid_range_defense_vs_league_avg",
     "three_pt_defense_vs_league_avg", "weakest_zone", "opponent_pace", "is_production_ready"),
)

COLS = (
    *PLAYER_GAME_COLS,
    Col("fatigue_score", "INT64", "0–100, higher = fresher"),
    Col("fatigue_adjustment", "FLOAT64", "(fatigue_score − 100)/20"),
    Col("shot_zone_mismatch_score", "FLOAT64", "−10..+10"),
    Col("pace_score", "FLOAT64", "−3..+3"),
    Col("usage_spike_score", "FLOAT64", "−3..+3"),
    Col("referee_favorability_score", "FLOAT64", "deferred: 0"),
    Col("look_ahead_pressure_score", "FLOAT64", "deferred: 0"),
    Col("travel_impact_score", "FLOAT64", "deferred: 0"),
    Col("opponent_strength_score", "FLOAT64", "deferred: 0"),
    Col("total_composite_adjustment", "FLOAT64", "Sum of the adjustments"),
    Col("days_rest", "INT64"),
    Col("opponent_days_rest", "INT64", "UPGC: days since the opponent's previous game"),
    Col("pace_differential", "FLOAT64"),
    Col("projected_usage_rate", "FLOAT64"),
    Col("fatigue_context_json", "STRING"),
    Col("shot_zone_context_json", "STRING"),
    Col("pace_context_json", "STRING"),
    Col("usage_context_json", "STRING"),
    Col("calculation_version", "STRING"),
    Col("data_completeness_pct", "FLOAT64", "passed/5 · 100"),
    Col("missing_data_fields", "ARRAY<STRING>"),
    Col("has_warnings", "BOOL"),
    Col("warning_details", "ARRAY<STRING>"),
    Col("upstream_player_shot_ready", "BOOL"),
    Col("upstream_team_defense_ready", "BOOL"),
    Col("upstream_player_context_ready", "BOOL"),
    Col("upstream_team_context_ready", "BOOL"),
    Col("all_upstreams_ready", "BOOL"),
)
ZONE_FIELD = {"paint": "paint", "mid_range": "mid_range", "perimeter": "three_pt"}




def player_factors(ctx: dict, shot: dict | None, opp_def: dict | None, team_ctx: dict | None) -> dict:
    """The factor row for one player (dict inputs; None = upstream row absent)."""
    days_rest = value(ctx.get("days_rest"))
    fatigue = rules.fatigue_score(
        days_rest=days_rest, back_to_back=value(ctx.get("back_to_back")),
        games_last_7=value(ctx.get("games_in_last_7_days")), minutes_last_7=value(ctx.get("minutes_in_last_7_days")),
        avg_minutes_last_7=value(ctx.get("avg_minutes_per_game_last_7")),
        back_to_backs_last_14=value(ctx.get("back_to_backs_last_14_days")), player_age=value(ctx.get("player_age")),
    )
    primary = value(shot.get("primary_scoring_zone")) if shot else None
    zone = ZONE_FIELD.get(primary, "paint")
    zone_rate = value(shot.get(f"{zone}_rate_last_10")) if shot else None
    defense = value(opp_def.get(f"{zone}_defense_vs_league_avg")) if opp_def else None
    zone_score = rules.shot_zone_mismatch(primary, zone_rate, defense) if shot and opp_def else 0.0
    own_pace, opp_pace = value(ctx.get("team_pace_last_10")), value(ctx.get("opponent_pace_last_10"))
    pace_diff = value(ctx.get("pace_differential"))
    pace = rules.pace_score(pace_diff)
    projected = value(ctx.get("projected_usage_rate"))
    baseline = value(ctx.get("avg_usage_rate_last_7_games"))
    stars = value(ctx.get("star_teammates_out"))
    usage = rules.usage_spike_score(projected, baseline, stars)
    fatigue_adj = rules.fatigue_adjustment(fatigue)
    total = round(fatigue_adj + zone_score + pace + usage, 2)
    passed = {
        "days_rest": days_rest is not None,
        "projected_usage_rate": projected is not None,
        "pace_differential": pace_diff is not None,
        "player_shot_zone": shot is not None,
        "team_defense_zone": opp_def is not None,
    }
    warnings = []
    if fatigue < rules.PCF_WARN_FATIGUE:
        warnings.append(f"fatigue_score {fatigue} < {rules.PCF_WARN_FATIGUE}")
    if abs(zone_score) > rules.PCF_WARN_ZONE:
        warnings.append(f"|shot_zone_mismatch_score| {zone_score} > {rules.PCF_WARN_ZONE}")
    if abs(total) > rules.PCF_WARN_TOTAL:
        warnings.append(f"|total_composite_adjustment| {total} > {rules.PCF_WARN_TOTAL}")
    shot_ready = bool(shot and value(shot.get("is_production_ready")))
    def_ready = bool(opp_def and value(opp_def.get("is_production_ready")))
    ctx_flag = value(ctx.get("is_production_ready"))
    ctx_ready = True if ctx_flag is None else bool(ctx_flag)
    team_ready = team_ctx is not None
    return {
        "fatigue_score": fatigue, "fatigue_adjustment": fatigue_adj, "shot_zone_mismatch_score": zone_score,
        "pace_score": pace, "usage_spike_score": usage, "referee_favorability_score": 0.0,
        "look_ahead_pressure_score": 0.0, "travel_impact_score": 0.0, "opponent_strength_score": 0.0,
        "total_composite_adjustment": total, "days_rest": days_rest,
        "opponent_days_rest": value(ctx.get("opponent_days_rest")),
        "pace_differential": pace_diff, "projected_usage_rate": projected,
        "fatigue_context_json": json.dumps({"days_rest": days_rest, "back_to_back": value(ctx.get("back_to_back")),
                                            "games_last_7": value(ctx.get("games_in_last_7_days")),
                                            "minutes_last_7": value(ctx.get("minutes_in_last_7_days")),
                                            "score": fatigue}, default=str),
        "shot_zone_context_json": json.dumps({"primary_zone": primary, "zone_rate": zone_rate,
                                              "opponent_vs_league": defense,
                                              "opponent_weakest_zone": value(opp_def.get("weakest_zone")) if opp_def else None,
                                              "score": zone_score}, default=str),
        "pace_context_json": json.dumps({"team_pace": own_pace, "opponent_pace": opp_pace,
                                         "pace_differential": pace_diff, "score": pace,
                                         "game_total": value(team_ctx.get("game_total")) if team_ctx else None,
                                         "game_spread": value(team_ctx.get("game_spread")) if team_ctx else None},
                                        default=str),
        "usage_context_json": json.dumps({"projected_usage_rate": projected, "avg_usage_last_7": baseline,
                                          "star_teammates_out": stars, "score": usage}, default=str),
        "calculation_version": "v1_4factors",
        "data_completeness_pct": 100.0 * sum(passed.values()) / len(passed),
        "missing_data_fields": [k for k, ok in passed.items() if not ok],
        "has_warnings": bool(warnings), "warning_details": warnings,
        "upstream_player_shot_ready": shot_ready, "upstream_team_defense_ready": def_ready,
        "upstream_player_context_ready": ctx_ready, "upstream_team_context_ready": team_ready,
        "all_upstreams_ready": shot_ready and def_ready and ctx_ready and team_ready,
    }


def compute(day: Day) -> pd.DataFrame:
    upgc = day.frames["upgc"]
    shots = records(day.frames["psza"], "player_lookup", PSZA_IN.required)
    defense = records(day.frames["tdza"], "team_abbr", TDZA_IN.required)
    teams = records(day.frames["utgc"], "team_abbr", (*UTGC.required, *UTGC.optional))
    rows = []
    for ctx in upgc.sort_values("player_lookup").to_dict("records"):
        shot = shots.get(ctx["player_lookup"])
        row = player_factors(ctx, shot, defense.get(ctx["opponent_team_abbr"]), teams.get(ctx["team_abbr"]))
        row.update({k: ctx.get(k) for k in ("player_lookup", "universal_player_id", "game_id", "team_abbr",
                                             "opponent_team_abbr")})
        if shot is not None:
            row.update({k: value(shot[k]) for k in ("expected_games_count", "actual_games_count",
                                                    "missing_games_count", "completeness_percentage")})
            row["is_production_ready"] = bool(value(shot["is_production_ready"]))
            row["early_season_flag"] = bool(value(shot["early_season_flag"]))
            row["insufficient_data_reason"] = None
        else:
            row.update({"expected_games_count": None, "actual_games_count": None, "missing_games_count": None,
                        "completeness_percentage": None, "is_production_ready": False,
                        "early_season_flag": day.days_since_opener <= rules.EARLY_RAMP_LAST_DAY,
                        "insufficient_data_reason": "no_player_shot_zone_row"})
        rows.append(row)
    return pd.DataFrame(rows)


def scheduled_games_without_players(day: Day) -> dict[str, list[str]]:
    """Final games on the date that have no UPGC players (named by their teams)."""
    sched = day.team_games()
    present = set(day.frames["upgc"]["team_abbr"]) if len(day.frames["upgc"]) else set()
    lacking = sorted({f"{day.key} {t} (scheduled, no players)" for t in sched["team_abbr"] if t not in present})
    return {UPGC.key.to_user_string(): lacking}


PCF = PrecomputeSpec(
    table="player_composite_factors",
    doc=__doc__,
    cols=COLS,
    date_column="game_date",
    key_columns=("player_lookup",),
    inputs=(
        Input("upgc", UPGC, None),
        Input("utgc", UTGC, None),
        Input("psza", PSZA_IN, None),
        Input("tdza", TDZA_IN, None),
        Input("schedule", SCHEDULE, None),
    ),
    compute=compute,
    same_date_gaps=scheduled_games_without_players,
)

