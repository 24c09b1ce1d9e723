"""Box-score formulas for the derived stats.nba.com v3 box scores.

Possessions = FGA + 0.44*FTA + TOV - OREB; ratings are points per 100 possessions; player
shares use the minutes-share convention (team minutes / 5). On-court quantities the data does
not have (a player's own ratings, opponents' points while he played) are approximated from the
team's numbers, the player's minutes and his plus-minus.
"""

from __future__ import annotations

STAT_KEYS = ("FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB", "AST", "STL", "BLK",
             "TOV", "PF", "PTS")


def _r(x: float, nd: int) -> float:
    return round(float(x), nd)


def div(a: float, b: float) -> float:
    return a / b if b else 0.0


def possessions(t: dict) -> float:
    return t["FGA"] + 0.44 * t["FTA"] + t["TOV"] - t["OREB"]


def traditional(s: dict, minutes: str, plus_minus: float | None = None) -> dict:
    out = {"minutes": minutes,
           "fieldGoalsMade": s["FGM"], "fieldGoalsAttempted": s["FGA"],
           "fieldGoalsPercentage": _r(div(s["FGM"], s["FGA"]), 3),
           "threePointersMade": s["FG3M"], "threePointersAttempted": s["FG3A"],
           "threePointersPercentage": _r(div(s["FG3M"], s["FG3A"]), 3),
           "freeThrowsMade": s["FTM"], "freeThrowsAttempted": s["FTA"],
           "freeThrowsPercentage": _r(div(s["FTM"], s["FTA"]), 3),
           "reboundsOffensive": s["OREB"], "reboundsDefensive": s["DREB"], "reboundsTotal": s["REB"],
           "assists": s["AST"], "steals": s["STL"], "blocks": s["BLK"], "turnovers": s["TOV"],
           "foulsPersonal": s["PF"], "points": s["PTS"]}
    if plus_minus is not None:
        out["plusMinusPoints"] = float(plus_minus)
    return out


class TeamContext:
    """Numbers shared by every player of one team in one game."""

    def __init__(self, team: dict, opp: dict, team_minutes: int):
        self.t, self.o = team, opp
        self.tm5 = team_minutes / 5.0
        self.poss_t, self.poss_o = possessions(team), possessions(opp)
        self.pace = 48.0 * (self.poss_t + self.poss_o) / 2.0 / self.tm5
        self.ortg = 100.0 * div(team["PTS"], self.poss_t)
        self.drtg = 100.0 * div(opp["PTS"], self.poss_o)
        g = {k: team[k] + opp[k] for k in STAT_KEYS}
        self.pie_den = _pie_num(g)


def _pie_num(s: dict) -> float:
    return (s["PTS"] + s["FGM"] + s["FTM"] - s["FGA"] - s["FTA"] + s["DREB"] + 0.5 * s["OREB"]
            + s["AST"] + s["STL"] + 0.5 * s["BLK"] - s["PF"] - s["TOV"])


def advanced(s: dict, minutes: float, ctx: TeamContext, plus_minus: float, minutes_str: str,
             is_team: bool = False) -> dict:
    t, o = ctx.t, ctx.o
    share = div(minutes, ctx.tm5)  # fraction of the game the player was on the floor
    poss = ctx.poss_t * share
    if is_team:
        ortg, drtg = ctx.ortg, ctx.drtg
    elif minutes <= 0:
        ortg = drtg = 0.0
    else:
        adj = max(-60.0, min(60.0, 50.0 * div(plus_minus, max(poss, 1.0))))
        ortg, drtg = ctx.ortg + adj, ctx.drtg - adj
    plays = s["FGA"] + 0.44 * s["FTA"] + s["TOV"]
    team_plays = t["FGA"] + 0.44 * t["FTA"] + t["TOV"]
    if is_team:
        ast_pct = div(s["AST"], s["FGM"])
        oreb_pct = div(s["OREB"], s["OREB"] + o["DREB"])
        dreb_pct = div(s["DREB"], s["DREB"] + o["OREB"])
        reb_pct = div(s["REB"], s["REB"] + o["REB"])
        usg = 1.0
    else:
        ast_pct = div(s["AST"], share * t["FGM"] - s["FGM"]) if share else 0.0
        oreb_pct = div(s["OREB"], share * (t["OREB"] + o["DREB"]))
        dreb_pct = div(s["DREB"], share * (t["DREB"] + o["OREB"]))
        reb_pct = div(s["REB"], share * (t["REB"] + o["REB"]))
        usg = div(plays, share * team_plays)
    active = is_team or minutes > 0
    pace = ctx.pace if active else 0.0
    out = {"minutes": minutes_str,
           "estimatedOffensiveRating": _r(ortg, 1), "offensiveRating": _r(ortg, 1),
           "estimatedDefensiveRating": _r(drtg, 1), "defensiveRating": _r(drtg, 1),
           "estimatedNetRating": _r(ortg - drtg, 1), "netRating": _r(ortg - drtg, 1),
           "assistPercentage": _r(max(0.0, min(ast_pct, 1.0)), 3),
           "assistToTurnover": _r(div(s["AST"], s["TOV"]), 2),
           "assistRatio": _r(100 * div(s["AST"], plays + s["AST"]), 1),
           "offensiveReboundPercentage": _r(min(oreb_pct, 1.0), 3),
           "defensiveReboundPercentage": _r(min(dreb_pct, 1.0), 3),
           "reboundPercentage": _r(min(reb_pct, 1.0), 3)}
    if is_team:
        out["estimatedTeamTurnoverPercentage"] = _r(100 * div(s["TOV"], plays), 3)
    out.update({"turnoverRatio": _r(100 * div(s["TOV"], plays), 1),
                "effectiveFieldGoalPercentage": _r(div(s["FGM"] + 0.5 * s["FG3M"], s["FGA"]), 3),
                "trueShootingPercentage": _r(div(s["PTS"], 2 * (s["FGA"] + 0.44 * s["FTA"])), 3),
                "usagePercentage": _r(min(usg, 1.0), 3),
                "estimatedUsagePercentage": _r(min(usg, 1.0), 3),
                "estimatedPace": _r(pace, 2), "pace": _r(pace, 2),
                "pacePer40": _r(pace * 40 / 48, 2),
                "possessions": float(round(poss)) if active else 0.0,
                "PIE": _r(div(_pie_num(s), ctx.pie_den), 3)})
    return out


def four_factors(s: dict, ctx: TeamContext, minutes_str: str) -> dict:
    t, o = ctx.t, ctx.o

    def tov_pct(x):
        return _r(div(x["TOV"], x["FGA"] + 0.44 * x["FTA"] + x["TOV"]), 3)

    return {"minutes": minutes_str,
            "effectiveFieldGoalPercentage": _r(div(s["FGM"] + 0.5 * s["FG3M"], s["FGA"]), 3),
            "freeThrowAttemptRate": _r(div(s["FTA"], s["FGA"]), 3),
            "teamTurnoverPercentage": tov_pct(t),
            "offensiveReboundPercentage": _r(div(t["OREB"], t["OREB"] + o["DREB"]), 3),
            "oppEffectiveFieldGoalPercentage": _r(div(o["FGM"] + 0.5 * o["FG3M"], o["FGA"]), 3),
            "oppFreeThrowAttemptRate": _r(div(o["FTA"], o["FGA"]), 3),
            "oppTeamTurnoverPercentage": tov_pct(o),
            "oppOffensiveReboundPercentage": _r(div(o["OREB"], o["OREB"] + t["DREB"]), 3)}


def usage(s: dict, extra: dict, t: dict, t_extra: dict, share: float, minutes_str: str) -> dict:
    team_plays = t["FGA"] + 0.44 * t["FTA"] + t["TOV"]
    plays = s["FGA"] + 0.44 * s["FTA"] + s["TOV"]
    usg = 1.0 if s is t else div(plays, share * team_plays)

    def pct(k, src=s, tsrc=t):
        return _r(div(src[k], tsrc[k]), 3)

    return {"minutes": minutes_str, "usagePercentage": _r(min(usg, 1.0), 3),
            "percentageFieldGoalsMade": pct("FGM"), "percentageFieldGoalsAttempted": pct("FGA"),
            "percentageThreePointersMade": pct("FG3M"),
            "percentageThreePointersAttempted": pct("FG3A"),
            "percentageFreeThrowsMade": pct("FTM"), "percentageFreeThrowsAttempted": pct("FTA"),
            "percentageReboundsOffensive": pct("OREB"), "percentageReboundsDefensive": pct("DREB"),
            "percentageReboundsTotal": pct("REB"), "percentageAssists": pct("AST"),
            "percentageTurnovers": pct("TOV"), "percentageSteals": pct("STL"),
            "percentageBlocks": pct("BLK"),
            "percentageBlocksAllowed": pct("blocks_against", extra, t_extra),
            "percentagePersonalFouls": pct("PF"),
            "percentagePersonalFoulsDrawn": pct("fouls_drawn", extra, t_extra),
            "percentagePoints": pct("PTS")}


def scoring(s: dict, extra: dict, minutes_str: str) -> dict:
    fg2m, fg2a, pts = s["FGM"] - s["FG3M"], s["FGA"] - s["FG3A"], s["PTS"]
    a2, a3 = extra.get("ast2m", 0), extra.get("ast3m", 0)
    return {"minutes": minutes_str,
            "percentageFieldGoalsAttempted2pt": _r(div(fg2a, s["FGA"]), 3),
            "percentageFieldGoalsAttempted3pt": _r(div(s["FG3A"], s["FGA"]), 3),
            "percentagePoints2pt": _r(div(2 * fg2m, pts), 3),
            "percentagePointsMidrange2pt": _r(div(extra.get("pts_mid", 0), pts), 3),
            "percentagePoints3pt": _r(div(3 * s["FG3M"], pts), 3),
            "percentagePointsFastBreak": _r(div(extra.get("pts_fb", 0), pts), 3),
            "percentagePointsFreeThrow": _r(div(s["FTM"], pts), 3),
            "percentagePointsOffTurnovers": _r(div(extra.get("pts_off_to", 0), pts), 3),
            "percentagePointsPaint": _r(div(extra.get("pts_paint", 0), pts), 3),
            "percentageAssisted2pt": _r(div(a2, fg2m), 3),
            "percentageUnassisted2pt": _r(div(fg2m - a2, fg2m), 3),
            "percentageAssisted3pt": _r(div(a3, s["FG3M"]), 3),
            "percentageUnassisted3pt": _r(div(s["FG3M"] - a3, s["FG3M"]), 3),
            "percentageAssistedFGM": _r(div(a2 + a3, s["FGM"]), 3),
            "percentageUnassistedFGM": _r(div(s["FGM"] - a2 - a3, s["FGM"]), 3)}
