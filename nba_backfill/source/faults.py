"""Fault injection for the offline source: rules, matching, `times` accounting, the faults file.

A rule matches a request when its endpoint matches (exact name, a group — "stats", "cdn",
"bdl" — or None/"*" for any) and its date / game id fall inside what the request concerns
(per-game endpoints: the game and its date; date endpoints: their date or date range). Rules
with a date or game id never match scheduleleaguev2 (a whole-season request) unless they name it.

Faults file: JSON, either a list of rule objects or {"faults": [...], "rate_limit_per_second": n,
"base_latency": s}; re-read whenever its mtime changes. `times` consumption of file rules is
kept in "<file>.state.json" under a file lock, so every process reading the file (e.g. Dagster
step subprocesses) shares the same budget; it restarts when the file changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nba_backfill.source.common import parse_date

log = logging.getLogger(__name__)

KINDS = ("status", "latency", "timeout", "truncated", "malformed", "empty", "drop_game")
BODY_KINDS = ("status", "timeout", "truncated", "malformed", "empty")
GROUPS = {"stats": "stats", "cdn": "cdn", "livedata": "cdn", "bdl": "bdl", "balldontlie": "bdl"}
DEFAULT_FILE_NAME = "offline_faults.json"


def endpoint_group(endpoint: str) -> str:
    if endpoint == "playbyplay":
        return "cdn"
    if endpoint.startswith("bdl_"):
        return "bdl"
    return "stats"


@dataclass
class FaultRule:
    """One injected fault. kind: status | latency | timeout | truncated | malformed | empty | drop_game."""

    kind: str
    endpoint: str | list[str] | None = None  # e.g. "boxscoretraditionalv3", "playbyplay", "bdl_stats"
    date: str | None = None  # game date the request concerns (YYYY-MM-DD or MM/DD/YYYY)
    game_id: str | None = None
    times: int | None = None  # apply to the first N matching requests only (None = always)
    status: int = 500  # kind="status"
    retry_after: float | None = None  # Retry-After seconds (kind="status"; default 1 for 429/503)
    delay: float = 0.0  # seconds: latency sleep / timeout wait

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        self.date = parse_date(self.date, "date") if self.date else None
        if self.game_id is not None:
            self.game_id = str(self.game_id).zfill(10)
        if self.kind == "drop_game" and not (self.game_id or self.date):
            raise ValueError("a drop_game fault needs a game_id or a date")
        if self.kind == "status" and self.retry_after is None and self.status in (429, 503):
            self.retry_after = 1.0

    @classmethod
    def from_dict(cls, d: dict) -> "FaultRule":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def endpoints(self) -> list[str] | None:
        if self.endpoint in (None, "", "*"):
            return None
        if isinstance(self.endpoint, str):
            return [e.strip().lower() for e in self.endpoint.replace("|", ",").split(",") if e.strip()]
        return [str(e).lower() for e in self.endpoint]

    def matches_endpoint(self, endpoint: str) -> bool:
        eps = self.endpoints()
        if eps is None:
            return True
        return endpoint in eps or any(GROUPS.get(e) == endpoint_group(endpoint) for e in eps)

    def names_exactly(self, endpoint: str) -> bool:
        eps = self.endpoints()
        return bool(eps and endpoint in eps)


@dataclass(frozen=True)
class Scope:
    """What a request concerns: a date range or set, and (per-game endpoints) the game id."""

    lo: str | None = None
    hi: str | None = None
    dates: frozenset[str] | None = None
    game_ids: frozenset[str] = frozenset()
    season_wide: bool = False

    def has_date(self, date: str) -> bool:
        if self.dates is not None:
            return date in self.dates
        return (self.lo is None or date >= self.lo) and (self.hi is None or date <= self.hi)


@dataclass
class Decision:
    drop: frozenset[str] = frozenset()
    latency: float = 0.0
    fault: FaultRule | None = None


def rule_applies(rule: FaultRule, endpoint: str, scope: Scope, date_of) -> bool:
    if not rule.matches_endpoint(endpoint):
        return False
    if scope.season_wide and (rule.date or rule.game_id) and not rule.names_exactly(endpoint):
        return False
    if rule.game_id:
        if scope.game_ids:
            if rule.game_id not in scope.game_ids:
                return False
        else:
            gdate = date_of(rule.game_id)
            if gdate is None or not scope.has_date(gdate):
                return False
    if rule.date and not scope.has_date(rule.date):
        return False
    return True


@dataclass
class _FileState:
    path: Path
    mtime: float | None = None
    rules: list[tuple[str, FaultRule]] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


class FaultSet:
    """Rules from code plus rules from a (re-read) JSON file; `times` accounting."""

    def __init__(self, rules: list[FaultRule] | None = None, faults_file: str | None = None):
        self._code = [(f"code:{i}", r) for i, r in enumerate(rules or [])]
        self._explicit_file = faults_file
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        self._file: _FileState | None = None

    # ------------------------------------------------------------------ file handling
    def file_path(self) -> Path | None:
        if self._explicit_file:
            return Path(self._explicit_file)
        home = os.environ.get("NBA_BACKFILL_HOME")
        return Path(home) / DEFAULT_FILE_NAME if home else None

    def _file_rules(self) -> _FileState | None:
        path = self.file_path()
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            self._file = _FileState(path)
            return self._file
        st = self._file
        if st is not None and st.path == path and st.mtime == mtime:
            return st
        try:
            raw = json.loads(path.read_text() or "[]")
            settings = {}
            if isinstance(raw, dict):
                settings = {k: v for k, v in raw.items() if k != "faults"}
                raw = raw.get("faults", [])
            digest = hashlib.sha1(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:12]
            prefix = f"file:{mtime}:{digest}:"
            rules = [(f"{prefix}{i}", FaultRule.from_dict(d)) for i, d in enumerate(raw)]
        except (OSError, ValueError, TypeError) as exc:
            log.warning("offline faults file %s ignored: %s", path, exc)
            if st is not None and st.path == path:
                st.mtime = mtime
                return st
            rules, settings = [], {}
        self._file = _FileState(path, mtime, rules, settings)
        return self._file

    def settings(self) -> dict:
        st = self._file_rules()
        return dict(st.settings) if st else {}

    def rules(self) -> list[tuple[str, FaultRule]]:
        st = self._file_rules()
        return self._code + (st.rules if st else [])

    # ------------------------------------------------------------------ times accounting
    @contextlib.contextmanager
    def _state(self):
        st = self._file
        if st is None:
            yield None
            return
        lock_path = Path(str(st.path) + ".lock")
        state_path = Path(str(st.path) + ".state.json")
        with open(lock_path, "a+") as lf:
            try:
                import fcntl

                fcntl.flock(lf, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - non-POSIX
                pass
            try:
                data = json.loads(state_path.read_text())
            except (OSError, ValueError):
                data = {}
            yield data
            state_path.write_text(json.dumps(data))

    def _consume(self, key: str, rule: FaultRule) -> bool:
        """True if the rule may fire now (and count it)."""
        if rule.times is None:
            return True
        if key.startswith("code:"):
            with self._lock:
                used = self._used.get(key, 0)
                if used >= rule.times:
                    return False
                self._used[key] = used + 1
                return True
        with self._lock, self._state() as data:
            data = data if data is not None else {}
            prefix = key.rsplit(":", 1)[0] + ":"
            for stale in [k for k in data if not k.startswith(prefix)]:
                del data[stale]
            used = int(data.get(key, 0))
            if used >= rule.times:
                return False
            data[key] = used + 1
            return True

    # ------------------------------------------------------------------ decision
    def decide(self, endpoint: str, scope: Scope, date_of, games_on) -> Decision:
        drop: set[str] = set()
        latency = 0.0
        fault = None
        for key, rule in self.rules():
            if not rule_applies(rule, endpoint, scope, date_of):
                continue
            if rule.kind == "drop_game":
                if endpoint == "scheduleleaguev2" and not rule.names_exactly(endpoint):
                    continue
                if self._consume(key, rule):
                    drop |= {rule.game_id} if rule.game_id else set(games_on(rule.date))
            elif rule.kind == "latency":
                if self._consume(key, rule):
                    latency += rule.delay
            elif fault is None and self._consume(key, rule):
                fault = rule
        return Decision(frozenset(drop), latency, fault)
