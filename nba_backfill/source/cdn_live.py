"""cdn.nba.com liveData play-by-play (`playbyplay_{gameId}.json`) rendered from the plan.

The action fields follow the real liveData feed (see api_samples/cdn_live); shots also carry
`area`/`areaDetail` as the feed has done since 2021-22. No substitution or timeout actions are
generated.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

from nba_backfill.source.box import game_box
from nba_backfill.source.clock import iso_clock, tip_datetimes, utc_z
from nba_backfill.source.data_store import get_store, name_initial, split_name
from nba_backfill.source.pbp import build_plan
from nba_backfill.source.pbp_events import LC3, PAINT_ZONES, RC3, Shot, Trip, Turnover


def _area_detail(sh: Shot) -> str:
    if sh.zone in (LC3, RC3):
        return "Left Side(L)" if sh.xl < 0 else "Right Side(R)"
    if sh.zone in PAINT_ZONES:
        return "Center(C)"
    ang = math.degrees(math.atan2(sh.xl, max(sh.yl, 1)))
    if abs(ang) <= 22.5:
        return "Center(C)"
    if abs(ang) <= 67.5:
        return "Right Side Center(RC)" if ang > 0 else "Left Side Center(LC)"
    return "Right Side(R)" if ang > 0 else "Left Side(L)"


class _Renderer:
    def __init__(self, game_id: str):
        self.box = box = game_box(game_id)
        self.plan = build_plan(game_id)
        self.g = box.game
        self.sides = box.sides()
        self.team_ids = [tb.team_id for tb in self.sides]
        self.tricodes = [tb.team.tricode for tb in self.sides]
        self.names = {p.pid: p.name for tb in self.sides for p in tb.players}
        self.actions: list[dict] = []
        self.score = [0, 0]
        self.totals: dict[tuple[int, str], int] = {}
        _, self.tip_utc = tip_datetimes(self.g.date, self.g.tip_et)
        self.period = 1
        self.t = 0.0
        self.possession = 0

    # ------------------------------------------------------------------ helpers
    def _bump(self, pid: int, key: str, n: int = 1) -> int:
        self.totals[(pid, key)] = self.totals.get((pid, key), 0) + n
        return self.totals[(pid, key)]

    def _length(self, period: int) -> float:
        return 720.0 if period <= 4 else 300.0

    def _wall(self, period: int, t: float) -> dt.datetime:
        before = sum(self._length(p) for p in range(1, period))
        breaks = sum(900 if p == 2 else 130 for p in range(1, period))
        return self.tip_utc + dt.timedelta(seconds=(before + t) * 2.1 + breaks + 20)

    def _base(self, side: int | None, pid: int, atype: str, sub: str | None,
              desc_text: str, descriptor: str | None = None, qualifiers=None) -> dict:
        wall = self._wall(self.period, self.t)
        a = {"actionNumber": len(self.actions) + 1,
             "clock": iso_clock(self._length(self.period) - self.t),
             "timeActual": utc_z(wall), "period": self.period,
             "periodType": "REGULAR" if self.period <= 4 else "OVERTIME"}
        if side is not None:
            a["teamId"], a["teamTricode"] = self.team_ids[side], self.tricodes[side]
        a["actionType"] = atype
        if sub is not None:
            a["subType"] = sub
        if descriptor:
            a["descriptor"] = descriptor
        a.update({"qualifiers": list(qualifiers or []), "personId": pid, "x": None, "y": None,
                  "side": None, "possession": self.possession,
                  "scoreHome": str(self.score[0]), "scoreAway": str(self.score[1]),
                  "edited": utc_z(wall + dt.timedelta(seconds=7), frac=False),
                  "orderNumber": (len(self.actions) + 1) * 10000, "xLegacy": None, "yLegacy": None,
                  "isFieldGoal": 0, "description": desc_text})
        if pid:
            a["playerName"] = split_name(self.names[pid])[1]
            a["playerNameI"] = name_initial(self.names[pid])
        a["personIdsFilter"] = [pid] if pid else []
        self.actions.append(a)
        return a

    def _ni(self, pid: int) -> str:
        return name_initial(self.names[pid])

    # ------------------------------------------------------------------ events
    def _period_marker(self, sub: str) -> None:
        self._base(None, 0, "period", sub, "Period Start" if sub == "start" else "Period End")

    def _jumpball(self, winner: int) -> None:
        hj, aj = self.plan.jumpers
        won, lost = (hj, aj) if winner == 0 else (aj, hj)
        self.possession = self.team_ids[winner]
        a = self._base(winner, 0, "jumpball", "recovered", f"Jump Ball {self._ni(won)} vs. "
                       f"{self._ni(lost)}: Tip to Team ({self.tricodes[winner]})", "startperiod")
        a.update({"jumpBallRecoveredName": f"Team ({self.tricodes[winner]})",
                  "jumpBallWonPlayerName": split_name(self.names[won])[1], "jumpBallWonPersonId": won,
                  "jumpBallLostPlayerName": split_name(self.names[lost])[1],
                  "jumpBallLostPersonId": lost, "personIdsFilter": [won, lost]})

    def _foul(self, side: int, pid: int, sub: str, descriptor: str | None, drawn: int,
              quals=(), n_ft: int = 0) -> None:
        if pid == 0:
            self._base(side, 0, "foul", "technical", f"{self.tricodes[side]} technical FOUL",
                       qualifiers=["team"])
            return
        if sub == "technical":
            n = self._bump(pid, "TF")
            a = self._base(side, pid, "foul", sub, f"{self._ni(pid)} technical FOUL ({n} TF)")
        else:
            n = self._bump(pid, "PF")
            label = f"{descriptor} " if descriptor else ""
            kind = "offensive " if sub == "offensive" else f"{label}personal "
            tail = f" ({split_name(self.names[drawn])[1]} {n_ft} FT)" if n_ft else ""
            a = self._base(side, pid, "foul", sub, f"{self._ni(pid)} {kind}FOUL ({n} PF){tail}",
                           descriptor, quals)
        a["foulPersonalTotal"] = self.totals.get((pid, "PF"), 0)
        a["foulTechnicalTotal"] = self.totals.get((pid, "TF"), 0)
        if drawn:
            a["foulDrawnPlayerName"] = split_name(self.names[drawn])[1]
            a["foulDrawnPersonId"] = drawn
            a["personIdsFilter"] = [pid, drawn]

    def _rebound(self, reb, shot_action: dict) -> None:
        self.possession = self.team_ids[reb.side]
        sub = "offensive" if reb.offensive else "defensive"
        if reb.pid == 0:
            a = self._base(reb.side, 0, "rebound", sub, f"TEAM {sub} REBOUND", qualifiers=["team"])
        else:
            tot = self._bump(reb.pid, "REB")
            off = self._bump(reb.pid, "OREB", int(reb.offensive))
            dfn = self._bump(reb.pid, "DREB", int(not reb.offensive))
            a = self._base(reb.side, reb.pid, "rebound", sub,
                           f"{self._ni(reb.pid)} REBOUND (Off:{off} Def:{dfn})")
            a.update({"reboundTotal": tot, "reboundDefensiveTotal": dfn, "reboundOffensiveTotal": off})
        a["shotActionNumber"] = shot_action["actionNumber"]

    def _shot(self, sh: Shot, quals: list[str]) -> dict:
        side = sh.side
        court = "right" if (side == 0) == (self.period <= 2 or (self.period > 4 and self.period % 2)) else "left"
        if court == "right":
            x_ft, y_ft = 88.75 - sh.yl / 10.0, 25 + sh.xl / 10.0
        else:
            x_ft, y_ft = 5.25 + sh.yl / 10.0, 25 - sh.xl / 10.0
        q = (["pointsinthepaint"] if sh.zone in PAINT_ZONES else []) + quals
        dist = sh.dist
        where = f"{int(dist)}' " if dist >= 3 else ""
        what = "3PT" if sh.pts == 3 else sh.sub
        style = f"{sh.desc} " if sh.desc else ""
        if sh.pts == 3:
            label = f"{where}3PT {sh.desc or ''}".strip()
        else:
            label = f"{where}{style}{what}"
        if sh.made:
            self.score[side] += sh.pts
            pts = self._bump(sh.pid, "PTS", sh.pts)
            text = f"{self._ni(sh.pid)} {label} ({pts} PTS)"
        else:
            text = f"MISS {self._ni(sh.pid)} {label}"
        a = self._base(side, sh.pid, f"{sh.pts}pt", sh.sub, text, sh.desc, q)
        a.update({"x": round(x_ft / 94 * 100, 6), "y": round(y_ft / 50 * 100, 6), "side": court,
                  "shotDistance": sh.dist, "xLegacy": sh.xl, "yLegacy": sh.yl, "isFieldGoal": 1,
                  "shotResult": "Made" if sh.made else "Missed",
                  "area": sh.zone, "areaDetail": _area_detail(sh)})
        if sh.made:
            a["pointsTotal"] = self.totals[(sh.pid, "PTS")]
        if sh.assist:
            n = self._bump(sh.assist, "AST")
            a["description"] += f" ({self._ni(sh.assist)} {n} AST)"
            a.update({"assistPlayerNameInitial": self._ni(sh.assist), "assistPersonId": sh.assist,
                      "assistTotal": n})
            a["personIdsFilter"] = [sh.pid, sh.assist]
        if sh.block:
            a.update({"blockPlayerName": split_name(self.names[sh.block])[1],
                      "blockPersonId": sh.block})
            a["personIdsFilter"] = [sh.pid, sh.block]
            n = self._bump(sh.block, "BLK")
            self._base(1 - side, sh.block, "block", None, f"{self._ni(sh.block)} BLOCK ({n} BLK)")
        return a

    def _trip(self, tr: Trip, quals: list[str]) -> None:
        o = 1 - tr.side
        if tr.kind == "technical":
            self._foul(o, tr.fouler, "technical", None, 0)
        else:
            self._foul(o, tr.fouler, "personal", "shooting", tr.pid, [f"{tr.n}freethrow"], tr.n)
        last = None
        for i, made in enumerate(tr.made):
            sub = "technical" if tr.kind == "technical" else f"{i + 1} of {tr.n}"
            label = "Free Throw Technical" if tr.kind == "technical" else f"Free Throw {sub}"
            if made:
                self.score[tr.side] += 1
                pts = self._bump(tr.pid, "PTS")
                text = f"{self._ni(tr.pid)} {label} ({pts} PTS)"
            else:
                text = f"MISS {self._ni(tr.pid)} {label}"
            self.possession = self.team_ids[tr.side]
            last = self._base(tr.side, tr.pid, "freethrow", sub, text, qualifiers=quals)
            last["shotResult"] = "Made" if made else "Missed"
            if made:
                last["pointsTotal"] = pts
            if not made and i < tr.n - 1:
                a = self._base(tr.side, 0, "rebound", "offensive", "TEAM offensive REBOUND",
                               qualifiers=["deadball", "team"])
                a["shotActionNumber"] = last["actionNumber"]
        if tr.reb is not None:
            self.t = min(self.t + 1.0, self._length(self.period) - 0.1)
            self._rebound(tr.reb, last)

    def _turnover(self, to: Turnover) -> None:
        if to.off_foul:
            self._foul(to.side, to.pid, "offensive", None, to.drawn)
        n = self._bump(to.pid, "TOV")
        desc = f"{to.desc} " if to.desc else ""
        text = f"{self._ni(to.pid)} {to.kind} {desc}TURNOVER ({n} TO)".replace("  ", " ")
        a = self._base(to.side, to.pid, "turnover", to.kind, text, to.desc)
        a["turnoverTotal"] = n
        if to.steal:
            a.update({"stealPlayerName": split_name(self.names[to.steal])[1],
                      "stealPersonId": to.steal, "personIdsFilter": [to.pid, to.steal]})
            self.possession = self.team_ids[1 - to.side]
            k = self._bump(to.steal, "STL")
            self._base(1 - to.side, to.steal, "steal", None, f"{self._ni(to.steal)} STEAL ({k} STL)")
        self.possession = self.team_ids[1 - to.side]

    # ------------------------------------------------------------------ main loop
    def render(self) -> list[dict]:
        plan = self.plan
        current = 0
        for pos in plan.possessions:
            if pos.period != current:
                if current:
                    self.t = self._length(current)
                    self._period_marker("end")
                current = self.period = pos.period
                self.t = 0.0
                self._period_marker("start")
                if current == 1 or current > 4:  # opening tip and every overtime tip
                    self.t = 2.0 if current == 1 else 0.0
                    self._jumpball(plan.jump_winner if current == 1 else pos.side)
            self.possession = self.team_ids[pos.side]
            span = max(pos.end - pos.start, 1.0)
            step = span / (len(pos.units) + 0.5)
            for ui, u in enumerate(pos.units):
                self.t = min(max(self.t, pos.start + step * (ui + 0.5)), self._length(current) - 0.1)
                quals = []
                if pos.fastbreak and ui == 0:
                    quals.append("fastbreak")
                if pos.from_turnover:
                    quals.append("fromturnover")
                if ui > 0:
                    quals.append("2ndchance")
                for f in u.fouls:
                    self._foul(f.side, f.pid, "personal", f.kind if f.kind != "personal" else None, f.drawn)
                    self.t = min(self.t + 0.5, self._length(current) - 0.1)
                ev = u.ev
                if u.kind == "shot":
                    a = self._shot(ev, quals)
                    if ev.and1 is not None:
                        self._trip(ev.and1, quals)
                    elif ev.reb is not None:
                        self.t = min(self.t + 1.0, self._length(current) - 0.1)
                        self._rebound(ev.reb, a)
                elif u.kind == "trip":
                    self._trip(ev, quals)
                else:
                    self._turnover(ev)
        self.t = self._length(current)
        self._period_marker("end")
        self.possession = 0
        self._base(None, 0, "game", "end", "Game End")
        return self.actions


# ~0.7 MB and ~9 ms per game, asked for once per game by the scraper (again only on a retry):
# 256 of them held ~180 MB in every scraper run worker.
def playbyplay(game_id: str) -> dict:
    """The liveData play-by-play of `game_id` in the current store (cached per correction version)."""
    return _playbyplay(game_id, get_store().version(game_id))


@lru_cache(maxsize=8)
def _playbyplay(game_id: str, version: tuple) -> dict:
    r = _Renderer(game_id)
    actions = r.render()
    end_wall = r._wall(r.g.periods, 300.0) + dt.timedelta(minutes=45)
    return {"meta": {"version": 1, "code": 200,
                     "request": f"http://nba.cloud/games/{game_id}/playbyplay?Format=json",
                     "time": end_wall.strftime("%Y-%m-%d %H:%M:%S.%f")},
            "game": {"gameId": game_id, "actions": actions}}


def empty_playbyplay(game_id: str) -> dict:
    return {"meta": {"version": 1, "code": 200,
                     "request": f"http://nba.cloud/games/{game_id}/playbyplay?Format=json",
                     "time": ""},
            "game": {"gameId": game_id, "actions": []}}
