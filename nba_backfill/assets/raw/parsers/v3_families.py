"""The nested box score endpoints parsed by `boxscore_v3`: statistics fields and their types.

Field lists follow the recorded responses (api_samples) for traditional/advanced/misc/scoring/
usage v3 and nba_api's documented data sets for boxscoredefensivev2 and boxscoreplayertrackv3.
"""

from __future__ import annotations

from nba_backfill.assets.raw.parsers.boxscore_v3 import Field, V3Family, fields

TRADITIONAL_V3 = V3Family(
    root="boxScoreTraditional",
    player_fields=(),
    team_fields=(
        Field("fieldGoalsMade", "INT64", "fg_made"),
        Field("fieldGoalsAttempted", "INT64", "fg_attempted"),
        Field("threePointersMade", "INT64", "three_pt_made"),
        Field("threePointersAttempted", "INT64", "three_pt_attempted"),
        Field("freeThrowsMade", "INT64", "ft_made"),
        Field("freeThrowsAttempted", "INT64", "ft_attempted"),
        Field("reboundsOffensive", "INT64", "offensive_rebounds"),
        Field("reboundsDefensive", "INT64", "defensive_rebounds"),
        Field("reboundsTotal", "INT64", "total_rebounds"),
        Field("assists", "INT64", "assists"),
        Field("steals", "INT64", "steals"),
        Field("blocks", "INT64", "blocks"),
        Field("turnovers", "INT64", "turnovers"),
        Field("foulsPersonal", "INT64", "personal_fouls"),
        Field("points", "INT64", "points"),
        Field("plusMinusPoints", "FLOAT64", "plus_minus"),
    ),
)

_ADVANCED = fields(
    "FLOAT64", "estimatedOffensiveRating", "offensiveRating", "estimatedDefensiveRating",
    "defensiveRating", "estimatedNetRating", "netRating", "assistPercentage", "assistToTurnover",
    "assistRatio", "offensiveReboundPercentage", "defensiveReboundPercentage", "reboundPercentage",
    "turnoverRatio", "effectiveFieldGoalPercentage", "trueShootingPercentage", "usagePercentage",
    "estimatedUsagePercentage", "estimatedPace", "pace", "pacePer40", "possessions", "PIE",
)
ADVANCED = V3Family(
    root="boxScoreAdvanced",
    player_fields=_ADVANCED,
    team_fields=_ADVANCED + fields("FLOAT64", "estimatedTeamTurnoverPercentage"),
)

_MISC = fields(
    "INT64", "pointsOffTurnovers", "pointsSecondChance", "pointsFastBreak", "pointsPaint",
    "oppPointsOffTurnovers", "oppPointsSecondChance", "oppPointsFastBreak", "oppPointsPaint",
    "blocks", "blocksAgainst", "foulsPersonal", "foulsDrawn",
)
MISC = V3Family(root="boxScoreMisc", player_fields=_MISC, team_fields=_MISC)

_SCORING = fields(
    "FLOAT64", "percentageFieldGoalsAttempted2pt", "percentageFieldGoalsAttempted3pt",
    "percentagePoints2pt", "percentagePointsMidrange2pt", "percentagePoints3pt",
    "percentagePointsFastBreak", "percentagePointsFreeThrow", "percentagePointsOffTurnovers",
    "percentagePointsPaint", "percentageAssisted2pt", "percentageUnassisted2pt",
    "percentageAssisted3pt", "percentageUnassisted3pt", "percentageAssistedFGM",
    "percentageUnassistedFGM",
)
SCORING = V3Family(root="boxScoreScoring", player_fields=_SCORING, team_fields=_SCORING)

_USAGE = fields(
    "FLOAT64", "usagePercentage", "percentageFieldGoalsMade", "percentageFieldGoalsAttempted",
    "percentageThreePointersMade", "percentageThreePointersAttempted", "percentageFreeThrowsMade",
    "percentageFreeThrowsAttempted", "percentageReboundsOffensive", "percentageReboundsDefensive",
    "percentageReboundsTotal", "percentageAssists", "percentageTurnovers", "percentageSteals",
    "percentageBlocks", "percentageBlocksAllowed", "percentagePersonalFouls",
    "percentagePersonalFoulsDrawn", "percentagePoints",
)
USAGE = V3Family(root="boxScoreUsage", player_fields=_USAGE, team_fields=_USAGE)

_DEFENSE_COUNTS = (
    "switchesOn", "playerPoints", "defensiveRebounds", "matchupAssists", "matchupTurnovers",
    "steals", "blocks", "matchupFieldGoalsMade", "matchupFieldGoalsAttempted",
    "matchupThreePointersMade", "matchupThreePointersAttempted",
)
DEFENSE = V3Family(
    root="boxScoreDefensive",
    player_fields=(
        fields("FLOAT64", "partialPossessions")
        + fields("INT64", *_DEFENSE_COUNTS)
        + fields("FLOAT64", "matchupFieldGoalPercentage", "matchupThreePointerPercentage")
    ),
    team_fields=(),
    player_minutes="matchupMinutes",
    team_sums=("partialPossessions", *_DEFENSE_COUNTS),
)

_TRACKING = (
    fields("FLOAT64", "distance")
    + fields("INT64", "reboundChancesOffensive", "reboundChancesDefensive", "reboundChancesTotal",
             "touches", "secondaryAssists", "freeThrowAssists", "passes", "assists",
             "contestedFieldGoalsMade", "contestedFieldGoalsAttempted")
    + fields("FLOAT64", "contestedFieldGoalPercentage")
    + fields("INT64", "uncontestedFieldGoalsMade", "uncontestedFieldGoalsAttempted")
    + fields("FLOAT64", "uncontestedFieldGoalsPercentage", "fieldGoalPercentage")
    + fields("INT64", "defendedAtRimFieldGoalsMade", "defendedAtRimFieldGoalsAttempted")
    + fields("FLOAT64", "defendedAtRimFieldGoalPercentage")
)
TRACKING = V3Family(
    root="boxScorePlayerTrack",
    player_fields=fields("FLOAT64", "speed") + _TRACKING,
    team_fields=_TRACKING,
)
