"""Failure categories, derived from the failure itself (check name, error types and text).

Pure functions: no Dagster instance, no I/O. The digest groups failures by `Category`; the
category comes from what the failure says, never from where it happened:
- a check named `lookback_complete` (or any `*lookback*` check) → lookback gaps;
- a completeness check (`games_complete`, `teams_complete`, any `*_complete`/`*completeness*`)
  → completeness;
- a distribution or range check (`*_distribution`, `*_range`, `*_ranges`) → distributions;
- `upstream_checks_passed` (the cross-run guard) → the category of the upstream check it names;
- a step error raised by the NBA HTTP client (`NbaApiError`: endpoint, context and HTTP status
  in its message) or by httpx → source HTTP errors;
- anything else (other checks, exceptions in our code) → code errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum


class Category(str, Enum):
    """Digest groups, in the order the digest lists them."""

    SOURCE_HTTP = "source HTTP errors"
    COMPLETENESS = "completeness"
    DISTRIBUTIONS = "distributions"
    LOOKBACK_GAPS = "lookback gaps"
    CODE_ERRORS = "code errors"


CATEGORY_ORDER = tuple(Category)

GUARD_CHECK = "upstream_checks_passed"
_GUARD_REASON = re.compile(r"failed blocking check (\w+)")
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
# NbaApiError message: "<endpoint> [<context>]: HTTP <status> ..." or "...: timeout (...) after 5 attempts"
_NBA_API_MESSAGE = re.compile(r"NbaApiError:\s*(?P<endpoint>[\w./-]+)(?: \[[^\]]*\])?: (?P<cause>.*)")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")


def classify_check(check_name: str, message: str = "") -> Category:
    """Category of a failed check, from its name (and, for the guard, the upstream check named)."""
    name = check_name.lower()
    if name == GUARD_CHECK:
        upstream = _GUARD_REASON.findall(message)
        if upstream:
            return classify_check(upstream[0])
        return Category.CODE_ERRORS
    if "lookback" in name:
        return Category.LOOKBACK_GAPS
    if name.endswith("_complete") or "completeness" in name:
        return Category.COMPLETENESS
    if "distribution" in name or re.search(r"_ranges?$", name) or name in {"range", "ranges"}:
        return Category.DISTRIBUTIONS
    return Category.CODE_ERRORS


def classify_error(error_types: Iterable[str], text: str) -> Category:
    """Category of a step/run error from the exception class names in its chain and its text."""
    types = {t.rsplit(".", 1)[-1] for t in error_types}
    if types & _SOURCE_ERROR_TYPES or "NbaApiError" in text:
        return Category.SOURCE_HTTP
    return Category.CODE_ERRORS


def classify(
    *, check_name: str | None = None, text: str = "", error_types: Iterable[str] = ()
) -> Category:
    """One entry point: a failed check (check_name given) or an error (types + text)."""
    if check_name:
        return classify_check(check_name, text)
    return classify_error(error_types, text)


def cause_key(category: Category, *, check_name: str | None = None, text: str = "") -> str:
    """Short sub-group label inside a category: `scoreboardv2 HTTP 503`, a check name, a class."""
    if check_name:
        if check_name == GUARD_CHECK:
            upstream = _GUARD_REASON.findall(text)
            return f"blocked by {upstream[0]}" if upstream else GUARD_CHECK
        return check_name
    if category is Category.SOURCE_HTTP:
        match = _NBA_API_MESSAGE.search(text)
        status = _HTTP_STATUS.search(text)
        endpoint = match.group("endpoint") if match else "source"
        if status:
            return f"{endpoint} HTTP {status.group(1)}"
        cause = match.group("cause").split(" after ")[0] if match else "request failed"
        return f"{endpoint} {cause}".strip()
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
