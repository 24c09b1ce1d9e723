"""scheduleleaguev2 (the landed per-date slice) -> nba_raw.nbac_schedule rows, one per game."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.common import game_code
from nba_backfill.assets.raw.parsing import ParseContext, ParseError, Strict, validate
from nba_backfill.assets.scrapers.schedule import FINAL_STATUS, GAME_TYPES, ScheduleError, game_day
from nba_backfill.assets.tables import Col

DATA_SOURCE = "nba.com scheduleleaguev2"


class _Team(Strict):
    teamId: int
    teamTricode: str
    teamName: str | None = None
    teamCity: str | None = None
    score: int | None = None


class _Game(Strict):
    gameId: str
    gameStatus: int
    gameStatusText: str
    gameSequence: int | None = None
    gameDateEst: str
    gameDateTimeEst: str | None = None
    arenaName: str | None = None
    isNeutral: bool | None = None
    postponedStatus: str | None = None
    homeTeam: _Team
    awayTeam: _Team


class _Date(Strict):
    gameDate: str
    games: list[_Game]


class _League(Strict):
    seasonYear: str
    gameDates: list[_Date]


class ScheduleResponse(Strict):
    leagueSchedule: _League


COLS = (
    Col("nba_game_id", "STRING", "NBA numeric game id ('0022300061')"),
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("game_date", "DATE", "US Eastern game date (partition)"),
    Col("season_year", "INT64", "season start year"),
    Col("season_type", "STRING", "Regular Season / PlayIn / Playoffs / All Star / Pre Season / NBA Cup Final"),
    Col("game_sequence", "INT64"),
    Col("game_status", "INT64", "1 scheduled, 2 live, 3 final"),
    Col("game_status_text", "STRING"),
    Col("game_time_est", "STRING", "scheduled tip-off, US Eastern, HH:MM"),
    Col("home_team_tricode", "STRING"),
    Col("away_team_tricode", "STRING"),
    Col("home_team_id", "INT64"),
    Col("away_team_id", "INT64"),
    Col("home_team_score", "INT64", "NULL until the game is final"),
    Col("away_team_score", "INT64", "NULL until the game is final"),
    Col("winning_team_tricode", "STRING", "NULL until the game is final"),
    Col("is_regular_season", "BOOL"),
    Col("is_playoffs", "BOOL", "play-in and playoff games"),
    Col("is_all_star", "BOOL"),
    Col("arena_name", "STRING"),
    Col("is_neutral", "BOOL"),
    Col("postponed_status", "STRING"),
    Col("data_source", "STRING"),
    Col("processed_at", "TIMESTAMP"),
)


def parse_schedule(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, body in sorted(objects.items()):
        schedule = validate(ScheduleResponse, body, key)
        season_year = int(schedule.leagueSchedule.seasonYear[:4])
        for d_i, entry in enumerate(schedule.leagueSchedule.gameDates):
            for g_i, g in enumerate(entry.games):
                where = f"leagueSchedule.gameDates.{d_i}.games.{g_i}"
                try:
                    day = game_day({"gameDateEst": g.gameDateEst})
                except ScheduleError as exc:
                    raise ParseError(key, f"field {where}.gameDateEst: {exc}") from None
                if day != ctx.day.isoformat():
                    raise ParseError(key, f"field {where}.gameDateEst: game {g.gameId} is dated "
                                          f"{day}, not {ctx.day}")
                season_type = GAME_TYPES.get(g.gameId[:3])
                if season_type is None:
                    raise ParseError(key, f"field {where}.gameId: unknown game type in {g.gameId!r}")
                final = g.gameStatus == FINAL_STATUS
                home, away = g.homeTeam, g.awayTeam
                winner = None
                if final and home.score is not None and away.score is not None:
                    winner = home.teamTricode if home.score > away.score else away.teamTricode
                rows.append({
                    "nba_game_id": g.gameId,
                    "game_id": game_code(day, away.teamTricode, home.teamTricode),
                    "game_date": day,
                    "season_year": season_year,
                    "season_type": season_type,
                    "game_sequence": g.gameSequence,
                    "game_status": g.gameStatus,
                    "game_status_text": g.gameStatusText.strip(),
                    "game_time_est": (g.gameDateTimeEst or "")[11:16] or None,
                    "home_team_tricode": home.teamTricode,
                    "away_team_tricode": away.teamTricode,
                    "home_team_id": home.teamId,
                    "away_team_id": away.teamId,
                    "home_team_score": home.score if final else None,
                    "away_team_score": away.score if final else None,
                    "winning_team_tricode": winner,
                    "is_regular_season": season_type == "Regular Season",
                    "is_playoffs": season_type in ("Playoffs", "PlayIn"),
                    "is_all_star": season_type == "All Star",
                    "arena_name": g.arenaName,
                    "is_neutral": g.isNeutral,
                    "postponed_status": g.postponedStatus,
                    "data_source": DATA_SOURCE,
                })
    return rows
