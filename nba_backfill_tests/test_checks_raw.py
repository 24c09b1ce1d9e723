"""Raw-layer check functions on real rows: each passes on clean data and fails on a real fault."""

import datetime as dt
import json

import pandas as pd
import pytest

from nba_backfill.assets.raw.parsers import gamelog
from nba_backfill.assets.raw.parsing import ParseContext
from nba_backfill.assets.tables import conform
from nba_backfill.checks import raw as checks
from nba_backfill.checks.lake import files_landed
from nba_backfill.assets.scrapers.schedule import ScheduledGame
from nba_backfill.source.data_store import P_HEADERS, PARQUET_PATH

DAY = "2023-11-02"


@pytest.fixture(scope="module")
def logs():
    return pd.read_parquet(PARQUET_PATH)


def players_for(logs: pd.DataFrame, day: str) -> pd.DataFrame:
    rows = logs[logs.GAME_DATE == day].copy()
    rows["SEASON_ID"] = rows["SEASON_ID"].astype(str)
    rows["FANTASY_PTS"], rows["VIDEO_AVAILABLE"] = 0.0, 1
    body = {"resultSets": [{"name": "LeagueGameLog", "headers": P_HEADERS,
                            "rowSet": json.loads(rows[P_HEADERS].to_json(orient="values"))}]}
    parsed = gamelog.parse_player_gamelog({"k": body}, ParseContext(day=dt.date.fromisoformat(day)))
    frame = pd.DataFrame(parsed)
    frame["processed_at"] = pd.Timestamp.now(tz="UTC")
    return conform(frame, gamelog.COLS)


def schedule_for(players: pd.DataFrame) -> pd.DataFrame:
    """Schedule rows (the columns the checks read) derived from the players' real results."""
    games = []
    for (gid, code), part in players.groupby(["nba_game_id", "game_id"]):
        home = part[part.is_home]
        away = part[~part.is_home]
        games.append({"nba_game_id": gid, "game_id": code, "game_status": 3,
                      "season_type": "Regular Season",
                      "home_team_tricode": home.team_abbr.iloc[0], "away_team_tricode": away.team_abbr.iloc[0],
                      "home_team_score": int(home.points.sum()), "away_team_score": int(away.points.sum())})
    return pd.DataFrame(games)


@pytest.fixture(scope="module")
def clean(logs):
    players = players_for(logs, DAY)
    return players, schedule_for(players)


def test_clean_day_passes_every_check(clean):
    players, schedule = clean
    expected = checks.expected_games(schedule)
    assert len(expected) == 4
    assert checks.games_complete(players, expected).passed
    assert checks.teams_complete(players, expected, "player").passed
    assert checks.points_match(players, expected, "player", "points").passed
    assert checks.keys_unique(players, ["game_id", "player_id"]).passed
    assert checks.keys_not_null(players, ["game_id", "player_lookup"]).passed
    dist = checks.points_distribution(players, 2023, "points", "minutes_decimal")
    assert dist.passed and dist.counts["pts_mean_expected"] == checks.distribution_summary()["2023-24"][
        "stats_MIN_gt0"]["PTS"]["mean"]


def test_missing_game_is_named(clean):
    players, schedule = clean
    expected = checks.expected_games(schedule)
    dropped = expected.game_id.iloc[1]
    outcome = checks.games_complete(players[players.game_id != dropped], expected)
    assert not outcome.passed and outcome.offending == [dropped]
    assert outcome.counts["games_missing"] == 1 and dropped in outcome.message


def test_shifted_date_shows_as_missing_and_unexpected_games(logs, clean):
    _, schedule = clean
    other_day = players_for(logs, "2023-11-03")  # rows of another date under this partition
    outcome = checks.games_complete(other_day, checks.expected_games(schedule))
    assert not outcome.passed
    assert outcome.counts["games_missing"] == 4 and outcome.counts["games_unexpected"] == 7


def test_missing_team_and_short_roster(clean):
    players, schedule = clean
    expected = checks.expected_games(schedule)
    game = expected.iloc[0]
    no_home = players[~((players.game_id == game.game_id) & (players.team_abbr == game.home_team_tricode))]
    outcome = checks.teams_complete(no_home, expected, "player")
    assert not outcome.passed and outcome.offending == [f"{game.game_id} {game.home_team_tricode}: 0 players"]
    teams = pd.DataFrame({"game_id": [game.game_id], "team_abbr": [game.home_team_tricode]})
    team_outcome = checks.teams_complete(teams, expected, "team")
    assert not team_outcome.passed and len(team_outcome.offending) == 4  # 3 games absent, 1 half


def test_zeroed_points_fail_points_match_and_distribution(clean):
    players, schedule = clean
    zeroed = players.assign(points=0)
    match = checks.points_match(zeroed, checks.expected_games(schedule), "player", "points")
    assert not match.passed and match.counts["mismatches"] == 8
    dist = checks.points_distribution(zeroed, 2023, "points", "minutes_decimal")
    assert not dist.passed and dist.counts["pts_z"] < -10  # 85 player-games: z = -11


def test_duplicate_rows_and_null_keys(clean):
    players, _ = clean
    doubled = pd.concat([players, players.head(3)])
    outcome = checks.keys_unique(doubled, ["game_id", "player_id"])
    assert not outcome.passed and outcome.counts["duplicate_rows"] == 6 and len(outcome.offending) == 3
    nulled = players.copy()
    nulled.loc[nulled.index[:2], "player_lookup"] = None
    nulls = checks.keys_not_null(nulled, ["game_id", "player_lookup"])
    assert not nulls.passed and nulls.offending == ["player_lookup: 2 NULL"]


def test_distribution_threshold_never_flags_a_real_date(logs):
    summary = checks.distribution_summary()
    played = logs[logs.MIN > 0]
    worst = 0.0
    for (season, _), day in played.groupby(["SEASON_LABEL", "GAME_DATE"]):
        frame = pd.DataFrame({"points": day.PTS, "minutes_decimal": day.MIN.astype(float)})
        outcome = checks.points_distribution(frame, int(season[:4]), "points", "minutes_decimal", summary)
        assert outcome.passed, (season, outcome.message)
        worst = max(worst, abs(outcome.counts["pts_z"]), abs(outcome.counts["min_z"]))
    assert 3.5 < worst < checks.DISTRIBUTION_Z_MAX


def test_off_day_and_unknown_season_pass(clean):
    players, schedule = clean
    empty = players.head(0)
    nothing = checks.expected_games(schedule.head(0))
    for outcome in (checks.games_complete(empty, nothing), checks.teams_complete(empty, nothing, "player"),
                    checks.points_match(empty, nothing, "player", "points"),
                    checks.keys_unique(empty, ["game_id"]), checks.points_distribution(empty, None, "points",
                                                                                       "minutes_decimal")):
        assert outcome.passed
    assert checks.points_distribution(players, 2030, "points", "minutes_decimal").passed


def test_files_landed_names_games_without_data():
    games = [ScheduledGame("0022300128", "Regular Season", 3, "BOS", "NYK"),
             ScheduledGame("0022300129", "Regular Season", 3, "LAL", "SAC")]
    empty_box = {"boxScoreMisc": {"gameId": "0022300129", "homeTeamId": 0, "awayTeamId": 0}}
    full_box = {"boxScoreMisc": {"gameId": "0022300128", "homeTeamId": 1, "awayTeamId": 2}}
    outcome = files_landed("stats_per_game", "boxscoremiscv3",
                           {"0022300128.json": full_box, "0022300129.json": empty_box}, games)
    assert not outcome.passed and outcome.offending == ["0022300129"]
    bdl = {"box_scores.json": {"data": [{"home_team": {"abbreviation": "BOS"},
                                         "visitor_team": {"abbreviation": "NYK"}}]}}
    outcome = files_landed("bdl_date", "box_scores", bdl, games)
    assert outcome.offending == ["0022300129"] and outcome.counts["games_landed"] == 1
