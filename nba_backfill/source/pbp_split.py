"""Splitting the generated possessions into periods, and interleaving them on the clock.

Overtime games must be tied after regulation and after every overtime except the last: the
possessions given to each overtime are chosen so that both teams score the same there (the
winner's last overtime carries the final margin), by swapping possessions until the point sums
match (exact subset-sum as a fallback).
"""

from __future__ import annotations

import random

from nba_backfill.source.pbp_events import Possession


def _dp_subset(pool: list[int], vals: list[int], target: int, rng: random.Random) -> list[int] | None:
    order = pool[:]
    rng.shuffle(order)
    reach: dict[int, list[int]] = {0: []}
    for i in order:
        v = vals[i]
        for s in list(reach):
            ns = s + v
            if ns <= target and ns not in reach:
                reach[ns] = reach[s] + [i]
        if target in reach:
            return reach[target]
    return reach.get(target)


def _exact_subset(rng, pool: list[int], vals: list[int], target: int, n_pref: int) -> list[int] | None:
    sel = set(rng.sample(pool, min(n_pref, len(pool))))
    s = sum(vals[i] for i in sel)
    for _ in range(80):
        d = target - s
        if d == 0:
            return sorted(sel)
        unsel = [i for i in pool if i not in sel]
        exact = [(i, j) for i in sel for j in unsel if vals[j] - vals[i] == d]
        if exact:
            i, j = rng.choice(exact)
            sel.discard(i)
            sel.add(j)
            return sorted(sel)
        sign = 1 if d > 0 else -1
        closer = [(i, j) for i in sel for j in unsel if 0 < (vals[j] - vals[i]) * sign < abs(d)]
        if closer:
            best = max(abs(vals[j] - vals[i]) for i, j in closer)
            i, j = rng.choice([(i, j) for i, j in closer if abs(vals[j] - vals[i]) == best])
            sel.discard(i)
            sel.add(j)
            s += vals[j] - vals[i]
            continue
        if d > 0:
            add = [j for j in unsel if 0 < vals[j] <= d]
            if not add:
                break
            j = max(add, key=lambda x: vals[x])
            sel.add(j)
            s += vals[j]
        else:
            rem = [i for i in sel if 0 < vals[i] <= -d]
            if not rem:
                break
            i = max(rem, key=lambda x: vals[x])
            sel.discard(i)
            s -= vals[i]
    return _dp_subset(pool, vals, target, rng)


def _quarters(rng, items: list[Possession], n: int = 4) -> list[list[Possession]]:
    base, extra = divmod(len(items), n)
    sizes = [base + (1 if i < extra else 0) for i in range(n)]
    rng.shuffle(sizes)
    out, k = [], 0
    for size in sizes:
        out.append(items[k:k + size])
        k += size
    return out


def split_overtime(rng: random.Random, ph: list[Possession], pa: list[Possession], n_ot: int,
                   home_pts: int, away_pts: int) -> list[tuple[list[Possession], list[Possession]]]:
    """[(home possessions, away possessions)] per period: 4 quarters then the overtimes."""
    ot_sel: list[list[list[int]]] = [[], []]
    if n_ot > 0:
        poss = (ph, pa)
        vals = ([p.pts for p in ph], [p.pts for p in pa])
        low = 0 if home_pts < away_pts else 1
        high, margin = 1 - low, abs(home_pts - away_pts)
        per_ot = [max(3, round(len(x) * 5 / (48 + 5 * n_ot))) for x in poss]
        for _attempt in range(40):
            pools = [list(range(len(ph))), list(range(len(pa)))]
            chosen: list[list[list[int]]] = [[], []]
            ok = True
            for k in range(n_ot):
                sel_low = rng.sample(pools[low], min(per_ot[low], len(pools[low])))
                target = sum(vals[low][i] for i in sel_low) + (margin if k == n_ot - 1 else 0)
                sel_high = _exact_subset(rng, pools[high], vals[high], target, per_ot[high])
                if sel_high is None:
                    ok = False
                    break
                for side, sel in ((low, sel_low), (high, sel_high)):
                    chosen[side].append(sel)
                    taken = set(sel)
                    pools[side] = [i for i in pools[side] if i not in taken]
            if ok:
                ot_sel = chosen
                break
        else:  # pathological: no tie achievable; split by count (documented fallback)
            for side, items in enumerate(poss):
                idx = list(range(len(items)))
                for k in range(n_ot):
                    ot_sel[side].append(idx[len(idx) - (k + 1) * per_ot[side]:
                                            len(idx) - k * per_ot[side]])
    segments = []
    regs, ots = [], []
    for side, items in enumerate((ph, pa)):
        in_ot = {i for sel in ot_sel[side] for i in sel}
        regs.append(_quarters(rng, [p for i, p in enumerate(items) if i not in in_ot]))
        ots.append([[items[i] for i in sel] for sel in ot_sel[side]])
    for q in range(4):
        segments.append((regs[0][q], regs[1][q]))
    for k in range(n_ot):
        segments.append((ots[0][k], ots[1][k]))
    return segments


def merge_period(rng: random.Random, ph: list[Possession], pa: list[Possession], start_side: int,
                 period: int, length: float) -> list[Possession]:
    """Alternate the two teams' possessions (extras at random spots) and lay them on the clock."""
    lists = [list(ph), list(pa)]
    seq: list[Possession] = []
    turn = start_side
    while lists[0] and lists[1]:
        seq.append(lists[turn].pop(0))
        turn = 1 - turn
    for p in lists[0] + lists[1]:
        seq.insert(rng.randint(1, len(seq)) if seq else 0, p)
    weights = [6.0 + 3.0 * len(p.units) + rng.random() * 14.0 for p in seq]
    total = sum(weights) or 1.0
    t = 2.0 if period == 1 or period > 4 else 0.0
    usable = length - t - 0.5
    for p, w in zip(seq, weights):
        p.period = period
        p.start = t
        t += usable * w / total
        p.end = t
    return seq
