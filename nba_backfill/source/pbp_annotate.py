"""Possession flags and per-player / per-team counters derived from the play-by-play plan."""

from __future__ import annotations

import random
from collections import Counter

from nba_backfill.source.pbp_events import MID, PAINT_ZONES


def annotate(rng: random.Random, plan) -> None:
    """Possession flags (fast break, off turnover), point categories and lead tracking."""
    pl: dict[int, Counter] = {}
    team = plan.team
    prev = None
    score = [0, 0]
    leader = 0
    for pos in plan.possessions:
        s = pos.side
        if prev is not None and prev.period == pos.period and prev.side != s:
            last = prev.units[-1]
            if last.kind == "tov":
                pos.from_turnover = True
                pos.fastbreak = rng.random() < (0.4 if last.ev.steal else 0.12)
            else:
                r = last.final_rebound()
                pos.fastbreak = bool(r and not r.offensive and r.side == s) and rng.random() < 0.12
        for ui, u in enumerate(pos.units):
            for f in u.fouls:
                pl.setdefault(f.drawn, Counter())["fouls_drawn"] += 1
            ev = u.ev
            if u.kind == "tov":
                if ev.off_foul:
                    pl.setdefault(ev.drawn, Counter())["fouls_drawn"] += 1
                continue
            c = pl.setdefault(ev.pid, Counter())
            trip = ev if u.kind == "trip" else ev.and1
            if trip is not None and trip.fouler:
                c["fouls_drawn"] += 1
            if u.kind == "shot":
                if ev.block:
                    c["blocks_against"] += 1
                if ev.made:
                    if ev.zone in PAINT_ZONES:
                        c["pts_paint"] += ev.pts
                    if ev.zone == MID:
                        c["pts_mid"] += 2
                    if ev.assist:
                        c["ast%dm" % ev.pts] += 1
            pts = u.pts
            cats = []
            if ui > 0:
                cats.append("pts_2nd")
            if ui == 0 and pos.fastbreak:
                cats.append("pts_fb")
            if pos.from_turnover:
                cats.append("pts_off_to")
            for cat in cats:
                c[cat] += pts
            # scoring atoms in order, for lead tracking and period points
            atoms = []
            if u.kind == "shot" and ev.made:
                atoms.append(ev.pts)
            atoms += [1 for m in (trip.made if trip else []) if m]
            for a in atoms:
                score[s] += a
                plan.period_pts[s][pos.period - 1] += a
                margin = score[0] - score[1]
                team[0]["largest_lead"] = max(team[0]["largest_lead"], margin)
                team[1]["largest_lead"] = max(team[1]["largest_lead"], -margin)
                now = (margin > 0) - (margin < 0)
                if now == 0:
                    for t in team:
                        t["times_tied"] += 1
                elif leader and now != leader:
                    for t in team:
                        t["lead_changes"] += 1
                if now:
                    leader = now
        for u in pos.units:
            r = u.final_rebound()
            if r is not None and r.pid == 0:
                team[r.side]["team_reb"] += 1
        prev = pos
    plan.player = pl
    for pid, c in pl.items():
        s = plan.side_of.get(pid)
        if s is None:
            continue
        for k in ("pts_paint", "pts_2nd", "pts_fb", "pts_off_to", "fouls_drawn", "blocks_against",
                  "pts_mid", "ast2m", "ast3m"):
            team[s][k] += c[k]
