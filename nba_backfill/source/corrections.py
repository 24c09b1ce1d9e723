"""Stat corrections: one player's stat in one game changed from a given moment on.

A correction edits the player's row of the bundled game logs (the lowest layer every endpoint
reads) in a corrected copy of the Store; the game's final score is re-summed from its player
rows. Everything built on the store follows: box scores, team totals, line scores, schedule and
scoreboard scores, balldontlie, and the play-by-play, which is regenerated from the corrected box
(so its generated details — shot order, clock, quarter split, tracking, matchups — may all differ
for that game). Other games are untouched.

A stat moves the counts it is made of, so every line keeps PTS = 2·FGM + FG3M + FTM and
REB = OREB + DREB (see EFFECTS). A correction is refused when the game is not bundled, the player
did not play in it, a count would become impossible (negative, makes above attempts), it would
change the game's winner (W/L, records and standings are not recomputed, as a real correction
never changes a result), or the regenerated play-by-play cannot carry it.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
from collections import Counter, OrderedDict

import numpy as np

from nba_backfill.source.data_store import Store, bundled_store, using_store

Key = tuple[str, int, str, int]  # (game id, player id, stat, delta)


def _pts(d: int) -> dict[str, int]:
    sign, (twos, fts) = (1 if d > 0 else -1), divmod(abs(d), 2)
    return {"PTS": d, "FGM": sign * twos, "FGA": sign * twos, "FTM": sign * fts, "FTA": sign * fts}


# stat name -> the counts a delta of d moves (made shots are made attempts).
EFFECTS = {
    "pts": _pts,  # |d| = 2k + r: k two-point field goals and r (0/1) free throws, made and attempted
    "fg3m": lambda d: {"FG3M": d, "FG3A": d, "FGM": d, "FGA": d, "PTS": 3 * d},
    "ftm": lambda d: {"FTM": d, "FTA": d, "PTS": d},
    "reb": lambda d: {"DREB": d, "REB": d},
    "oreb": lambda d: {"OREB": d, "REB": d},
    "dreb": lambda d: {"DREB": d, "REB": d},
    "ast": lambda d: {"AST": d},
    "stl": lambda d: {"STL": d},
    "blk": lambda d: {"BLK": d},
    "tov": lambda d: {"TOV": d},
    "pf": lambda d: {"PF": d},
}
STATS = tuple(EFFECTS)
_COUNTS = ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "AST", "STL", "BLK", "TOV", "PF")
_PCT_OF = {"FG_PCT": ("FGM", "FGA"), "FG3_PCT": ("FG3M", "FG3A"), "FT_PCT": ("FTM", "FTA")}


class CorrectionError(ValueError):
    """A correction that cannot be applied; the message names the rule and the cause."""


def _pct(made: int, att: int) -> float:
    return math.floor(made / att * 1000 + 0.5) / 1000 if att else float("nan")


def _check_line(line: dict[str, int], what: str) -> None:
    bad = [k for k in ("PTS", *_COUNTS, "REB") if line[k] < 0]
    if bad:
        raise CorrectionError(f"{what}: would make {', '.join(f'{k}={line[k]}' for k in bad)} negative")
    for made, att in (("FGM", "FGA"), ("FG3M", "FG3A"), ("FTM", "FTA"), ("FG3M", "FGM"), ("FG3A", "FGA")):
        if line[made] > line[att]:
            raise CorrectionError(f"{what}: would make {made}={line[made]} above {att}={line[att]}")
    if line["FGA"] - line["FG3A"] < line["FGM"] - line["FG3M"]:
        raise CorrectionError(f"{what}: would leave more made two-pointers than attempted")


def _describe(key: Key) -> str:
    gid, pid, stat, delta = key
    return f"correction {stat} {delta:+d} for player {pid} in game {gid}"


def build(base: Store, keys: tuple[Key, ...]) -> Store:
    """A copy of `base` with the corrections applied (structure checks only; see `validate`)."""
    store = copy.copy(base)
    cols = dict(base.cols)
    copied: set[str] = set()
    changed: dict[str, object] = {}
    by_game: dict[str, list[Key]] = {}
    for key in keys:
        by_game.setdefault(key[0], []).append(key)
    for gid, items in by_game.items():
        g = base.games.get(gid)
        if g is None:
            raise CorrectionError(f"{_describe(items[0])}: game {gid} is not in the bundled data "
                                  f"(regular seasons 2020-21..2024-25)")
        rows = g.home_rows + g.away_rows
        for key in items:
            pid = key[1]
            hits = [r for r in rows if int(cols["PLAYER_ID"][r]) == pid]
            if not hits:
                names = ", ".join(f"{int(cols['PLAYER_ID'][r])} {cols['PLAYER_NAME'][r]}" for r in rows)
                raise CorrectionError(f"{_describe(key)}: player {pid} did not play in game {gid} "
                                      f"(players: {names})")
            row = hits[0]
            for col, d in EFFECTS[key[2]](key[3]).items():
                if col not in copied:
                    cols[col] = cols[col].copy()
                    copied.add(col)
                cols[col][row] += d
            line = {k: int(cols[k][row]) for k in ("PTS", *_COUNTS, "REB")}
            _check_line(line, _describe(key))
            for pct_col, (made, att) in _PCT_OF.items():
                if pct_col not in copied:
                    cols[pct_col] = cols[pct_col].copy()
                    copied.add(pct_col)
                cols[pct_col][row] = _pct(line[made], line[att])
        home_pts = int(np.sum(cols["PTS"][list(g.home_rows)]))
        away_pts = int(np.sum(cols["PTS"][list(g.away_rows)]))
        if (home_pts > away_pts) != g.home_won or home_pts == away_pts:
            raise CorrectionError(
                f"{_describe(items[-1])}: the final score would become {home_pts}-{away_pts} "
                f"(was {g.home_pts}-{g.away_pts}); a correction may not change the winner")
        changed[gid] = dataclasses.replace(g, home_pts=home_pts, away_pts=away_pts)
    store.cols = cols
    store.games = {**base.games, **changed}
    dates = {g.date for g in changed.values()}
    seasons = {g.season for g in changed.values()}
    store.games_by_date = {**base.games_by_date, **{
        d: [changed.get(g.game_id, g) for g in base.games_by_date[d]] for d in dates}}
    store.seasons = {**base.seasons, **{
        s: [changed.get(g.game_id, g) for g in base.seasons[s]] for s in seasons}}
    store.corrections = {gid: tuple(sorted(items)) for gid, items in by_game.items()}
    return store


def plan_counts(plan) -> dict[int, Counter]:
    """Per player, the box counts the play-by-play plan carries (shots, free throws, rebounds,
    assists, steals, blocks, turnovers, fouls)."""
    out: dict[int, Counter] = {}

    def c(pid: int) -> Counter:
        return out.setdefault(pid, Counter())

    for pos in plan.possessions:
        for u in pos.units:
            ev = u.ev
            for f in u.fouls:
                c(f.pid)["PF"] += 1
            trips, rebounds = [], []
            if u.kind == "shot":
                x = c(ev.pid)
                x["FGA"] += 1
                x["FG3A"] += ev.pts == 3
                x["FGM"] += ev.made
                x["FG3M"] += ev.made and ev.pts == 3
                if ev.assist:
                    c(ev.assist)["AST"] += 1
                if ev.block:
                    c(ev.block)["BLK"] += 1
                trips = [ev.and1] if ev.and1 else []
                rebounds.append(ev.reb)
            elif u.kind == "trip":
                trips = [ev]
            else:
                c(ev.pid)["TOV"] += 1
                if ev.steal:
                    c(ev.steal)["STL"] += 1
                if ev.off_foul:
                    c(ev.pid)["PF"] += 1
            for tr in trips:
                c(tr.pid)["FTA"] += tr.n
                c(tr.pid)["FTM"] += sum(tr.made)
                if tr.fouler:
                    c(tr.fouler)["PF"] += 1
                rebounds.append(tr.reb)
            for r in rebounds:
                if r is not None and r.pid:
                    c(r.pid)["OREB" if r.offensive else "DREB"] += 1
    return out


def _check_play_by_play(base: Store, store: Store, gid: str) -> None:
    """The regenerated plan carries the corrected box as faithfully as the bundled plan carries
    the bundled box (the generator's few real-data shortfalls stay exactly as they were)."""
    from nba_backfill.source.pbp import build_plan

    with using_store(base):
        before = plan_counts(build_plan(gid))
        lines_before = {r["PLAYER_ID"]: r for side in base.lines(gid) for r in side}
    with using_store(store):
        plan = build_plan(gid)
    after = plan_counts(plan)
    g = store.games[gid]
    for side in store.lines(gid):
        for line in side:
            pid, old = line["PLAYER_ID"], lines_before[line["PLAYER_ID"]]
            for k in _COUNTS:
                want = line[k] - old[k]
                got = after.get(pid, Counter())[k] - before.get(pid, Counter())[k]
                if want != got:
                    raise CorrectionError(
                        f"{_describe(store.corrections[gid][0])}: the play-by-play cannot carry it "
                        f"({line['PLAYER_NAME']} {k} {line[k]} in the box, the plays give "
                        f"{old[k] + got})")
    if [sum(plan.period_pts[0]), sum(plan.period_pts[1])] != [g.home_pts, g.away_pts]:
        raise CorrectionError(f"{_describe(store.corrections[gid][0])}: the play-by-play cannot "
                              f"reach the corrected score {g.home_pts}-{g.away_pts}")


_CACHE: OrderedDict[tuple[Key, ...], Store] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4  # each corrected store copies only the columns it changes (~1 MB each)


def corrected_store(keys: tuple[Key, ...]) -> Store:
    """The bundled store with `keys` applied, validated (cached; `()` is the bundled store)."""
    base = bundled_store()
    if not keys:
        return base
    keys = tuple(sorted(keys))
    with _CACHE_LOCK:
        hit = _CACHE.get(keys)
        if hit is not None:
            _CACHE.move_to_end(keys)
            return hit
    store = build(base, keys)
    for gid in store.corrections:
        _check_play_by_play(base, store, gid)
    with _CACHE_LOCK:
        _CACHE[keys] = store
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return store


def validate(timed: list[tuple[float, Key]]) -> None:
    """Raise CorrectionError unless every set of corrections that can be active together — the
    rules in order of their start time — applies (`timed`: (start epoch seconds, key))."""
    ordered = sorted(timed, key=lambda t: t[0])
    for i, (start, _key) in enumerate(ordered):
        if i + 1 < len(ordered) and ordered[i + 1][0] == start:
            continue  # rules starting together become active together
        corrected_store(tuple(k for _, k in ordered[: i + 1]))
