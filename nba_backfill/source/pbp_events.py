"""Event objects of the generated play-by-play and the shot geometry they carry.

Shot legacy coordinates follow shotchartdetail's LOC_X/LOC_Y (tenths of feet from the basket;
negative x = left side). Zones: Restricted Area <= 4 ft, In The Paint (Non-RA) 4-8 ft,
Mid-Range 8-22 ft (outside the paint), corner threes 22-23.6 ft, above-the-break threes >= 23.75 ft.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

RA, PAINT, MID = "Restricted Area", "In The Paint (Non-RA)", "Mid-Range"
ATB, LC3, RC3 = "Above the Break 3", "Left Corner 3", "Right Corner 3"
PAINT_ZONES = (RA, PAINT)


@dataclass
class Rebound:
    side: int  # 0 = home, 1 = away: the rebounding team
    pid: int  # 0 = team rebound
    offensive: bool


@dataclass
class Shot:
    side: int
    pid: int
    pts: int  # 2 or 3
    made: bool
    zone: str
    xl: int
    yl: int
    sub: str
    desc: str | None
    assist: int = 0
    block: int = 0
    defender: int = 0
    contested: bool = False
    and1: "Trip | None" = None
    reb: Rebound | None = None

    @property
    def dist(self) -> float:
        return round(math.hypot(self.xl, self.yl) / 10.0, 2)


@dataclass
class Trip:
    side: int
    pid: int
    n: int
    made: list[bool]
    kind: str  # "shooting" | "and1" | "technical"
    fouler: int = 0  # opposing player (0 = team technical)
    reb: Rebound | None = None  # after a missed last free throw


@dataclass
class Turnover:
    side: int
    pid: int
    kind: str  # liveData subType
    desc: str | None
    steal: int = 0
    off_foul: bool = False
    drawn: int = 0  # defender who drew the offensive foul
    defender: int = 0


@dataclass
class Foul:
    side: int  # the fouling team
    pid: int
    drawn: int
    kind: str  # "personal" | "loose ball"


@dataclass
class Unit:
    kind: str  # "shot" | "trip" | "tov"
    ev: Shot | Trip | Turnover
    fouls: list[Foul] = field(default_factory=list)

    @property
    def pts(self) -> int:
        ev = self.ev
        if isinstance(ev, Shot):
            return (ev.pts if ev.made else 0) + (sum(ev.and1.made) if ev.and1 else 0)
        if isinstance(ev, Trip):
            return sum(ev.made)
        return 0

    def final_rebound(self) -> Rebound | None:
        ev = self.ev
        if isinstance(ev, Shot):
            if ev.and1 is not None:
                return ev.and1.reb
            return ev.reb
        if isinstance(ev, Trip):
            return ev.reb
        return None

    def continues(self) -> bool:
        """True when the unit ends with an offensive rebound (the possession goes on)."""
        r = self.final_rebound()
        return bool(r and r.offensive)


@dataclass
class Possession:
    side: int
    units: list[Unit]
    period: int = 0
    start: float = 0.0  # seconds elapsed in the period
    end: float = 0.0
    fastbreak: bool = False
    from_turnover: bool = False

    @property
    def pts(self) -> int:
        return sum(u.pts for u in self.units)


def _polar(dist_ft: float, theta_deg: float) -> tuple[int, int]:
    t = math.radians(theta_deg)
    return int(round(dist_ft * 10 * math.sin(t))), int(round(dist_ft * 10 * math.cos(t)))


def _in_paint(xl: int, yl: int) -> bool:
    return abs(xl) <= 80 and yl <= 137


def shot_geometry(rng: random.Random, pts: int, made: bool) -> tuple[str, int, int, str, str | None]:
    """(zone, xLegacy, yLegacy, subType, descriptor) for one field-goal attempt."""
    if pts == 3:
        r = rng.random()
        if r < 0.22:
            zone = LC3 if r < 0.11 else RC3
            xl = rng.randint(222, 234) * (-1 if zone == LC3 else 1)
            yl = rng.randint(-4, 88)
        else:
            zone = ATB
            d = rng.uniform(23.9, 27.5) if rng.random() < 0.9 else rng.uniform(27.5, 33.0)
            xl, yl = _polar(d, rng.uniform(-64, 64))
        desc = rng.choice([None, None, None, "pullup", "step back", "running pull-up"])
        return zone, xl, yl, "Jump Shot", desc
    r = rng.random()
    ra_p, paint_p = (0.52, 0.22) if made else (0.33, 0.25)
    if r < ra_p:
        while True:
            xl, yl = _polar(rng.uniform(0.0, 3.8), rng.uniform(-80, 80))
            if math.hypot(xl, yl) <= 39:
                break
        sub, desc = rng.choice([("Layup", "driving"), ("Layup", "cutting"), ("Layup", None),
                                ("Layup", "driving finger roll"), ("Layup", "putback"),
                                ("DUNK", "driving"), ("DUNK", "cutting"), ("DUNK", "alley-oop"),
                                ("DUNK", None), ("Layup", "running"), ("Hook", None)])
        return RA, xl, yl, sub, desc
    if r < ra_p + paint_p:
        while True:
            xl, yl = _polar(rng.uniform(4.2, 7.9), rng.uniform(-70, 70))
            if 41 <= math.hypot(xl, yl) <= 79 and _in_paint(xl, yl):
                break
        sub, desc = rng.choice([("Jump Shot", "driving floating"), ("Hook", "turnaround"),
                                ("Hook", "driving"), ("Layup", "driving"), ("Jump Shot", "turnaround")])
        return PAINT, xl, yl, sub, desc
    while True:
        xl, yl = _polar(rng.uniform(8.3, 21.6), rng.uniform(-85, 85))
        if 81 <= math.hypot(xl, yl) <= 218 and not _in_paint(xl, yl) and abs(xl) < 220:
            break
    desc = rng.choice([None, "pullup", "pullup", "turnaround fadeaway", "step back", "fadeaway"])
    return MID, xl, yl, "Jump Shot", desc
