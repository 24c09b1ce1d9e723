"""stats.nba.com v3 box scores (boxScoreTraditional/Advanced/Misc/Scoring/Usage/FourFactors),
boxscoredefensivev2 and boxscoreplayertrackv3, in the nested v3 shape of the recorded samples.

Traditional numbers are the real box line; the others are derived by formula (advanced.py) or
from the generated play-by-play plan (paint/2nd-chance/fast-break/off-turnover points, assisted
shots, matchup and tracking numbers, seeded by game id + player id). An unknown or dropped
10-digit GameID answers 200 with teamId 0 and empty players; a malformed one answers 400.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from nba_backfill.source import advanced as adv
from nba_backfill.source.box import GameBox, TeamBox, game_box, min_str
from nba_backfill.source.common import Req, Resp, game_id_param, json_resp
from nba_backfill.source.data_store import get_store
from nba_backfill.source.pbp import Plan, build_plan
from nba_backfill.source.pbp_events import RA

V3 = {  # endpoint -> (top-level key, nba.cloud resource name)
    "boxscoretraditionalv3": ("boxScoreTraditional", "boxscoretraditional"),
    "boxscoreadvancedv3": ("boxScoreAdvanced", "boxscoreadvanced"),
    "boxscoremiscv3": ("boxScoreMisc", "boxscoremisc"),
    "boxscorescoringv3": ("boxScoreScoring", "boxscorescoring"),
    "boxscoreusagev3": ("boxScoreUsage", "boxscoreusage"),
    "boxscorefourfactorsv3": ("boxScoreFourFactors", "boxscorefourfactors"),
    "boxscoredefensivev2": ("boxScoreDefensive", "boxscoredefensive"),
    "boxscoreplayertrackv3": ("boxScorePlayerTrack", "boxscoreplayertrack"),
}
_EMPTY_TEAM = {"teamId": 0, "teamCity": "", "teamName": "", "teamTricode": "", "teamSlug": "",
               "players": [], "statistics": {}}


def _p(x: float) -> float:
    return round(x, 3)


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


class _Ctx:
    def __init__(self, box: GameBox, endpoint: str):
        self.box, self.endpoint = box, endpoint
        self.plan: Plan | None = None if endpoint in ("boxscoretraditionalv3", "boxscoreadvancedv3",
                                                      "boxscorefourfactorsv3") else build_plan(box.game.game_id)
        self.defense = self._defense() if endpoint in ("boxscoredefensivev2", "boxscoreplayertrackv3") else {}

    def _defense(self) -> dict[int, Counter]:
        out: dict[int, Counter] = {}
        for sh in self.plan.shots:
            c = out.setdefault(sh.defender, Counter())
            c["fga"] += 1
            c["fgm"] += sh.made
            c["pts"] += sh.pts if sh.made else 0
            c["ast"] += bool(sh.made and sh.assist)
            if sh.pts == 3:
                c["fg3a"] += 1
                c["fg3m"] += sh.made
            if sh.zone == RA:
                c["rim_a"] += 1
                c["rim_m"] += sh.made
        for pos in self.plan.possessions:
            for u in pos.units:
                if u.kind == "tov":
                    out.setdefault(u.ev.defender, Counter())["tov"] += 1
        return out

    def rng(self, pid: int) -> random.Random:
        return random.Random(int(self.box.game.game_id) * 1_000_003 + pid)

    # ---------------------------------------------------------------- statistics blocks
    def player_stats(self, tb: TeamBox, p) -> dict:
        ep, box = self.endpoint, self.box
        ob = box.opponent(tb)
        m, ms = p["MIN"], min_str(p["MIN"])
        if ep == "boxscoretraditionalv3":
            return adv.traditional(p.line, ms, p["PLUS_MINUS"])
        ctx = adv.TeamContext(tb.totals, ob.totals, tb.minutes)
        if ep == "boxscoreadvancedv3":
            return adv.advanced(p.line, m, ctx, p["PLUS_MINUS"], ms)
        if ep == "boxscorefourfactorsv3":
            return adv.four_factors(p.line, ctx, ms)
        s = 0 if tb.is_home else 1
        extra = self.plan.player.get(p.pid, Counter())
        if ep == "boxscoremiscv3":
            share = adv.div(m, ctx.tm5)
            opp = self.plan.team[1 - s]
            return {"minutes": ms, "pointsOffTurnovers": extra["pts_off_to"],
                    "pointsSecondChance": extra["pts_2nd"], "pointsFastBreak": extra["pts_fb"],
                    "pointsPaint": extra["pts_paint"],
                    "oppPointsOffTurnovers": round(opp["pts_off_to"] * share),
                    "oppPointsSecondChance": round(opp["pts_2nd"] * share),
                    "oppPointsFastBreak": round(opp["pts_fb"] * share),
                    "oppPointsPaint": round(opp["pts_paint"] * share),
                    "blocks": p["BLK"], "blocksAgainst": extra["blocks_against"],
                    "foulsPersonal": p["PF"], "foulsDrawn": extra["fouls_drawn"]}
        if ep == "boxscorescoringv3":
            return adv.scoring(p.line, extra, ms)
        if ep == "boxscoreusagev3":
            return adv.usage(p.line, extra, tb.totals, self.plan.team[s], adv.div(m, ctx.tm5), ms)
        if ep == "boxscoredefensivev2":
            return self._defensive(p, ctx)
        return self._track(p)

    def team_stats(self, tb: TeamBox) -> dict:
        ep, box = self.endpoint, self.box
        ob = box.opponent(tb)
        ms = f"{tb.minutes}:00"
        t = tb.totals
        if ep == "boxscoretraditionalv3":
            return adv.traditional(t, ms, t["PLUS_MINUS"])
        ctx = adv.TeamContext(t, ob.totals, tb.minutes)
        if ep == "boxscoreadvancedv3":
            return adv.advanced(t, ctx.tm5, ctx, t["PLUS_MINUS"], ms, is_team=True)
        if ep == "boxscorefourfactorsv3":
            return adv.four_factors(t, ctx, ms)
        s = 0 if tb.is_home else 1
        mine, opp = self.plan.team[s], self.plan.team[1 - s]
        if ep == "boxscoremiscv3":
            return {"minutes": ms, "pointsOffTurnovers": mine["pts_off_to"],
                    "pointsSecondChance": mine["pts_2nd"], "pointsFastBreak": mine["pts_fb"],
                    "pointsPaint": mine["pts_paint"], "oppPointsOffTurnovers": opp["pts_off_to"],
                    "oppPointsSecondChance": opp["pts_2nd"], "oppPointsFastBreak": opp["pts_fb"],
                    "oppPointsPaint": opp["pts_paint"], "blocks": t["BLK"],
                    "blocksAgainst": mine["blocks_against"], "foulsPersonal": t["PF"],
                    "foulsDrawn": mine["fouls_drawn"]}
        if ep == "boxscorescoringv3":
            return adv.scoring(t, mine, ms)
        if ep == "boxscoreusagev3":
            return adv.usage(t, mine, t, mine, 1.0, ms)
        if ep == "boxscoredefensivev2":
            return {"minutes": None}
        rows = [self._track(p) for p in tb.players]
        out = {"minutes": ms, "distance": round(sum(r["distance"] for r in rows), 2)}
        for k in ("reboundChancesOffensive", "reboundChancesDefensive", "reboundChancesTotal", "touches",
                  "secondaryAssists", "freeThrowAssists", "passes", "assists", "contestedFieldGoalsMade",
                  "contestedFieldGoalsAttempted", "contestedFieldGoalPercentage",
                  "uncontestedFieldGoalsMade", "uncontestedFieldGoalsAttempted",
                  "uncontestedFieldGoalsPercentage", "fieldGoalPercentage", "defendedAtRimFieldGoalsMade",
                  "defendedAtRimFieldGoalsAttempted", "defendedAtRimFieldGoalPercentage"):
            out[k] = sum(r[k] for r in rows) if not k.endswith(("Percentage", "sPercentage")) else 0.0
        out["contestedFieldGoalPercentage"] = _p(adv.div(out["contestedFieldGoalsMade"], out["contestedFieldGoalsAttempted"]))
        out["uncontestedFieldGoalsPercentage"] = _p(adv.div(out["uncontestedFieldGoalsMade"], out["uncontestedFieldGoalsAttempted"]))
        out["fieldGoalPercentage"] = _p(adv.div(t["FGM"], t["FGA"]))
        out["defendedAtRimFieldGoalPercentage"] = _p(adv.div(out["defendedAtRimFieldGoalsMade"], out["defendedAtRimFieldGoalsAttempted"]))
        return out

    def _defensive(self, p, ctx) -> dict:
        c = self.defense.get(p.pid, Counter())
        r = self.rng(p.pid)
        m = p["MIN"]
        return {"matchupMinutes": _mmss(m * 60 * r.uniform(0.28, 0.42)),
                "partialPossessions": round(ctx.poss_t * adv.div(m, ctx.tm5) * r.uniform(0.55, 0.8), 1),
                "switchesOn": r.randint(0, 3) if m else 0, "playerPoints": c["pts"],
                "defensiveRebounds": p["DREB"], "matchupAssists": c["ast"], "matchupTurnovers": c["tov"],
                "steals": p["STL"], "blocks": p["BLK"], "matchupFieldGoalsMade": c["fgm"],
                "matchupFieldGoalsAttempted": c["fga"],
                "matchupFieldGoalPercentage": _p(adv.div(c["fgm"], c["fga"])),
                "matchupThreePointersMade": c["fg3m"], "matchupThreePointersAttempted": c["fg3a"],
                "matchupThreePointerPercentage": _p(adv.div(c["fg3m"], c["fg3a"]))}

    def _track(self, p) -> dict:
        r = self.rng(p.pid)
        m = p["MIN"]
        speed = round(r.uniform(3.9, 4.7), 2) if m else 0.0
        mine = [sh for sh in self.plan.shots if sh.pid == p.pid]
        cfga = sum(sh.contested for sh in mine)
        cfgm = sum(sh.contested and sh.made for sh in mine)
        rc_o = p["OREB"] + (r.randint(0, 2) if m else 0)
        rc_d = p["DREB"] + (r.randint(0, 3) if m else 0)
        passes = round(m * r.uniform(0.6, 1.3)) + p["AST"]
        d = self.defense.get(p.pid, Counter())
        return {"minutes": min_str(m), "speed": speed, "distance": round(speed * m / 60.0, 2),
                "reboundChancesOffensive": rc_o, "reboundChancesDefensive": rc_d,
                "reboundChancesTotal": rc_o + rc_d,
                "touches": passes + p["FGA"] + p["TOV"] + p["FTA"] // 2 + (r.randint(0, 6) if m else 0),
                "secondaryAssists": min(r.randint(0, 2), max(0, p["AST"])) if m else 0,
                "freeThrowAssists": (1 if r.random() < 0.2 else 0) if m else 0,
                "passes": passes, "assists": p["AST"],
                "contestedFieldGoalsMade": cfgm, "contestedFieldGoalsAttempted": cfga,
                "contestedFieldGoalPercentage": _p(adv.div(cfgm, cfga)),
                "uncontestedFieldGoalsMade": p["FGM"] - cfgm,
                "uncontestedFieldGoalsAttempted": p["FGA"] - cfga,
                "uncontestedFieldGoalsPercentage": _p(adv.div(p["FGM"] - cfgm, p["FGA"] - cfga)),
                "fieldGoalPercentage": _p(adv.div(p["FGM"], p["FGA"])),
                "defendedAtRimFieldGoalsMade": d["rim_m"], "defendedAtRimFieldGoalsAttempted": d["rim_a"],
                "defendedAtRimFieldGoalPercentage": _p(adv.div(d["rim_m"], d["rim_a"]))}

    # ---------------------------------------------------------------- blocks
    def team_block(self, tb: TeamBox) -> dict:
        t = tb.team
        players = [{"personId": p.pid, "firstName": p.first, "familyName": p.last, "nameI": p.name_i,
                    "playerSlug": p.slug, "position": p.position, "comment": "", "jerseyNum": "",
                    "statistics": self.player_stats(tb, p)} for p in tb.players]
        out = {"teamId": t.team_id, "teamCity": t.city, "teamName": t.name, "teamTricode": t.tricode,
               "teamSlug": t.slug, "players": players, "statistics": self.team_stats(tb)}
        if self.endpoint == "boxscoretraditionalv3":
            for label, flag in (("starters", True), ("bench", False)):
                sub = tb.subset(flag)
                out[label] = adv.traditional(sub, f"{sub['MIN']}:00")
        return out


def box_v3(req: Req) -> Resp:
    gid = game_id_param(req)
    key, resource = V3[req.endpoint]
    store = get_store()
    known = gid in store.games and gid not in req.drop
    day = dt.date.fromisoformat(store.games[gid].date) + dt.timedelta(days=1) if known else None
    meta = {"version": 1, "request": f"http://nba.cloud/games/{gid}/{resource}?Format=json",
            "time": f"{day}T08:00:00.0000Z" if day else ""}
    if not known:
        return json_resp({"meta": meta, key: {"gameId": gid, "awayTeamId": 0, "homeTeamId": 0,
                                              "homeTeam": dict(_EMPTY_TEAM), "awayTeam": dict(_EMPTY_TEAM)}})
    box = game_box(gid)
    ctx = _Ctx(box, req.endpoint)
    body = {"gameId": gid, "awayTeamId": box.away.team_id, "homeTeamId": box.home.team_id,
            "homeTeam": ctx.team_block(box.home), "awayTeam": ctx.team_block(box.away)}
    return json_resp({"meta": meta, key: body})
