"""Failure categories, derived from the failure itself (check name, error types and text).

Pure functions: no Dagster instance, no I/O. The digest groups failures by `Category`; the
category comes from what the failure says, never from where it happened:
- the table core's `partition_ok` → from its cause kind: a malformed or missing landed object →
  source data; an incomplete lookback → lookback gaps; a failed check (own or upstream) → the
  category of the check it names; else as an error with that text;
- a check named `lookback_complete` (or any `*lookback*` check) → lookback gaps;
- a completeness check (`games_complete`, `teams_complete`, any `*_complete`/`*completeness*`)
  → completeness; a lake landing check (`files_landed`: the source left a game out) → source data;
- a distribution or range check (`*_distribution`, `*_range`, `*_ranges`) → distributions;
- a step error raised by the NBA HTTP client (`NbaApiError`: endpoint, context and HTTP status
  in its message) or by httpx → source HTTP errors;
- a step error about bad source data (a malformed or missing landed object, "0 rows, expected 1"
  for a game the source dropped) → source data; one naming a failed data check → that check's;
- anything else (other checks, exceptions in our code) → code errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from nba_backfill.checks.results import PARTITION_OK


class Category(str, Enum):
    """Digest groups, in the order the digest lists them."""

    SOURCE_HTTP = "source HTTP errors"
    SOURCE_DATA = "source data problems"
    COMPLETENESS = "completeness"
    DISTRIBUTIONS = "distributions"
    LOOKBACK_GAPS = "lookback gaps"
    CODE_ERRORS = "code errors"


CATEGORY_ORDER = tuple(Category)

_NAMED_CHECK = re.compile(r"\bcheck (\w+)")
_SOURCE_ERROR_TYPES = {
    "NbaApiError",
    "HTTPStatusError",
    "TransportError",
    "TimeoutException",
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
}
# what a step says when the source's data (not our code) is wrong: a landed object that does not
# parse or is not there, or a game the source dropped ("GameSummary: 0 rows, expected 1")
_SOURCE_DATA_TEXT = re.compile(
    r"malformed landed object|landed object \S* ?(is )?missing|landed_object_(malformed|missing)"
    r"|\b\d+ rows?, expected \d+",
    re.IGNORECASE,
)
LANDED_KINDS = {"landed_object_malformed", "landed_object_missing"}
BLOCK_KINDS = {"upstream_check_failed", "upstream_failed", "lookback_incomplete"}
# NbaApiError message: "<endpoint> [<context>]: HTTP <status> ..." or "...: timeout (...) after 5 attempts"
_NBA_API_MESSAGE = re.compile(r"NbaApiError:\s*(?P<endpoint>[\w./-]+)(?: \[[^\]]*\])?: (?P<cause>.*)")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def named_checks(text: str) -> list[str]:
    """Check names a message mentions ("failed blocking check games_complete", "check x: ...")."""
    return [n for n in _NAMED_CHECK.findall(text or "") if n != PARTITION_OK]


def classify_check(check_name: str, message: str = "", cause_kind: str = "") -> Category:
    """Category of a failed check, from its name (and, for `partition_ok`, its cause)."""
    name = check_name.lower()
    if name == PARTITION_OK:
        if cause_kind in LANDED_KINDS:
            return Category.SOURCE_DATA
        if cause_kind == "lookback_incomplete":
            return Category.LOOKBACK_GAPS
        for named in named_checks(message):
            found = classify_check(named)
            if found is not Category.CODE_ERRORS:
                return found
        return classify_error((), message)
    if "lookback" in name:
        return Category.LOOKBACK_GAPS
    if name.endswith("_complete") or "completeness" in name:
        return Category.COMPLETENESS
    if name.endswith("landed"):
        return Category.SOURCE_DATA
    if "distribution" in name or re.search(r"_ranges?$", name) or name in {"range", "ranges"}:
        return Category.DISTRIBUTIONS
    return Category.CODE_ERRORS


def classify_error(error_types: Iterable[str], text: str) -> Category:
    """Category of a step/run error from the exception class names in its chain and its text."""
    types = {t.rsplit(".", 1)[-1] for t in error_types}
    if types & _SOURCE_ERROR_TYPES or "NbaApiError" in text:
        return Category.SOURCE_HTTP
    if _SOURCE_DATA_TEXT.search(text or ""):
        return Category.SOURCE_DATA
    for named in named_checks(text):
        found = classify_check(named)
        if found is not Category.CODE_ERRORS:
            return found
    return Category.CODE_ERRORS


def classify(
    *, check_name: str | None = None, text: str = "", error_types: Iterable[str] = (),
    cause_kind: str = "",
) -> Category:
    """One entry point: a failed check (check_name given) or an error (types + text)."""
    if check_name:
        return classify_check(check_name, text, cause_kind)
    return classify_error(error_types, text)


def cause_key(
    category: Category, *, check_name: str | None = None, text: str = "", cause_kind: str = ""
) -> str:
    """Short sub-group label inside a category: `scoreboardv2 HTTP 503`, a check name, a class,
    `blocked by games_complete`, `landed_object_malformed`."""
    if check_name == PARTITION_OK:
        named = named_checks(text)
        if cause_kind in BLOCK_KINDS or not cause_kind:
            return f"blocked by {named[0]}" if named else f"blocked ({cause_kind or 'upstream'})"
        return f"{cause_kind}: {named[0]}" if cause_kind == "checks_failed" and named else cause_kind
    if check_name:
        return check_name
    if category is Category.SOURCE_HTTP:
        match = _NBA_API_MESSAGE.search(text)
        status = _HTTP_STATUS.search(text)
        endpoint = match.group("endpoint") if match else "source"
        if "truncated response" in text:
            return f"{endpoint} truncated response"
        if status:
            return f"{endpoint} HTTP {status.group(1)}"
        cause = match.group("cause").split(" after ")[0] if match else "request failed"
        return f"{endpoint} {cause}".strip()
    if category is Category.SOURCE_DATA:
        found = _SOURCE_DATA_TEXT.search(text)
        return found.group(0).lower() if found else "bad source data"
    first = first_line(text)
    return first.split(":", 1)[0] if ":" in first else (first[:60] or "error")


def first_line(text: str) -> str:
    """First non-empty line, without a dotted module prefix on an exception name."""
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            head, sep, rest = line.partition(": ")
            if sep and re.fullmatch(r"[\w.]+\.\w+", head):
                return f"{head.rsplit('.', 1)[-1]}: {rest}"
            return line
    return ""
