"""cdn.nba.com liveData playbyplay -> nba_raw.nbac_play_by_play rows (one per action).

liveData names players by family name only, so lookups come from the date's player box score
(`ParseContext.player_lookups`, NBA player id -> player_lookup): player_1 is the actor,
player_2 the assister of a made shot, player_3 the blocker of a blocked shot. An id missing from
the box score (e.g. a technical foul on a bench player who never checked in) keeps its id and a
NULL lookup. shot_x / shot_y are the feed's court coordinates (x, y in percent of the court);
shot_area is the feed's `area` where it publishes one (NULL otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.raw.parsing import ParseContext, ParseError, Strict, validate
from nba_backfill.assets.tables import Col

FIELD_GOALS = {"2pt": "2PT", "3pt": "3PT"}


class _Action(Strict):
    actionNumber: int
    orderNumber: int
    clock: str
    period: int
    actionType: str
    subType: str | None = None
    personId: int | None = None
    teamId: int | None = None
    teamTricode: str | None = None
    shotResult: str | None = None
    isFieldGoal: int | None = None
    x: float | None = None
    y: float | None = None
    shotDistance: float | None = None
    area: str | None = None
    scoreHome: str
    scoreAway: str
    assistPersonId: int | None = None
    blockPersonId: int | None = None
    description: str | None = None


class _Game(Strict):
    gameId: str
    actions: list[_Action]


class PlayByPlayResponse(Strict):
    game: _Game


COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("event_id", "INT64", "liveData actionNumber"),
    Col("event_sequence", "INT64", "1.. in the feed's orderNumber order"),
    Col("period", "INT64"),
    Col("clock", "STRING", "time left in the period, ISO-8601 duration as published (PT11M58.00S)"),
    Col("event_type", "STRING", "liveData actionType (2pt, 3pt, freethrow, rebound, turnover, ...)"),
    Col("event_action_type", "STRING", "liveData subType"),
    Col("player_1_id", "INT64"),
    Col("player_1_lookup", "STRING"),
    Col("player_1_team_abbr", "STRING"),
    Col("player_2_id", "INT64", "assister on made shots"),
    Col("player_2_lookup", "STRING"),
    Col("player_3_id", "INT64", "blocker on blocked shots"),
    Col("player_3_lookup", "STRING"),
    Col("shot_made", "BOOL", "field goals and free throws"),
    Col("shot_type", "STRING", "2PT / 3PT; NULL for non-field-goals"),
    Col("shot_x", "FLOAT64"),
    Col("shot_y", "FLOAT64"),
    Col("shot_distance", "FLOAT64", "feet"),
    Col("shot_area", "STRING"),
    Col("score_home", "INT64"),
    Col("score_away", "INT64"),
    Col("description", "STRING"),
    Col("processed_at", "TIMESTAMP"),
)


def _score(value: str, key: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ParseError(key, f"field {where}: score {value!r} is not an integer") from None


def parse_play_by_play(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    lookups = ctx.player_lookups
    for key, body in sorted(objects.items()):
        game = validate(PlayByPlayResponse, body, key).game
        ref = ctx.game(game.gameId, key)
        ordered = sorted(enumerate(game.actions), key=lambda ia: (ia[1].orderNumber, ia[0]))
        for seq, (i, a) in enumerate(ordered, start=1):
            where = f"game.actions.{i}"
            player_1 = a.personId or None
            shot_type = FIELD_GOALS.get(a.actionType) if a.isFieldGoal else None
            is_shot = a.shotResult in ("Made", "Missed")
            made = a.shotResult == "Made" if is_shot else None
            assister = a.assistPersonId if made else None
            blocker = a.blockPersonId if shot_type else None
            rows.append({
                "game_id": ref.game_id,
                "nba_game_id": game.gameId,
                "game_date": ctx.day,
                "event_id": a.actionNumber,
                "event_sequence": seq,
                "period": a.period,
                "clock": a.clock,
                "event_type": a.actionType,
                "event_action_type": a.subType or None,
                "player_1_id": player_1,
                "player_1_lookup": lookups.get(player_1) if player_1 else None,
                "player_1_team_abbr": a.teamTricode,
                "player_2_id": assister,
                "player_2_lookup": lookups.get(assister) if assister else None,
                "player_3_id": blocker,
                "player_3_lookup": lookups.get(blocker) if blocker else None,
                "shot_made": made,
                "shot_type": shot_type,
                "shot_x": a.x if shot_type else None,
                "shot_y": a.y if shot_type else None,
                "shot_distance": a.shotDistance if shot_type else None,
                "shot_area": a.area if shot_type else None,
                "score_home": _score(a.scoreHome, key, f"{where}.scoreHome"),
                "score_away": _score(a.scoreAway, key, f"{where}.scoreAway"),
                "description": a.description,
            })
    return rows
