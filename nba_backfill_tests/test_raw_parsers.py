"""Raw parsers on real recorded responses (fixtures/README.md), expected values read by hand."""

import copy
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from nba_backfill.assets.raw.parsers import boxscore_v2, boxscore_v3, gamelog, pbp, schedule, summary
from nba_backfill.assets.raw.parsers import v3_families as v3
from nba_backfill.assets.raw.parsing import GameRef, ParseContext, ParseError, minutes_decimal, snake
from nba_backfill.checks.raw import expected_games
from nba_backfill.source.data_store import P_HEADERS, PARQUET_PATH

FIXTURES = Path(__file__).parent / "fixtures"
CHI_AT_CLE = GameRef("0022200552", "20230102_CHI_CLE", 1610612739, 1610612741, "CLE", "CHI")
CTX = ParseContext(day=dt.date(2023, 1, 2), games={CHI_AT_CLE.nba_game_id: CHI_AT_CLE})


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def objects(name: str, body: dict | None = None) -> dict:
    return {f"nba-com/x/2023-01-02/{name}": body if body is not None else load(name)}


def test_value_converters():
    assert minutes_decimal("45:55") == pytest.approx(45.917, abs=1e-3)
    assert minutes_decimal(30) == 30.0
    assert minutes_decimal("") is None and minutes_decimal(None) is None
    assert minutes_decimal("PT31M12.00S") == pytest.approx(31.2)
    assert snake("reboundsOffensive") == "rebounds_offensive"
    assert snake("pacePer40") == "pace_per_40"
    assert snake("PIE") == "pie"


def test_traditional_v3_team_totals():
    rows = boxscore_v3.parse_teams(v3.TRADITIONAL_V3,
                                   objects("boxscoretraditionalv3_0022200552.json"), CTX)
    by_team = {r["team_abbr"]: r for r in rows}
    cle, chi = by_team["CLE"], by_team["CHI"]
    assert (cle["is_home"], cle["opponent_team_abbr"], cle["game_id"]) == (True, "CHI", "20230102_CHI_CLE")
    assert cle["minutes"] == "265:00"  # one overtime: 5 x 53 player-minutes
    assert (cle["fg_made"], cle["fg_attempted"], cle["three_pt_made"], cle["three_pt_attempted"]) == (48, 92, 16, 46)
    assert (cle["ft_made"], cle["ft_attempted"], cle["offensive_rebounds"], cle["defensive_rebounds"]) == (33, 45, 13, 34)
    assert (cle["total_rebounds"], cle["assists"], cle["steals"], cle["blocks"]) == (47, 27, 1, 3)
    assert (cle["turnovers"], cle["personal_fouls"], cle["points"], cle["plus_minus"]) == (10, 27, 145, 11.0)
    assert (chi["points"], chi["plus_minus"], chi["is_home"]) == (134, -11.0, False)
    assert cle["season_year"] == 2022


def test_traditional_v2_players_sum_to_team_points():
    body = objects("boxscoretraditionalv2_0022200552.json")
    players = pd.DataFrame(boxscore_v2.parse_players(body, CTX))
    teams = {r["team_abbr"]: r for r in boxscore_v2.parse_teams(body, CTX)}
    derozan = players[players.player_id == 201942].iloc[0]
    assert (derozan.player_lookup, derozan.minutes, derozan.points, derozan.plus_minus) == (
        "demarderozan", "45:55", 44, -9)
    assert derozan.minutes_decimal == pytest.approx(45 + 55 / 60, abs=1e-3)
    assert players[players.player_id == 202696].iloc[0].player_lookup == "nikolavucevic"
    dnp = players[players.player_id == 1630792].iloc[0]  # Malcolm Hill, DNP - Coach's Decision
    assert (dnp.played, dnp.comment, dnp.points is None or pd.isna(dnp.points)) == (
        False, "DNP - Coach's Decision", True)
    sums = players.groupby("team_abbr").points.sum()
    assert sums["CLE"] == teams["CLE"]["points"] == 145
    assert sums["CHI"] == teams["CHI"]["points"] == 134
    assert len(players) == 23 and players.played.sum() == 19


@pytest.mark.parametrize("family,fixture,team_field,cle_value", [
    (v3.ADVANCED, "boxscoreadvancedv3_0022200552.json", "offensive_rating", 134.3),
    (v3.ADVANCED, "boxscoreadvancedv3_0022200552.json", "pace_per_40", 81.89),
    (v3.MISC, "boxscoremiscv3_0022200552.json", "points_paint", 56),
    (v3.SCORING, "boxscorescoringv3_0022200552.json", "percentage_points_3pt", 0.331),
    (v3.USAGE, "boxscoreusagev3_0022200552.json", "usage_percentage", 1.0),
])
def test_v3_families_on_real_responses(family, fixture, team_field, cle_value):
    body = objects(fixture)
    teams = {r["team_abbr"]: r for r in boxscore_v3.parse_teams(family, body, CTX)}
    assert teams["CLE"][team_field] == cle_value
    players = boxscore_v3.parse_players(family, body, CTX)
    assert len(players) == 23  # 11 CLE + 12 CHI listed, DNPs included
    stevens = next(p for p in players if p["player_id"] == 1630205)
    assert (stevens["player_lookup"], stevens["team_abbr"], stevens["minutes"]) == ("lamarstevens", "CLE", "19:09")
    assert stevens["played"] is True
    cols = [c.name for c in family.player_cols()]
    assert set(players[0]) | {"processed_at"} == set(cols)


def test_v3_first_bad_field_is_named():
    body = copy.deepcopy(load("boxscoretraditionalv3_0022200552.json"))
    body["boxScoreTraditional"]["homeTeam"]["statistics"]["points"] = "145"
    with pytest.raises(ParseError) as err:
        boxscore_v3.parse_teams(v3.TRADITIONAL_V3, objects("t.json", body), CTX)
    assert err.value.key.endswith("t.json")
    assert "boxScoreTraditional.homeTeam.statistics.points" in err.value.cause


def test_v3_empty_answer_yields_no_rows():
    body = {"boxScoreAdvanced": {"gameId": "0022200552", "homeTeamId": 0, "awayTeamId": 0,
                                 "homeTeam": {"teamId": 0, "teamTricode": "", "players": [], "statistics": {}},
                                 "awayTeam": {"teamId": 0, "teamTricode": "", "players": [], "statistics": {}}}}
    assert boxscore_v3.parse_teams(v3.ADVANCED, objects("e.json", body), CTX) == []


def test_game_summary_line_score():
    rows = {r["team_abbr"]: r for r in summary.parse_game_summary(
        objects("boxscoresummaryv2_0022200552.json"), CTX)}
    cle, chi = rows["CLE"], rows["CHI"]
    assert [cle[f"points_q{q}"] for q in range(1, 5)] + [cle["points_ot"]] == [27, 20, 44, 39, 15]
    assert sum(cle[f"points_q{q}"] for q in range(1, 5)) + cle["points_ot"] == cle["points"] == 145
    assert (chi["points"], chi["points_ot"], chi["overtime_periods"]) == (134, 4, 1)
    assert (cle["attendance"], cle["game_duration"], cle["team_wins_losses"]) == (19432, "2:51", "24-14")
    assert cle["officials"] == ["Tony Brothers", "JB DeRosa", "Suyash Mehta"]
    assert "Darius Garland" in cle["inactive_players"] and "Lonzo Ball" in chi["inactive_players"]


def test_game_summary_rejects_another_date():
    other_day = ParseContext(day=dt.date(2023, 1, 3), games=CTX.games)
    with pytest.raises(ParseError, match="GAME_DATE_EST: 2023-01-02 is not the partition 2023-01-03"):
        summary.parse_game_summary(objects("boxscoresummaryv2_0022200552.json"), other_day)


def test_play_by_play_reconstructs_the_final_score():
    ref = GameRef("0022000001", "20201222_GSW_BKN", 1610612751, 1610612744, "BKN", "GSW")
    ctx = ParseContext(day=dt.date(2020, 12, 22), games={ref.nba_game_id: ref},
                       player_lookups={202681: "kyrieirving", 201142: "kevindurant"})
    rows = pd.DataFrame(pbp.parse_play_by_play(objects("liveData_playbyplay_0022000001.json"), ctx))
    assert len(rows) == 610 and rows.event_sequence.tolist() == list(range(1, 611))
    last = rows.iloc[-1]
    assert (last.event_type, last.score_home, last.score_away) == ("game", 125, 99)
    made = rows[rows.shot_made.eq(True)]
    points = (made.shot_type.map({"2PT": 2, "3PT": 3}).fillna(1)).groupby(made.player_1_team_abbr).sum()
    assert points["BKN"] == 125 and points["GSW"] == 99
    first_fg = rows[rows.event_id == 12].iloc[0]  # Irving pull-up, Durant assist
    assert (first_fg.player_1_lookup, first_fg.player_2_lookup, first_fg.shot_type) == (
        "kyrieirving", "kevindurant", "2PT")
    assert first_fg.shot_distance == pytest.approx(21.97)
    assert rows.player_3_id.notna().sum() == 13  # blocked shots carry the blocker
    assert rows[rows.event_type == "freethrow"].shot_type.isna().all()


def test_schedule_slice_rows():
    body = load("scheduleleaguev2_2020-21_trimmed.json")
    body["leagueSchedule"]["gameDates"] = body["leagueSchedule"]["gameDates"][:1]
    rows = schedule.parse_schedule(objects("schedule.json", body), ParseContext(day=dt.date(2020, 12, 11)))
    assert len(rows) == 1
    r = rows[0]
    assert (r["nba_game_id"], r["game_id"], r["season_year"], r["season_type"]) == (
        "0012000001", "20201211_ORL_ATL", 2020, "Pre Season")
    assert (r["home_team_score"], r["away_team_score"], r["winning_team_tricode"]) == (128, 96, "ATL")
    assert (r["is_regular_season"], r["is_playoffs"], r["is_all_star"]) == (False, False, False)
    assert expected_games(pd.DataFrame(rows)).empty  # pre-season games are not scraped


def test_schedule_game_on_another_date_is_rejected():
    body = load("scheduleleaguev2_2020-21_trimmed.json")
    with pytest.raises(ParseError, match="0012000002 is dated 2020-12-12, not 2020-12-11"):
        schedule.parse_schedule(objects("schedule.json", body), ParseContext(day=dt.date(2020, 12, 11)))


def _gamelog_response(day: str) -> tuple[dict, pd.DataFrame]:
    """leaguegamelog P body for `day` from the bundled real rows (NaN percentages -> null)."""
    logs = pd.read_parquet(PARQUET_PATH)
    day_rows = logs[logs.GAME_DATE == day].copy()
    day_rows["SEASON_ID"] = day_rows["SEASON_ID"].astype(str)
    day_rows["FANTASY_PTS"] = 0.0
    day_rows["VIDEO_AVAILABLE"] = 1
    records = json.loads(day_rows[P_HEADERS].to_json(orient="values"))
    body = {"resource": "leaguegamelog",
            "resultSets": [{"name": "LeagueGameLog", "headers": P_HEADERS, "rowSet": records}]}
    return body, day_rows


def test_player_gamelog_on_real_rows():
    body, truth = _gamelog_response("2023-11-01")
    rows = pd.DataFrame(gamelog.parse_player_gamelog(
        objects("regular-season.json", body), ParseContext(day=dt.date(2023, 11, 1))))
    assert len(rows) == len(truth) == 279 and rows.nba_game_id.nunique() == 13
    assert rows.points.sum() == truth.PTS.sum() == 2941
    tatum = rows[rows.player_lookup == "jaysontatum"].iloc[0]  # BOS 155 - 104 IND at home
    assert (tatum.team_abbr, tatum.is_home, tatum.opponent_team_abbr, tatum.game_id) == (
        "BOS", True, "IND", "20231101_IND_BOS")
    assert tatum.season_year == 2023 and tatum.game_status == "Final" and len(tatum.data_hash) == 16
    team_points = rows.groupby(["nba_game_id", "team_abbr"]).points.sum()
    assert team_points[("0022300118", "BOS")] == 155 and team_points[("0022300118", "IND")] == 104


def test_player_gamelog_bad_matchup_is_named():
    body, _ = _gamelog_response("2023-11-02")
    rs = body["resultSets"][0]
    rs["rowSet"][3][rs["headers"].index("MATCHUP")] = "garbled"
    with pytest.raises(ParseError, match=r"resultSets.LeagueGameLog.rowSet.3.MATCHUP"):
        gamelog.parse_player_gamelog(objects("p.json", body), ParseContext(day=dt.date(2023, 11, 2)))


def test_player_gamelog_same_matchup_text_on_both_teams():
    # 2024-11-02 MIA @ WAS (0022400147): the real log carries "MIA @ WAS" on WAS's rows too.
    body, truth = _gamelog_response("2024-11-02")
    rows = pd.DataFrame(gamelog.parse_player_gamelog(
        objects("regular-season.json", body), ParseContext(day=dt.date(2024, 11, 2))))
    game = rows[rows.nba_game_id == "0022400147"]
    sides = game.groupby("team_abbr")[["is_home", "opponent_team_abbr", "game_id"]].first()
    assert sides.loc["WAS"].tolist() == [True, "MIA", "20241102_MIA_WAS"]
    assert sides.loc["MIA"].tolist() == [False, "WAS", "20241102_MIA_WAS"]
    assert len(rows) == len(truth)


def test_player_gamelog_matchup_without_the_team_is_named():
    body, _ = _gamelog_response("2023-11-02")
    rs = body["resultSets"][0]
    rs["rowSet"][3][rs["headers"].index("MATCHUP")] = "AAA @ BBB"
    with pytest.raises(ParseError, match=r"rowSet.3.MATCHUP: 'AAA @ BBB' does not name"):
        gamelog.parse_player_gamelog(objects("p.json", body), ParseContext(day=dt.date(2023, 11, 2)))
