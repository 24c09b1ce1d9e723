"""boxscoresummaryv2 -> nba_raw.nbac_game_summary rows (one per team per game).

LineScore gives each team's quarter points and record, OtherStats the paint / second-chance /
fast-break points, lead changes and turnovers, GameSummary home/visitor ids and GameInfo the
attendance; officials and inactive players are kept as arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nba_backfill.assets.raw.parsing import (
    ParseContext,
    ParseError,
    require,
    result_set,
    season_year_of_game,
)
from nba_backfill.assets.tables import Col

OTHER = (  # (OtherStats column, raw column)
    ("PTS_PAINT", "points_paint"),
    ("PTS_2ND_CHANCE", "points_second_chance"),
    ("PTS_FB", "points_fast_break"),
    ("LARGEST_LEAD", "largest_lead"),
    ("LEAD_CHANGES", "lead_changes"),
    ("TIMES_TIED", "times_tied"),
    ("TEAM_TURNOVERS", "team_turnovers"),
    ("TOTAL_TURNOVERS", "total_turnovers"),
    ("TEAM_REBOUNDS", "team_rebounds"),
    ("PTS_OFF_TO", "points_off_turnovers"),
)
QUARTERS = tuple((f"PTS_QTR{q}", f"points_q{q}") for q in range(1, 5))
OVERTIMES = tuple(f"PTS_OT{n}" for n in range(1, 11))

COLS = (
    Col("game_id", "STRING", "SPEC game code YYYYMMDD_AWAY_HOME"),
    Col("nba_game_id", "STRING"),
    Col("game_date", "DATE"),
    Col("season_year", "INT64"),
    Col("team_id", "INT64"),
    Col("team_abbr", "STRING"),
    Col("opponent_team_abbr", "STRING"),
    Col("is_home", "BOOL"),
    Col("game_status_text", "STRING"),
    Col("team_wins_losses", "STRING", "record after the game, e.g. 2-4"),
    *(Col(col, "INT64") for _, col in QUARTERS),
    Col("points_ot", "INT64", "all overtime periods"),
    Col("overtime_periods", "INT64"),
    Col("points", "INT64"),
    *(Col(col, "INT64") for _, col in OTHER),
    Col("attendance", "INT64"),
    Col("game_duration", "STRING", "H:MM"),
    Col("officials", "ARRAY<STRING>"),
    Col("inactive_players", "ARRAY<STRING>", "inactive players of this team"),
    Col("processed_at", "TIMESTAMP"),
)


def parse_game_summary(objects: Mapping[str, Any], ctx: ParseContext) -> list[dict[str, Any]]:
    rows = []
    for key, body in sorted(objects.items()):
        summary = result_set(body, "GameSummary", key)
        if len(summary) != 1:
            raise ParseError(key, f"field resultSets.GameSummary: {len(summary)} rows, expected 1")
        s = summary[0]
        where = "resultSets.GameSummary.rowSet.0"
        gid = require(s, "GAME_ID", str, key, where)
        day = require(s, "GAME_DATE_EST", str, key, where)[:10]
        if day != ctx.day.isoformat():
            raise ParseError(key, f"field {where}.GAME_DATE_EST: {day} is not the partition {ctx.day}")
        ref = ctx.game(gid, key)
        home_id = require(s, "HOME_TEAM_ID", int, key, where)
        if home_id != ref.home_team_id:
            raise ParseError(key, f"field {where}.HOME_TEAM_ID: {home_id} but the schedule has "
                                  f"{ref.home_team_id} at home")
        status = require(s, "GAME_STATUS_TEXT", str, key, where, nullable=True)
        other = {r["TEAM_ID"]: r for r in result_set(body, "OtherStats", key)}
        info = result_set(body, "GameInfo", key)
        attendance = require(info[0], "ATTENDANCE", int, key, "resultSets.GameInfo.rowSet.0",
                             nullable=True) if info else None
        duration = require(info[0], "GAME_TIME", str, key, "resultSets.GameInfo.rowSet.0",
                           nullable=True) if info else None
        officials = [f"{o.get('FIRST_NAME', '')} {o.get('LAST_NAME', '')}".strip()
                     for o in result_set(body, "Officials", key)]
        inactive: dict[int, list[str]] = {}
        for p in result_set(body, "InactivePlayers", key):
            name = f"{p.get('FIRST_NAME') or ''} {p.get('LAST_NAME') or ''}".strip()
            inactive.setdefault(p.get("TEAM_ID"), []).append(name)
        line = result_set(body, "LineScore", key)
        if len(line) != 2:
            raise ParseError(key, f"field resultSets.LineScore: {len(line)} rows, expected 2")
        periods_ot = 0  # an overtime was played when either team has points in it
        for i, r in enumerate(line):
            for n, c in enumerate(OVERTIMES, start=1):
                if require(r, c, int, key, f"resultSets.LineScore.rowSet.{i}", nullable=True):
                    periods_ot = max(periods_ot, n)
        for i, r in enumerate(line):
            lw = f"resultSets.LineScore.rowSet.{i}"
            team_id = require(r, "TEAM_ID", int, key, lw)
            side = ref.side(team_id)
            if side is None:
                raise ParseError(key, f"field {lw}.TEAM_ID: team {team_id} does not play {gid}")
            is_home, abbr, opp = side
            ots = [require(r, c, int, key, lw, nullable=True) or 0 for c in OVERTIMES]
            row = {
                "game_id": ref.game_id,
                "nba_game_id": gid,
                "game_date": ctx.day,
                "season_year": season_year_of_game(gid),
                "team_id": team_id,
                "team_abbr": abbr,
                "opponent_team_abbr": opp,
                "is_home": is_home,
                "game_status_text": status.strip() if status else None,
                "team_wins_losses": require(r, "TEAM_WINS_LOSSES", str, key, lw, nullable=True),
                "points_ot": sum(ots),
                "overtime_periods": periods_ot,
                "points": require(r, "PTS", int, key, lw),
                "attendance": attendance,
                "game_duration": duration,
                "officials": officials,
                "inactive_players": inactive.get(team_id, []),
            }
            for src, col in QUARTERS:
                row[col] = require(r, src, int, key, lw, nullable=True)
            o = other.get(team_id)
            for src, col in OTHER:
                row[col] = require(o, src, int, key, f"resultSets.OtherStats[TEAM_ID={team_id}]",
                                   nullable=True) if o else None
            rows.append(row)
    return rows
