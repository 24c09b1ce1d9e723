"""Deterministic play-by-play plan (seeded by the game id), consistent with the real box score.

Every player's made/missed twos and threes, free throws, rebounds, assists (where a teammate's
made shot is available), steals, blocks, turnovers and personal fouls come from his box line;
the final score is the team points; overtime games are tied after regulation and after every
overtime but the last. Team rebounds / deadball rebounds fill the misses players did not rebound.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from nba_backfill.source.box import GameBox, game_box
from nba_backfill.source.data_store import get_store
from nba_backfill.source.pbp_events import (
    PAINT_ZONES, Foul, Possession, Rebound, Shot, Trip, Turnover, Unit, shot_geometry,
)
from nba_backfill.source.pbp_annotate import annotate
from nba_backfill.source.pbp_split import merge_period, split_overtime


@dataclass
class Plan:
    game_id: str
    possessions: list[Possession]
    periods: int
    jump_winner: int  # side that won the opening tip
    jumpers: tuple[int, int]  # home, away jump-ball players
    period_pts: list[list[int]]  # [side][period index]
    player: dict[int, Counter] = field(default_factory=dict)
    team: list[Counter] = field(default_factory=lambda: [Counter(), Counter()])
    shots: list[Shot] = field(default_factory=list)
    side_of: dict[int, int] = field(default_factory=dict)


def _weighted(rng: random.Random, items: list, weights: list[float]):
    total = sum(weights)
    if total <= 0:
        return rng.choice(items)
    x = rng.random() * total
    for it, w in zip(items, weights):
        x -= w
        if x <= 0:
            return it
    return items[-1]


def _build_side(rng, s: int, tb) -> tuple[list[Shot], list[Trip], list[Turnover]]:
    shots, trips, tovs = [], [], []
    for p in tb.players:
        pid = p.pid
        fg2m, fg3m = p["FGM"] - p["FG3M"], p["FG3M"]
        fg2x, fg3x = (p["FGA"] - p["FG3A"]) - fg2m, p["FG3A"] - fg3m
        mine = []
        for pts, made, n in ((2, True, fg2m), (3, True, fg3m), (2, False, fg2x), (3, False, fg3x)):
            for _ in range(n):
                zone, xl, yl, sub, desc = shot_geometry(rng, pts, made)
                mine.append(Shot(s, pid, pts, made, zone, xl, yl, sub, desc))
        shots += mine
        fta, ftm = p["FTA"], p["FTM"]
        sizes: list[tuple[str, int]] = []
        and1_shot = None
        if fta % 2:
            made_shots = [sh for sh in mine if sh.made]
            if made_shots and rng.random() < 0.9:
                twos = [sh for sh in made_shots if sh.pts == 2]
                and1_shot = rng.choice(twos or made_shots)
                sizes.append(("and1", 1))
            elif fta >= 3:
                sizes.append(("shooting", 3))
            else:
                sizes.append(("technical", 1))
        sizes += [("shooting", 2)] * ((fta - sum(n for _, n in sizes)) // 2)
        misses = set(rng.sample(range(fta), fta - ftm))
        k = 0
        for kind, n in sizes:
            tr = Trip(s, pid, n, [(k + i) not in misses for i in range(n)], kind)
            k += n
            if kind == "and1":
                and1_shot.and1 = tr
            trips.append(tr)
        for _ in range(p["TOV"]):
            tovs.append(Turnover(s, pid, "", None))
    return shots, trips, tovs


def _live_misses(shots, trips) -> list:
    return [sh for sh in shots if not sh.made] + [tr for tr in trips if not tr.made[-1]]


def _assign_rebounds(rng, s, shots, trips, tb, ob) -> int:
    """Give every live miss of side s a rebound; returns the shortfall of player rebounds."""
    need = tb.totals["OREB"] + ob.totals["DREB"]
    live = _live_misses(shots, trips)
    if len(live) < need:  # move a player's free-throw misses onto the last attempt of his trips
        for pid in sorted({tr.pid for tr in trips}):
            mine = [tr for tr in trips if tr.pid == pid]
            misses = sum(tr.n - sum(tr.made) for tr in mine)
            mine.sort(key=lambda tr: (tr.made[-1], -tr.n))
            for tr in mine:
                tr.made = [True] * tr.n
            for tr in mine:  # one miss on the last attempt of as many trips as possible
                if misses:
                    tr.made[-1] = False
                    misses -= 1
            for tr in mine:
                for i in range(tr.n - 1):
                    if misses:
                        tr.made[i] = False
                        misses -= 1
            live = _live_misses(shots, trips)
            if len(live) >= need:
                break
    slots = [(True, s, p.pid) for p in tb.players for _ in range(p["OREB"])]
    slots += [(False, 1 - s, p.pid) for p in ob.players for _ in range(p["DREB"])]
    shortfall = max(0, len(slots) - len(live))
    slots = slots[: len(live)]
    while len(slots) < len(live):
        off = rng.random() < 0.3
        slots.append((off, s if off else 1 - s, 0))
    rng.shuffle(slots)
    for ev, (off, side, pid) in zip(live, slots):
        ev.reb = Rebound(side, pid, off)
    return shortfall


def _minutes_weights(players) -> tuple[list[int], list[float]]:
    return [p.pid for p in players], [max(p["MIN"], 0.3) for p in players]


def _assign_blocks(rng, shots, ob) -> None:
    cands = [sh for sh in shots if not sh.made]
    for p in ob.players:
        for _ in range(p["BLK"]):
            if not cands:
                return
            w = [3.0 if sh.zone in PAINT_ZONES else (1.0 if sh.pts == 2 else 0.3) for sh in cands]
            sh = _weighted(rng, cands, w)
            sh.block = p.pid
            cands.remove(sh)


def _assign_assists(rng, shots, tb) -> int:
    made = [sh for sh in shots if sh.made]
    missing = 0
    for p in sorted(tb.players, key=lambda p: (-p["AST"], p.pid)):
        for _ in range(p["AST"]):
            cands = [sh for sh in made if not sh.assist and sh.pid != p.pid]
            if not cands:
                missing += 1
                continue
            left = Counter(sh.pid for sh in cands)
            sh = _weighted(rng, cands, [left[sh.pid] * (1.3 if sh.pts == 3 else 1.0) for sh in cands])
            sh.assist = p.pid
    return missing


def _assign_turnovers(rng, tovs, ob) -> None:
    stealers = [p.pid for p in ob.players for _ in range(p["STL"])]
    rng.shuffle(tovs)
    for to, stealer in zip(tovs, stealers):
        to.steal = stealer
        to.kind, to.desc = rng.choice([("bad pass", None), ("bad pass", None), ("lost ball", None)])
    for to in tovs:
        if not to.steal:
            to.kind, to.desc = rng.choice([("traveling", None), ("out-of-bounds", "bad pass"),
                                           ("out-of-bounds", "lost ball"), ("bad pass", None),
                                           ("offensive foul", None), ("out-of-bounds", "step")])


def _assign_fouls(rng, box: GameBox, trips, tovs) -> list[list[Foul]]:
    """Shooting fouls for trips, offensive fouls on turnovers, the rest as personal fouls.
    Returns, per side, the standalone fouls committed AGAINST that side (during its possessions)."""
    sides = box.sides()
    budget = [{p.pid: p["PF"] for p in tb.players} for tb in sides]
    mins = [dict(zip(*_minutes_weights(tb.players))) for tb in sides]
    for s in (0, 1):
        o = 1 - s
        for tr in trips[s]:
            if tr.kind == "technical":
                continue
            pids = [pid for pid, n in budget[o].items() if n > 0]
            if not pids:
                continue
            pid = _weighted(rng, pids, [budget[o][x] * mins[o][x] for x in pids])
            budget[o][pid] -= 1
            tr.fouler = pid
    for s in (0, 1):
        o = 1 - s
        for to in tovs[s]:
            if to.kind == "offensive foul":
                if budget[s].get(to.pid, 0) > 0:
                    budget[s][to.pid] -= 1
                    to.off_foul = True
                    opp = list(mins[o])
                    to.drawn = _weighted(rng, opp, [mins[o][x] for x in opp])
                else:
                    to.kind, to.desc = "traveling", None
    against: list[list[Foul]] = [[], []]
    for o in (0, 1):
        s = 1 - o
        victims = list(mins[s])
        for pid, n in budget[o].items():
            for _ in range(n):
                drawn = _weighted(rng, victims, [mins[s][x] for x in victims])
                kind = "loose ball" if rng.random() < 0.15 else "personal"
                against[s].append(Foul(o, pid, drawn, kind))
    return against


def _chains(rng, units: list[Unit], side: int) -> list[Possession]:
    rng.shuffle(units)
    if units and units[-1].continues():
        for i in range(len(units) - 1, -1, -1):
            if not units[i].continues():
                units[i], units[-1] = units[-1], units[i]
                break
    out, cur = [], []
    for u in units:
        cur.append(u)
        if not u.continues():
            out.append(Possession(side, cur))
            cur = []
    if cur:
        out.append(Possession(side, cur))
    return out


# ~0.16 MB and ~3 ms per game: a few hundred plans cover the games of one scraper run (its
# endpoints ask for the same games in turn) without holding a season per run worker.
def build_plan(game_id: str) -> Plan:
    """The plan of `game_id` in the current store (cached per game and correction version)."""
    return _build_plan(game_id, get_store().version(game_id))


@lru_cache(maxsize=256)
def _build_plan(game_id: str, version: tuple) -> Plan:
    box = game_box(game_id)
    g = box.game
    rng = random.Random(int(game_id) * 7919 + 17)
    sides = box.sides()
    built = [_build_side(rng, s, tb) for s, tb in enumerate(sides)]
    shots, trips, tovs = [b[0] for b in built], [b[1] for b in built], [b[2] for b in built]
    for s, tb in enumerate(sides):
        ob = sides[1 - s]
        _assign_rebounds(rng, s, shots[s], trips[s], tb, ob)
        _assign_blocks(rng, shots[s], ob)
        _assign_assists(rng, shots[s], tb)
        _assign_turnovers(rng, tovs[s], ob)
        opp_ids, opp_w = _minutes_weights(ob.players)
        for sh in shots[s]:
            sh.defender = sh.block or _weighted(rng, opp_ids, opp_w)
            p_cont = {3: 0.3}.get(sh.pts, 0.55 if sh.zone in PAINT_ZONES else 0.4)
            sh.contested = bool(sh.block) or rng.random() < p_cont
        for to in tovs[s]:
            to.defender = to.steal or _weighted(rng, opp_ids, opp_w)
    against = _assign_fouls(rng, box, trips, tovs)
    poss = []
    for s in (0, 1):
        units = [Unit("shot", sh) for sh in shots[s]]
        units += [Unit("trip", tr) for tr in trips[s] if tr.kind != "and1"]
        units += [Unit("tov", to) for to in tovs[s]]
        for f in against[s]:
            if units:
                rng.choice(units).fouls.append(f)
        poss.append(_chains(rng, units, s))
    jump_winner = rng.randrange(2)
    segments = split_overtime(rng, poss[0], poss[1], g.periods - 4, g.home_pts, g.away_pts)
    ordered: list[Possession] = []
    starts = [jump_winner, 1 - jump_winner, 1 - jump_winner, jump_winner]
    for k, (ph, pa) in enumerate(segments):
        start_side = starts[k] if k < 4 else rng.randrange(2)
        ordered += merge_period(rng, ph, pa, start_side, k + 1, 720.0 if k < 4 else 300.0)
    plan = Plan(game_id, ordered, g.periods, jump_winner,
                (sides[0].players[2].pid, sides[1].players[2].pid),
                [[0] * g.periods, [0] * g.periods],
                shots=shots[0] + shots[1],
                side_of={p.pid: s for s, tb in enumerate(sides) for p in tb.players})
    annotate(rng, plan)
    return plan


build_plan.cache_clear = _build_plan.cache_clear  # type: ignore[attr-defined]
