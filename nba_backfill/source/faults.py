"""Fault injection for the offline source: rules, matching, `times` accounting, the faults file.

A rule matches a request when its endpoint matches (exact name, a group — "stats", "cdn",
"bdl" — or None/"*" for any) and its date / game id fall inside what the request concerns
(per-game endpoints: the game and its date; date endpoints: their date or date range). Rules
with a date or game id never match scheduleleaguev2 (a whole-season request) unless they name it.

A "correction" rule is not matched per request: from its `since` moment on, every answer comes
from the store with the correction applied (corrections.py).

Faults file: JSON, either a list of rule objects or {"faults": [...], "rate_limit_per_second": n,
"base_latency": s}; re-read whenever its mtime changes. `times` consumption of file rules is
kept in "<file>.state.json" under a file lock, so every process reading the file (e.g. Dagster
step subprocesses) shares the same budget; it restarts when the file changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nba_backfill.source import corrections
from nba_backfill.source.common import parse_date

log = logging.getLogger(__name__)

KINDS = ("status", "latency", "timeout", "truncated", "malformed", "empty", "drop_game", "correction")
BODY_KINDS = ("status", "timeout", "truncated", "malformed", "empty")
GROUPS = {"stats": "stats", "cdn": "cdn", "livedata": "cdn", "bdl": "bdl", "balldontlie": "bdl"}
DEFAULT_FILE_NAME = "offline_faults.json"


def endpoint_group(endpoint: str) -> str:
    if endpoint == "playbyplay":
        return "cdn"
    if endpoint.startswith("bdl_"):
        return "bdl"
    return "stats"


def since_timestamp(value: str | None) -> float:
    """Epoch seconds of an ISO-8601 time ("2026-12-06T12:00:00Z", naive = UTC, a date = its
    midnight UTC); None = since always."""
    if value is None:
        return -math.inf
    try:
        ts = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"since is not an ISO-8601 time: {value!r}") from None
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.timezone.utc)).timestamp()


@dataclass
class FaultRule:
    """One injected fault. kind: status | latency | timeout | truncated | malformed | empty |
    drop_game | correction."""

    kind: str
    endpoint: str | list[str] | None = None  # e.g. "boxscoretraditionalv3", "playbyplay", "bdl_stats"
    date: str | None = None  # game date the request concerns (YYYY-MM-DD or MM/DD/YYYY)
    game_id: str | None = None
    times: int | None = None  # apply to the first N matching requests only (None = always)
    status: int = 500  # kind="status"
    retry_after: float | None = None  # Retry-After seconds (kind="status"; default 1 for 429/503)
    delay: float = 0.0  # seconds: latency sleep / timeout wait
    player_id: int | None = None  # kind="correction": the corrected player (NBA PLAYER_ID)
    stat: str | None = None  # kind="correction": one of corrections.STATS
    delta: int = 0  # kind="correction": the change, e.g. 2 (points) or -1
    since: str | None = None  # kind="correction": ISO-8601 time it takes effect (None = always)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        self.date = parse_date(self.date, "date") if self.date else None
        if self.game_id is not None:
            self.game_id = str(self.game_id).zfill(10)
        if self.kind == "correction":
            self._check_correction()
        elif self.player_id is not None or self.stat is not None or self.delta or self.since is not None:
            raise ValueError(f"player_id, stat, delta and since belong to kind 'correction', not {self.kind!r}")
        if self.kind == "drop_game" and not (self.game_id or self.date):
            raise ValueError("a drop_game fault needs a game_id or a date")
        if self.kind == "status" and self.retry_after is None and self.status in (429, 503):
            self.retry_after = 1.0

    def _check_correction(self) -> None:
        if not self.game_id or self.player_id is None:
            raise ValueError("a correction needs a game_id and a player_id")
        if self.endpoint not in (None, "", "*") or self.date or self.times is not None:
            raise ValueError("a correction applies to every endpoint from `since` on: "
                             "endpoint, date and times are not allowed")
        if isinstance(self.player_id, bool) or not str(self.player_id).isdigit():
            raise ValueError(f"correction player_id must be an NBA player id, not {self.player_id!r}")
        self.player_id = int(self.player_id)
        stat = str(self.stat or "").lower()
        if stat not in corrections.STATS:
            raise ValueError(f"unknown correction stat {self.stat!r}; expected one of {corrections.STATS}")
        self.stat = stat
        if isinstance(self.delta, bool) or not isinstance(self.delta, int) or self.delta == 0:
            raise ValueError(f"correction delta must be a non-zero integer, not {self.delta!r}")
        self.since_ts = since_timestamp(self.since)

    def correction_key(self) -> corrections.Key:
        return (self.game_id, self.player_id, self.stat, self.delta)

    @classmethod
    def from_dict(cls, d: dict) -> "FaultRule":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict:
        """The rule as a faults-file object: kind plus the fields that differ from their default."""
        return {"kind": self.kind, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                                      if f.name != "kind" and getattr(self, f.name) != f.default}}

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


def validate_corrections(rules: list[FaultRule]) -> None:
    """Raise corrections.CorrectionError (a ValueError naming the rule and the cause) unless the
    correction rules apply to the bundled data alone and together, in order of `since`."""
    timed = [(r.since_ts, r.correction_key()) for r in rules if r.kind == "correction"]
    if timed:
        corrections.validate(timed)


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
        validate_corrections([r for _, r in self._code])

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
            validate_corrections([r for _, r in self._code + rules])
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

    def corrections(self, now: float | None = None) -> tuple[corrections.Key, ...]:
        """The corrections in effect at `now` (epoch seconds; default: the current time)."""
        now = time.time() if now is None else now
        return tuple(r.correction_key() for _, r in self.rules()
                     if r.kind == "correction" and r.since_ts <= now)

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
            if rule.kind == "correction" or not rule_applies(rule, endpoint, scope, date_of):
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
