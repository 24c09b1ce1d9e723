"""The bundled game logs: loaded lazily once per process, indexed by date and by game.

Everything here is real data or a direct derivation of it (team totals, home/away from MATCHUP,
overtime periods from the team's minutes, win-loss records). Generated extras (tip-off times)
are deterministic functions of the game id.

Stat corrections (corrections.py) derive a corrected Store from the bundled one; a request runs
inside `using_store(corrected)` so every builder's `get_store()` sees it. Per-game caches key on
`store.version(game_id)` (() for an uncorrected game), so they never serve one version for the other.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import threading
import unicodedata
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
PARQUET_PATH = DATA_DIR / "player_game_logs.parquet"

STAT_COLS = ["MIN", "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
             "AST", "STL", "BLK", "TOV", "PF", "PLUS_MINUS"]
PCT_COLS = ["FG_PCT", "FG3_PCT", "FT_PCT"]

# stats.nba.com leaguegamelog PlayerOrTeam=P headers, in the API's order.
P_HEADERS = ["SEASON_ID", "PLAYER_ID", "PLAYER_NAME", "TEAM_ID", "TEAM_ABBREVIATION", "TEAM_NAME",
             "GAME_ID", "GAME_DATE", "MATCHUP", "WL", "MIN", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A",
             "FG3_PCT", "FTM", "FTA", "FT_PCT", "OREB", "DREB", "REB", "AST", "STL", "BLK", "TOV",
             "PF", "PTS", "PLUS_MINUS", "FANTASY_PTS", "VIDEO_AVAILABLE"]

_TIP_SLOTS = ["19:00", "19:00", "19:00", "19:30", "19:30", "19:30", "20:00", "20:00", "20:30",
              "21:00", "22:00", "22:00", "22:30", "15:30", "18:00"]


@dataclass(frozen=True)
class Game:
    game_id: str
    date: str  # YYYY-MM-DD (US Eastern game date)
    season: str  # "2023-24"
    season_id: str  # "22023"
    home_id: int
    away_id: int
    home_matchup: str
    away_matchup: str
    home_rows: tuple[int, ...]
    away_rows: tuple[int, ...]
    home_pts: int
    away_pts: int
    periods: int  # 4 + overtimes
    tip_et: str  # "19:30" (generated, deterministic)
    sequence: int = 0  # order within the date

    @property
    def season_year(self) -> int:
        return int(self.season[:4])

    @property
    def home_won(self) -> bool:
        return self.home_pts > self.away_pts

    def side_ids(self) -> tuple[int, int]:
        return self.home_id, self.away_id


def split_name(full: str) -> tuple[str, str]:
    parts = full.split(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def name_initial(full: str) -> str:
    first, last = split_name(full)
    return f"{first[0]}. {last}" if first else last


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("'", "").replace(".", "")).strip("-")


def _runs(values: list) -> list[tuple[int, int]]:
    """[start, end) spans of equal consecutive values."""
    out, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            out.append((start, i))
            start = i
    return out


def _home_abbr(matchup: str) -> str:
    if " vs. " in matchup:
        return matchup.split(" vs. ")[0].strip()
    return matchup.split(" @ ")[1].strip()


class Store:
    """Column arrays plus indexes; row materialisation is per request (cheap slices)."""

    # game id -> the stat corrections applied to that game (only in a corrected Store).
    corrections: dict[str, tuple] = {}

    def version(self, game_id: str) -> tuple:
        """The corrections applied to `game_id` (() when none): the key of every per-game cache."""
        return self.corrections.get(game_id, ()) if self.corrections else ()

    def season_version(self, season: str) -> tuple:
        """The corrections applied to games of `season`: the key of season-wide caches."""
        if not self.corrections:
            return ()
        return tuple(sorted(v for gid, v in self.corrections.items() if self.games[gid].season == season))

    def __init__(self, path: Path = PARQUET_PATH):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path).read()  # (read_table would import pyarrow.dataset + pandas)
        self.columns = table.column_names
        lists = {c: table.column(c).to_pylist() for c in self.columns}  # to_numpy imports pandas
        self.cols: dict[str, np.ndarray] = {
            c: np.asarray(v, dtype=np.int64 if pa.types.is_integer(table.schema.field(c).type) else object)
            for c, v in lists.items()}
        # The bundled file is sorted by (GAME_DATE, GAME_ID): date and game rows are contiguous.
        self.dates: list[str] = []
        self.date_bounds: dict[str, tuple[int, int]] = {}
        for s, e in _runs(lists["GAME_DATE"]):
            self.dates.append(lists["GAME_DATE"][s])
            self.date_bounds[lists["GAME_DATE"][s]] = (s, e)
        self._build_games(lists)
        self._build_records()

    # ------------------------------------------------------------------ indexes
    def _build_games(self, c: dict[str, list]) -> None:
        teams, abbrs, matchups = c["TEAM_ID"], c["TEAM_ABBREVIATION"], c["MATCHUP"]
        mins, pts = c["MIN"], c["PTS"]
        by_date: dict[str, list[dict]] = {}
        for s, e in _runs(c["GAME_ID"]):
            gid = c["GAME_ID"][s]
            home_abbr = _home_abbr(matchups[s])
            rows = range(s, e)
            home_rows = tuple(i for i in rows if abbrs[i] == home_abbr)
            away_rows = tuple(i for i in rows if abbrs[i] != home_abbr)
            team_min = sum(mins[i] for i in rows) / 2.0
            h, a = home_rows[0], away_rows[0]
            by_date.setdefault(c["GAME_DATE"][s], []).append(dict(
                game_id=gid, date=c["GAME_DATE"][s], season=c["SEASON_LABEL"][s],
                season_id=str(c["SEASON_ID"][s]), home_id=teams[h], away_id=teams[a],
                home_matchup=matchups[h], away_matchup=matchups[a],
                home_rows=home_rows, away_rows=away_rows,
                home_pts=sum(pts[i] for i in home_rows), away_pts=sum(pts[i] for i in away_rows),
                periods=4 + max(0, int(round((team_min - 240) / 25.0))),
                tip_et=_TIP_SLOTS[(int(gid) * 2654435761 >> 11) % len(_TIP_SLOTS)]))
        self.games: dict[str, Game] = {}
        self.games_by_date: dict[str, list[Game]] = {}
        self.seasons: dict[str, list[Game]] = {}
        for date, specs in by_date.items():
            specs.sort(key=lambda d: (d["tip_et"], d["game_id"]))
            seq = [Game(**d, sequence=i + 1) for i, d in enumerate(specs)]
            self.games_by_date[date] = seq
            for g in seq:
                self.games[g.game_id] = g
                self.seasons.setdefault(g.season, []).append(g)
        for games in self.seasons.values():
            games.sort(key=lambda g: (g.date, g.sequence))

    def _build_records(self) -> None:
        """Win-loss records after each game, and per-team history for standings by day."""
        self.records: dict[tuple[str, int], tuple[int, int]] = {}
        self.history: dict[tuple[str, int], list[tuple[str, int, int, int, int, int, int]]] = {}
        for season, games in self.seasons.items():
            rec: dict[int, list[int]] = {}
            for g in games:
                for tid, is_home in ((g.home_id, True), (g.away_id, False)):
                    won = g.home_won == is_home
                    r = rec.setdefault(tid, [0, 0, 0, 0, 0, 0])  # w, l, hw, hl, rw, rl
                    r[0 if won else 1] += 1
                    r[(2 if is_home else 4) + (0 if won else 1)] += 1
                    self.records[(g.game_id, tid)] = (r[0], r[1])
                    self.history.setdefault((season, tid), []).append((g.date, *r))
        self._history_dates = {k: [h[0] for h in v] for k, v in self.history.items()}

    # ------------------------------------------------------------------ queries
    def season_of_date(self, date: str) -> str | None:
        for label, games in self.seasons.items():
            if games[0].date <= date <= games[-1].date:
                return label
        return None

    def season_bounds(self, season: str) -> tuple[str, str] | None:
        games = self.seasons.get(season)
        return (games[0].date, games[-1].date) if games else None

    def row_span(self, date_from: str | None, date_to: str | None) -> tuple[int, int]:
        """Row index span [start, end) covering dates in [date_from, date_to] (inclusive)."""
        lo = bisect.bisect_left(self.dates, date_from) if date_from else 0
        hi = bisect.bisect_right(self.dates, date_to) if date_to else len(self.dates)
        if lo >= hi:
            return 0, 0
        return self.date_bounds[self.dates[lo]][0], self.date_bounds[self.dates[hi - 1]][1]

    def p_rows(self, start: int, end: int, drop_games: frozenset[str] = frozenset()) -> list[list]:
        """leaguegamelog P rows (P_HEADERS order) for row span [start, end)."""
        if start >= end:
            return []
        c = self.cols
        sl = {k: c[k][start:end].tolist() for k in self.columns}
        for k in PCT_COLS:
            sl[k] = [None if v != v else v for v in sl[k]]
        season_ids = [str(v) for v in sl["SEASON_ID"]]
        fantasy = [round(p + 1.2 * r + 1.5 * a + 3 * s + 3 * b - t, 1) for p, r, a, s, b, t in
                   zip(sl["PTS"], sl["REB"], sl["AST"], sl["STL"], sl["BLK"], sl["TOV"])]
        out = []
        for i in range(end - start):
            if drop_games and sl["GAME_ID"][i] in drop_games:
                continue
            out.append([season_ids[i], sl["PLAYER_ID"][i], sl["PLAYER_NAME"][i], sl["TEAM_ID"][i],
                        sl["TEAM_ABBREVIATION"][i], sl["TEAM_NAME"][i], sl["GAME_ID"][i],
                        sl["GAME_DATE"][i], sl["MATCHUP"][i], sl["WL"][i], sl["MIN"][i],
                        sl["FGM"][i], sl["FGA"][i], sl["FG_PCT"][i], sl["FG3M"][i], sl["FG3A"][i],
                        sl["FG3_PCT"][i], sl["FTM"][i], sl["FTA"][i], sl["FT_PCT"][i],
                        sl["OREB"][i], sl["DREB"][i], sl["REB"][i], sl["AST"][i], sl["STL"][i],
                        sl["BLK"][i], sl["TOV"][i], sl["PF"][i], sl["PTS"][i],
                        sl["PLUS_MINUS"][i], fantasy[i], 1])
        return out

    @lru_cache(maxsize=8192)
    def lines(self, game_id: str) -> tuple[tuple[dict, ...], tuple[dict, ...]]:
        """(home player lines, away player lines) as dicts of the parquet columns."""
        g = self.games[game_id]
        out = []
        for rows in (g.home_rows, g.away_rows):
            idx = np.asarray(rows)
            cols = {k: self.cols[k][idx].tolist() for k in self.columns}
            side = []
            for i in range(len(rows)):
                d = {k: cols[k][i] for k in self.columns}
                for k in PCT_COLS:
                    if d[k] != d[k]:
                        d[k] = None
                side.append(d)
            out.append(tuple(side))
        return out[0], out[1]

    def standings(self, season: str, date: str) -> dict[int, tuple[int, int, int, int, int, int]]:
        """team id -> (w, l, hw, hl, rw, rl) through `date` (inclusive)."""
        out = {}
        for (s, tid), dates in self._history_dates.items():
            if s != season:
                continue
            i = bisect.bisect_right(dates, date)
            out[tid] = self.history[(s, tid)][i - 1][1:] if i else (0, 0, 0, 0, 0, 0)
        return out

    def previous_meeting(self, game: Game) -> Game | None:
        """The teams' last meeting before `game` (any bundled season)."""
        pair = {game.home_id, game.away_id}
        for label in sorted(self.seasons, reverse=True):
            if label > game.season:
                continue
            for g in reversed(self.seasons[label]):
                if (g.date, g.sequence) < (game.date, game.sequence) and {g.home_id, g.away_id} == pair:
                    return g
        return None

    def season_series(self, game: Game) -> tuple[int, int]:
        """(home team wins, home team losses) vs this opponent this season, through `game`."""
        w = l = 0
        for g in self.seasons[game.season]:
            if (g.date, g.sequence) > (game.date, game.sequence):
                break
            if {g.home_id, g.away_id} == {game.home_id, game.away_id}:
                home_won_it = (g.home_pts > g.away_pts) == (g.home_id == game.home_id)
                w, l = (w + 1, l) if home_won_it else (w, l + 1)
        return w, l


_STORE: Store | None = None
_LOCK = threading.Lock()
_ACTIVE: ContextVar[Store | None] = ContextVar("offline_nba_store", default=None)


def get_store() -> Store:
    """The store of the current request (see `using_store`), else the process-wide bundled store
    (loaded on first use, never at import)."""
    active = _ACTIVE.get()
    if active is not None:
        return active
    return bundled_store()


@contextlib.contextmanager
def using_store(store: Store | None):
    """Run the block with `get_store()` answering `store` (None: the bundled store)."""
    token = _ACTIVE.set(store)
    try:
        yield store
    finally:
        _ACTIVE.reset(token)


def bundled_store() -> Store:
    """The store of the bundled parquet, uncorrected."""
    global _STORE
    if _STORE is None:
        with _LOCK:
            if _STORE is None:
                _STORE = Store()
    return _STORE
