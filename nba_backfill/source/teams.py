"""Static NBA team facts (2020-21 .. 2024-25) used to dress the replayed responses.

NBA team ids, tricodes, cities, nicknames, slugs and arenas are the values NBA.com's
scheduleLeagueV2 for 2023-24 carries; balldontlie team ids are balldontlie's own 1..30
(alphabetical by city); conferences/divisions are the NBA's for these seasons.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Team:
    team_id: int
    tricode: str
    city: str
    name: str  # nickname, e.g. "Hawks"
    slug: str
    conference: str
    division: str
    bdl_id: int
    arena: str
    arena_city: str
    arena_state: str

    @property
    def full_name(self) -> str:
        return f"{self.city} {self.name}"


_ROWS = [
    # team_id, tricode, city, name, slug, conference, division, bdl, arena, arena city, state
    (1610612737, "ATL", "Atlanta", "Hawks", "hawks", "East", "Southeast", 1, "State Farm Arena", "Atlanta", "GA"),
    (1610612738, "BOS", "Boston", "Celtics", "celtics", "East", "Atlantic", 2, "TD Garden", "Boston", "MA"),
    (1610612751, "BKN", "Brooklyn", "Nets", "nets", "East", "Atlantic", 3, "Barclays Center", "Brooklyn", "NY"),
    (1610612766, "CHA", "Charlotte", "Hornets", "hornets", "East", "Southeast", 4, "Spectrum Center", "Charlotte", "NC"),
    (1610612741, "CHI", "Chicago", "Bulls", "bulls", "East", "Central", 5, "United Center", "Chicago", "IL"),
    (1610612739, "CLE", "Cleveland", "Cavaliers", "cavaliers", "East", "Central", 6, "Rocket Mortgage FieldHouse", "Cleveland", "OH"),
    (1610612742, "DAL", "Dallas", "Mavericks", "mavericks", "West", "Southwest", 7, "American Airlines Center", "Dallas", "TX"),
    (1610612743, "DEN", "Denver", "Nuggets", "nuggets", "West", "Northwest", 8, "Ball Arena", "Denver", "CO"),
    (1610612765, "DET", "Detroit", "Pistons", "pistons", "East", "Central", 9, "Little Caesars Arena", "Detroit", "MI"),
    (1610612744, "GSW", "Golden State", "Warriors", "warriors", "West", "Pacific", 10, "Chase Center", "San Francisco", "CA"),
    (1610612745, "HOU", "Houston", "Rockets", "rockets", "West", "Southwest", 11, "Toyota Center", "Houston", "TX"),
    (1610612754, "IND", "Indiana", "Pacers", "pacers", "East", "Central", 12, "Gainbridge Fieldhouse", "Indianapolis", "IN"),
    (1610612746, "LAC", "LA", "Clippers", "clippers", "West", "Pacific", 13, "Crypto.com Arena", "Los Angeles", "CA"),
    (1610612747, "LAL", "Los Angeles", "Lakers", "lakers", "West", "Pacific", 14, "Crypto.com Arena", "Los Angeles", "CA"),
    (1610612763, "MEM", "Memphis", "Grizzlies", "grizzlies", "West", "Southwest", 15, "FedExForum", "Memphis", "TN"),
    (1610612748, "MIA", "Miami", "Heat", "heat", "East", "Southeast", 16, "Kaseya Center", "Miami", "FL"),
    (1610612749, "MIL", "Milwaukee", "Bucks", "bucks", "East", "Central", 17, "Fiserv Forum", "Milwaukee", "WI"),
    (1610612750, "MIN", "Minnesota", "Timberwolves", "timberwolves", "West", "Northwest", 18, "Target Center", "Minneapolis", "MN"),
    (1610612740, "NOP", "New Orleans", "Pelicans", "pelicans", "West", "Southwest", 19, "Smoothie King Center", "New Orleans", "LA"),
    (1610612752, "NYK", "New York", "Knicks", "knicks", "East", "Atlantic", 20, "Madison Square Garden", "New York", "NY"),
    (1610612760, "OKC", "Oklahoma City", "Thunder", "thunder", "West", "Northwest", 21, "Paycom Center", "Oklahoma City", "OK"),
    (1610612753, "ORL", "Orlando", "Magic", "magic", "East", "Southeast", 22, "Amway Center", "Orlando", "FL"),
    (1610612755, "PHI", "Philadelphia", "76ers", "sixers", "East", "Atlantic", 23, "Wells Fargo Center", "Philadelphia", "PA"),
    (1610612756, "PHX", "Phoenix", "Suns", "suns", "West", "Pacific", 24, "Footprint Center", "Phoenix", "AZ"),
    (1610612757, "POR", "Portland", "Trail Blazers", "blazers", "West", "Northwest", 25, "Moda Center", "Portland", "OR"),
    (1610612758, "SAC", "Sacramento", "Kings", "kings", "West", "Pacific", 26, "Golden 1 Center", "Sacramento", "CA"),
    (1610612759, "SAS", "San Antonio", "Spurs", "spurs", "West", "Southwest", 27, "AT&T Center", "San Antonio", "TX"),
    (1610612761, "TOR", "Toronto", "Raptors", "raptors", "East", "Atlantic", 28, "Scotiabank Arena", "Toronto", "ON"),
    (1610612762, "UTA", "Utah", "Jazz", "jazz", "West", "Northwest", 29, "Delta Center", "Salt Lake City", "UT"),
    (1610612764, "WAS", "Washington", "Wizards", "wizards", "East", "Southeast", 30, "Capital One Arena", "Washington", "DC"),
]

TEAMS: dict[int, Team] = {row[0]: Team(*row) for row in _ROWS}
TEAMS_BY_TRICODE: dict[str, Team] = {t.tricode: t for t in TEAMS.values()}
TEAMS_BY_BDL_ID: dict[int, Team] = {t.bdl_id: t for t in TEAMS.values()}

# Neutral-site regular-season games in the data (Mexico City, Paris, NBA Cup semifinals in Las Vegas).
NEUTRAL_SITES: dict[str, tuple[str, str, str]] = {
    "0022400147": ("Arena CDMX", "Mexico City", "CMX"),
    "0022400621": ("Accor Arena", "Paris", ""),
    "0022400633": ("Accor Arena", "Paris", ""),
    "0022401229": ("T-Mobile Arena", "Las Vegas", "NV"),
    "0022401230": ("T-Mobile Arena", "Las Vegas", "NV"),
}


def arena_for(game_id: str, home_team_id: int) -> tuple[str, str, str, bool]:
    """(arena name, city, state, is_neutral) of a game."""
    if game_id in NEUTRAL_SITES:
        return (*NEUTRAL_SITES[game_id], True)
    t = TEAMS[home_team_id]
    return t.arena, t.arena_city, t.arena_state, False
