"""History windows and check faults, computed with the assets' own compute and check functions
on real game logs (no Dagster run, so seasons and breaks far apart stay fast).

The Dagster-level behaviour (mappings, guard, idempotent writes) is in test_analytics_materialize.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.assets.common import player_lookup
from nba_backfill.checks.analytics import TABLE_CHECKS, DayView
from nba_backfill_tests.test_analytics_support import compute_tables, logs_between, raw_tables

OPENER_2023 = "2023-10-24"


def _days(logs: pd.DataFrame) -> list[str]:
    return sorted(logs["GAME_DATE"].unique())


def _evaluate(table: str, day: str, rows: pd.DataFrame, inputs: dict[str, pd.DataFrame]) -> dict:
    view = DayView(dt.date.fromisoformat(day), rows, Inputs(inputs))
    return {c.name: c.evaluate(view) for c in TABLE_CHECKS[table]}


# --- season boundary --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def season_start():
    """2023-24 opener..10-27, plus real 2022-23 PGS rows placed where a lookback could load them:
    on the last Finals date (what PREVIOUS_30_DAYS maps the opener to) and on the day before the
    opener (only the code's opener cut excludes that one)."""
    frames = raw_tables(OPENER_2023, "2023-10-27")
    previous = compute_tables(raw_tables("2023-04-09", "2023-04-09"), ["2023-04-09"], [])["player_game_summary"]
    injected = pd.concat([
        previous.assign(game_date=dt.date(2023, 6, 12)),
        previous.assign(game_date=dt.date(2023, 10, 23)),
    ], ignore_index=True)
    days = _days(logs_between(OPENER_2023, "2023-10-27"))
    tables = compute_tables(frames, days, days, extra={"player_game_summary": injected})
    return tables, previous


def test_first_game_of_a_season_has_no_history_from_the_previous_season(season_start):
    tables, previous = season_start
    upgc = tables["upcoming_player_game_context"]
    opener = upgc[upgc["game_date"] == dt.date(2023, 10, 24)]
    both = set(opener["player_lookup"]) & set(previous["player_lookup"])
    assert len(both) >= 15  # players of the opener who also played 2023-04-09: real candidates
    assert opener["days_rest"].isna().all()
    assert opener["points_avg_last_5"].isna().all() and opener["points_avg_last_10"].isna().all()
    assert (opener["games_in_last_14_days"] == 0).all() and (opener["source_pgs_rows_found"] == 0).all()
    assert (opener["l5_games_used"] == 0).all()
    assert opener["season_boundary_detected"].all()
    assert opener["is_production_ready"].all()  # early-season rule (within 30 days of the opener)

    # 2023-10-26: LAL played the opener (107-119 at DEN) and again on 10-26 — one game of history
    lal = upgc[(upgc["game_date"] == dt.date(2023, 10, 26)) & (upgc["team_abbr"] == "LAL")]
    lebron = lal[lal["player_lookup"] == "lebronjames"].iloc[0]
    real = logs_between(OPENER_2023, OPENER_2023)
    assert lebron["days_rest"] == 2 and not lebron["back_to_back"]
    assert lebron["source_pgs_rows_found"] == 1
    assert lebron["points_avg_last_5"] == float(real[real["PLAYER_NAME"] == "LeBron James"]["PTS"].iloc[0])

    utgc = tables["upcoming_team_game_context"]
    first = utgc[utgc["game_date"] == dt.date(2023, 10, 24)]
    assert (first["game_number_in_season"] == 1).all()
    assert (first["team_wins_entering"] == 0).all() and (first["team_losses_entering"] == 0).all()
    assert first["team_win_pct_entering"].isna().all() and first["days_since_last_game"].isna().all()
    lal_team = utgc[(utgc["game_date"] == dt.date(2023, 10, 26)) & (utgc["team_abbr"] == "LAL")].iloc[0]
    assert lal_team["game_number_in_season"] == 2
    assert lal_team["team_wins_entering"] == 0 and lal_team["team_losses_entering"] == 1
    assert lal_team["last_game_result"] == "L" and lal_team["last_game_margin"] == 107 - 119
    assert lal_team["days_since_last_game"] == 2 and lal_team["team_days_rest"] == 1


# --- All-Star break ----------------------------------------------------------------------------


def test_days_rest_across_the_all_star_break():
    history = logs_between("2024-02-05", "2024-02-15")
    frames = raw_tables("2024-02-05", "2024-02-22")
    tables = compute_tables(frames, _days(history), ["2024-02-22"])
    upgc = tables["upcoming_player_game_context"].set_index("player_lookup")
    utgc = tables["upcoming_team_game_context"].set_index("team_abbr")
    on_22 = logs_between("2024-02-22", "2024-02-22")
    last_before = history.groupby("PLAYER_NAME")["GAME_DATE"].max()
    checked = 0
    for name in on_22["PLAYER_NAME"]:
        if name not in last_before:
            continue
        row = upgc.loc[player_lookup(name)]
        expected = (dt.date(2024, 2, 22) - dt.date.fromisoformat(last_before[name])).days
        assert row["days_rest"] == expected
        assert not row["back_to_back"]
        assert row["games_in_last_7_days"] == int(last_before[name] == "2024-02-15")
        checked += 1
    assert checked > 150
    assert set(upgc["days_rest"].dropna()) <= {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
    team_last = history.groupby("TEAM_ABBREVIATION")["GAME_DATE"].max()
    for team, row in utgc.iterrows():
        gap = (dt.date(2024, 2, 22) - dt.date.fromisoformat(team_last[team])).days
        assert row["days_since_last_game"] == gap and row["team_days_rest"] == gap - 1
        assert not row["is_back_to_back"]


# --- check faults ------------------------------------------------------------------------------

FAULT_DAY = "2023-11-02"


@pytest.fixture(scope="module")
def one_day():
    frames = raw_tables(FAULT_DAY, FAULT_DAY)
    return frames, compute_tables(frames, [FAULT_DAY], [])


def _team_checks(frames) -> dict:
    togs = compute_tables(frames, [FAULT_DAY], [])["team_offense_game_summary"]
    return _evaluate("team_offense_game_summary", FAULT_DAY, togs, {"schedule": frames["nbac_schedule"]})


def _player_checks(frames) -> dict:
    tables = compute_tables(frames, [FAULT_DAY], [])
    return _evaluate("player_game_summary", FAULT_DAY, tables["player_game_summary"], {
        "team_offense": tables["team_offense_game_summary"],
        "player_boxscore": frames["nbac_player_boxscore"],
    })


def test_checks_pass_on_clean_real_data(one_day):
    frames, _ = one_day
    team = _team_checks(frames)
    assert all(o.passed for o in team.values()), {k: o.message for k, o in team.items()}
    players = _player_checks(frames)
    blocking = {c.name for c in TABLE_CHECKS["player_game_summary"] if c.blocking}
    assert all(players[name].passed for name in blocking), {k: o.message for k, o in players.items()}


def test_missing_team_row_fails_teams_complete_naming_the_game(one_day):
    frames, _ = one_day
    box = frames["nbac_team_boxscore"]
    victim = box.iloc[0]
    faulted = {**frames, "nbac_team_boxscore": box.iloc[1:]}
    out = _team_checks(faulted)["teams_complete"]
    assert not out.passed
    assert out.offending == [f"{victim['game_id']}: missing {victim['team_abbr']}"]


def test_game_shifted_to_the_next_day_fails_teams_complete(one_day):
    frames, _ = one_day
    box = frames["nbac_team_boxscore"]
    game = box["game_id"].iloc[0]
    shifted = box.assign(game_date=box["game_date"].where(box["game_id"] != game, "2023-11-03"))
    out = _team_checks({**frames, "nbac_team_boxscore": shifted})["teams_complete"]
    assert not out.passed and out.offending[0].startswith(f"{game}: missing")


def test_zeroed_points_fail_team_points_consistency(one_day):
    frames, _ = one_day
    players = frames["nbac_player_boxscore"]
    game = players["game_id"].iloc[0]
    zeroed = players.assign(points=players["points"].where(players["game_id"] != game, 0))
    out = _player_checks({**frames, "nbac_player_boxscore": zeroed})
    assert not out["team_points_consistent"].passed
    assert out["team_points_consistent"].counts["mismatched"] == 2
    assert all(s.startswith(game) for s in out["team_points_consistent"].offending)


def test_duplicated_player_row_fails_key_uniqueness(one_day):
    frames, _ = one_day
    players = frames["nbac_player_boxscore"]
    other_game = players[players["game_id"] != players["game_id"].iloc[0]].iloc[[0]]
    copy = players.iloc[[0]].assign(game_id=other_game["game_id"].iloc[0])  # same player in a 2nd game
    out = _player_checks({**frames, "nbac_player_boxscore": pd.concat([players, copy], ignore_index=True)})
    assert not out["keys_unique"].passed
    assert out["keys_unique"].offending == [f"{FAULT_DAY}|{players['player_lookup'].iloc[0]}"]


def test_lost_player_lookups_fail_not_null(one_day):
    frames, _ = one_day
    players = frames["nbac_player_boxscore"]
    lost = players.assign(player_lookup=players["player_lookup"].where(players.index >= 6, None))
    out = _player_checks({**frames, "nbac_player_boxscore": lost})
    assert not out["player_lookup_not_null"].passed


def test_players_dropped_from_pgs_fail_cross_phase(one_day):
    frames, tables = one_day
    players = frames["nbac_player_boxscore"]
    stale = compute_tables({**frames, "nbac_player_boxscore": players.iloc[6:]}, [FAULT_DAY], [])
    out = _evaluate("player_game_summary", FAULT_DAY, stale["player_game_summary"], {
        "player_boxscore": players, "team_offense": tables["team_offense_game_summary"],
    })["cross_phase_players"]
    assert not out.passed and out.counts["missing"] == 6
    assert set(out.offending) == {f"{g} {p}" for g, p in zip(players["game_id"][:6], players["player_lookup"][:6])}


def test_one_team_without_players_is_critical(one_day):
    frames, tables = one_day
    players = frames["nbac_player_boxscore"]
    team = players["team_abbr"].iloc[0]
    out = _player_checks({**frames, "nbac_player_boxscore": players[players["team_abbr"] != team]})
    assert not out["player_count_per_game"].passed
    assert f"only one team present ({team} missing)" in out["player_count_per_game"].message
