"""stats.nba.com boxscoresummaryv2 and boxscoretraditionalv2 (resultSets shape).

An unknown (or dropped) 10-digit GameID answers 200 with the result sets' headers and empty
rowSets; a malformed GameID answers 400.
"""

from __future__ import annotations

import datetime as dt
import random

from nba_backfill.source.box import GameBox, TeamBox, game_box, min_str, pct
from nba_backfill.source.common import Req, Resp, game_id_param, json_resp, result_set
from nba_backfill.source.data_store import get_store
from nba_backfill.source.pbp import build_plan
from nba_backfill.source.stats_nba import (
    LAST_MEETING_HEADERS, LINESCORE_HEADERS, SERIES_HEADERS, est, gamecode, last_meeting_row,
    line_score_row, series_row,
)

SUMMARY_HEADERS = ["GAME_DATE_EST", "GAME_SEQUENCE", "GAME_ID", "GAME_STATUS_ID", "GAME_STATUS_TEXT",
                   "GAMECODE", "HOME_TEAM_ID", "VISITOR_TEAM_ID", "SEASON", "LIVE_PERIOD",
                   "LIVE_PC_TIME", "NATL_TV_BROADCASTER_ABBREVIATION", "LIVE_PERIOD_TIME_BCAST",
                   "WH_STATUS"]
OTHER_HEADERS = ["LEAGUE_ID", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_CITY", "PTS_PAINT",
                 "PTS_2ND_CHANCE", "PTS_FB", "LARGEST_LEAD", "LEAD_CHANGES", "TIMES_TIED",
                 "TEAM_TURNOVERS", "TOTAL_TURNOVERS", "TEAM_REBOUNDS", "PTS_OFF_TO"]
BOX_STATS = ["FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB",
             "REB", "AST", "STL", "BLK", "TO", "PF", "PTS"]
PLAYER_HEADERS = ["GAME_ID", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_CITY", "PLAYER_ID", "PLAYER_NAME",
                  "NICKNAME", "START_POSITION", "COMMENT", "MIN"] + BOX_STATS + ["PLUS_MINUS"]
TEAM_HEADERS = ["GAME_ID", "TEAM_ID", "TEAM_NAME", "TEAM_ABBREVIATION", "TEAM_CITY", "MIN"] + BOX_STATS + [
    "PLUS_MINUS"]
STARTER_HEADERS = ["GAME_ID", "TEAM_ID", "TEAM_NAME", "TEAM_ABBREVIATION", "TEAM_CITY", "STARTERS_BENCH",
                   "MIN"] + BOX_STATS


def _stats(s) -> list:
    return [s["FGM"], s["FGA"], pct(s["FGM"], s["FGA"]), s["FG3M"], s["FG3A"], pct(s["FG3M"], s["FG3A"]),
            s["FTM"], s["FTA"], pct(s["FTM"], s["FTA"]), s["OREB"], s["DREB"], s["REB"], s["AST"],
            s["STL"], s["BLK"], s["TOV"], s["PF"], s["PTS"]]


def _known_box(req: Req) -> tuple[str, GameBox | None]:
    gid = game_id_param(req)
    if gid in req.drop or gid not in get_store().games:
        return gid, None
    return gid, game_box(gid)


def boxscoretraditionalv2(req: Req) -> Resp:
    gid, box = _known_box(req)
    players, teams, starters = [], [], []
    if box is not None:
        for tb in (box.away, box.home):
            t = tb.team
            for p in tb.players:
                players.append([gid, t.team_id, t.tricode, t.city, p.pid, p.name, p.first or p.last,
                                p.position, "", min_str(p["MIN"]), *_stats(p.line),
                                float(p["PLUS_MINUS"])])
        for tb in (box.home, box.away):
            t = tb.team
            teams.append([gid, t.team_id, t.name, t.tricode, t.city, f"{tb.minutes}:00", *_stats(tb.totals),
                          float(tb.totals["PLUS_MINUS"])])
            for label, is_starter in (("Starters", True), ("Bench", False)):
                sub = tb.subset(is_starter)
                starters.append([gid, t.team_id, t.name, t.tricode, t.city, label, f"{sub['MIN']}:00",
                                 *_stats(sub)])
    params = {"GameID": gid, "StartPeriod": int(req.get("StartPeriod", "0") or 0),
              "EndPeriod": int(req.get("EndPeriod", "0") or 0), "StartRange": int(req.get("StartRange", "0") or 0),
              "EndRange": int(req.get("EndRange", "0") or 0), "RangeType": int(req.get("RangeType", "0") or 0)}
    return json_resp({"resource": "boxscore", "parameters": params,
                      "resultSets": [result_set("PlayerStats", PLAYER_HEADERS, players),
                                     result_set("TeamStats", TEAM_HEADERS, teams),
                                     result_set("TeamStarterBenchStats", STARTER_HEADERS, starters)]})


def _other_row(box: GameBox, tb: TeamBox, plan) -> list:
    s = 0 if tb.is_home else 1
    c = plan.team[s]
    return ["00", tb.team_id, tb.team.tricode, tb.team.city, c["pts_paint"], c["pts_2nd"], c["pts_fb"],
            c["largest_lead"], c["lead_changes"], c["times_tied"], 0, tb.totals["TOV"], c["team_reb"],
            c["pts_off_to"]]


def boxscoresummaryv2(req: Req) -> Resp:
    gid, box = _known_box(req)
    summary, other, info, lines, meeting, series, video = [], [], [], [], [], [], []
    if box is not None:
        g = box.game
        plan = build_plan(gid)
        last_q = f"Q{g.periods}" if g.periods <= 4 else f"OT{g.periods - 4}"
        summary.append([est(g.date), g.sequence, gid, 3, "Final", gamecode(g), g.home_id, g.away_id,
                        str(g.season_year), g.periods, "     ", None, f"{last_q}       - ", 1])
        other = [_other_row(box, box.home, plan), _other_row(box, box.away, plan)]
        rng = random.Random(int(gid) + 99)
        minutes = 125 + rng.randint(0, 25) + 13 * (g.periods - 4)
        day = dt.date.fromisoformat(g.date)
        info.append([f"{day:%A, %B %d, %Y}", rng.randint(15200, 20900), f"{minutes // 60}:{minutes % 60:02d}"])
        lines = [line_score_row(g, g.away_id, False), line_score_row(g, g.home_id, False)]
        meeting = [last_meeting_row(g)]
        series = [series_row(g)]
        video = [[gid, 1, 1, 1, 1, 1, 0]]
    sets = [result_set("GameSummary", SUMMARY_HEADERS, summary),
            result_set("OtherStats", OTHER_HEADERS, other),
            result_set("Officials", ["OFFICIAL_ID", "FIRST_NAME", "LAST_NAME", "JERSEY_NUM"], []),
            result_set("InactivePlayers", ["PLAYER_ID", "FIRST_NAME", "LAST_NAME", "JERSEY_NUM", "TEAM_ID",
                                           "TEAM_CITY", "TEAM_NAME", "TEAM_ABBREVIATION"], []),
            result_set("GameInfo", ["GAME_DATE", "ATTENDANCE", "GAME_TIME"], info),
            result_set("LineScore", LINESCORE_HEADERS, lines),
            result_set("LastMeeting", LAST_MEETING_HEADERS, meeting),
            result_set("SeasonSeries", SERIES_HEADERS, series),
            result_set("AvailableVideo", ["GAME_ID", "VIDEO_AVAILABLE_FLAG", "PT_AVAILABLE",
                                          "PT_XYZ_AVAILABLE", "WH_STATUS", "HUSTLE_STATUS",
                                          "HISTORICAL_STATUS"], video)]
    return json_resp({"resource": "boxscoresummary", "parameters": {"GameID": gid}, "resultSets": sets})
