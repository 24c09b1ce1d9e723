"""The NBA HTTP client: one interface, live hosts in `prod`, the offline replay in `local`.

Assets never know which one they got: in offline mode the same requests (same URLs, params and
headers) go through an in-process httpx transport into `nba_backfill.source`.
Retries use tenacity (exponential backoff with jitter, honouring Retry-After on 429/503).
The request rate is paced by `resources.pacing` (GCRA): every client with the same budget and
`rate_limit_file` shares one budget across threads and processes, so parallel scraper steps and
concurrent scraper runs of the instance cannot exceed it together.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from dagster import ConfigurableResource
from pydantic import PrivateAttr
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from nba_backfill.resources.pacing import pacer

STATS_HEADERS = {
    "User-Agent": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Safari/537.36"
    ),
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "Referer": "https://www.nba.com/",
    "Origin": "https://www.nba.com",
    "x-nba-stats-origin": "stats",
    "x-nba-stats-token": "true",
}

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class NbaApiError(RuntimeError):
    """A request that failed for good: names the endpoint, the context (date/game) and cause."""

    def __init__(self, endpoint: str, context: str, cause: str, status: int | None = None):
        self.endpoint, self.context, self.cause, self.status = endpoint, context, cause, status
        where = f" [{context}]" if context else ""
        super().__init__(f"{endpoint}{where}: {cause}")


class _RetryableError(Exception):
    def __init__(self, cause: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(cause)
        self.cause, self.status, self.retry_after = cause, status, retry_after


def _read_body(response: httpx.Response) -> bytes:
    """The whole body; a body cut short by the connection closing is a truncated response that
    names the bytes received and expected (Content-Length), not a transport error."""
    try:
        return response.read()
    except httpx.RemoteProtocolError as exc:
        expected = response.headers.get("Content-Length")
        got = f"received {response.num_bytes_downloaded:,}"
        got += f" of {int(expected):,} bytes" if expected and expected.isdigit() else " bytes"
        raise _RetryableError(
            f"truncated response: {got}, the connection closed mid-body ({exc})",
            response.status_code,
        ) from exc


def _ends_early(body: bytes, exc: ValueError) -> bool:
    """True when a JSON body fails to parse only because it stops short (a truncated document):
    the parser hit the end of the text, not a bad character."""
    if isinstance(exc, UnicodeDecodeError):
        return exc.end >= len(body)  # cut inside a multi-byte character
    if not isinstance(exc, json.JSONDecodeError):
        return False
    rest = exc.doc[exc.pos:].strip()
    if exc.msg.startswith("Unterminated string") or not rest:
        return exc.pos > 0
    cut_literal = any(word.startswith(rest) and word != rest for word in ("true", "false", "null"))
    return cut_literal or re.fullmatch(r"-?[0-9.eE+-]*", rest) is not None  # "18,-", "0.8" cut


def _bad_json(body: bytes, exc: ValueError) -> str:
    if _ends_early(body, exc):
        return (f"truncated response: {len(body):,} bytes received, the JSON document ends early "
                f"(malformed JSON: {exc})")
    return f"malformed JSON ({len(body)} bytes): {exc}"


@dataclass(frozen=True)
class ApiResponse:
    """A parsed JSON body plus what it cost (for materialization metadata)."""

    data: Any
    bytes: int
    attempts: int
    url: str


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class NbaApiClient(ConfigurableResource):
    """HTTP client for stats.nba.com, cdn.nba.com liveData and balldontlie."""

    mode: str = "offline"  # "offline" (bundled replay, in-process) or "live"
    stats_base_url: str = "https://stats.nba.com/stats"
    cdn_base_url: str = "https://cdn.nba.com/static/json/liveData"
    bdl_base_url: str = "https://api.balldontlie.io/v1"
    bdl_api_key: str | None = None
    requests_per_second: float = 8.0
    # Shared pacing state: every process pointing at the same file draws from one budget.
    # None = a budget per process.
    rate_limit_file: str | None = None
    max_attempts: int = 5
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    offline_faults_file: str | None = None

    _client: httpx.Client | None = PrivateAttr(default=None)

    def _http(self) -> httpx.Client:
        if self._client is None:
            timeout = httpx.Timeout(self.read_timeout_seconds, connect=self.connect_timeout_seconds)
            if self.mode == "offline":
                from nba_backfill.source import OfflineNbaSource, offline_transport

                source = OfflineNbaSource(faults_file=self.offline_faults_file)
                self._client = httpx.Client(transport=offline_transport(source), timeout=timeout)
            elif self.mode == "live":
                self._client = httpx.Client(timeout=timeout, follow_redirects=True)
            else:
                raise ValueError(f"nba_api mode must be 'offline' or 'live', got {self.mode!r}")
        return self._client

    def teardown_after_execution(self, context) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- public API ------------------------------------------------------------------------
    def stats(self, endpoint: str, params: dict[str, Any], context: str = "") -> ApiResponse:
        """GET stats.nba.com/stats/<endpoint>."""
        return self.get_json(endpoint, f"{self.stats_base_url}/{endpoint}", params, STATS_HEADERS, context)

    def cdn_playbyplay(self, game_id: str, context: str = "") -> ApiResponse:
        """GET cdn.nba.com liveData play-by-play for one game."""
        url = f"{self.cdn_base_url}/playbyplay/playbyplay_{game_id}.json"
        return self.get_json("playbyplay", url, {}, {"Accept": "application/json"}, context)

    def bdl(self, path: str, params: dict[str, Any], context: str = "") -> ApiResponse:
        """GET api.balldontlie.io/v1/<path> with the API key from the environment."""
        headers = {"Accept": "application/json"}
        if self.bdl_api_key:
            headers["Authorization"] = self.bdl_api_key
        return self.get_json(f"bdl_{path}", f"{self.bdl_base_url}/{path}", params, headers, context)

    def bdl_paginate(
        self, path: str, params: dict[str, Any], context: str = ""
    ) -> Iterator[ApiResponse]:
        """Follow balldontlie cursor pagination (meta.next_cursor) until the last page."""
        cursor = None
        seen: set[Any] = set()
        while True:
            page_params = dict(params, per_page=100)
            if cursor is not None:
                page_params["cursor"] = cursor
            page = self.bdl(path, page_params, context)
            yield page
            cursor = (page.data.get("meta") or {}).get("next_cursor")
            if cursor is None:
                return
            if cursor in seen:
                raise NbaApiError(f"bdl_{path}", context, f"pagination loop at cursor {cursor}")
            seen.add(cursor)

    def get_json(
        self, endpoint: str, url: str, params: dict[str, Any], headers: dict[str, str], context: str
    ) -> ApiResponse:
        """Rate-limited, retried GET returning parsed JSON; NbaApiError when it fails for good."""
        attempts = 0

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = wait_exponential_jitter(
                multiplier=self.backoff_initial_seconds,
                max=self.backoff_max_seconds,
                jitter=self.backoff_initial_seconds,
            )(state)
            if isinstance(exc, _RetryableError) and exc.retry_after is not None:
                return min(max(exc.retry_after, 0.0), self.backoff_max_seconds * 4)
            return backoff

        def once() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            pacer(self.requests_per_second, self.rate_limit_file).acquire()
            try:
                with self._http().stream("GET", url, params=params, headers=headers) as response:
                    status = response.status_code
                    if status in RETRYABLE_STATUS:
                        raise _RetryableError(
                            f"HTTP {status}", status,
                            _parse_retry_after(response.headers.get("Retry-After")),
                        )
                    body = _read_body(response)
            except httpx.TimeoutException as exc:
                raise _RetryableError(f"timeout ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise _RetryableError(f"transport error: {exc}") from exc
            if status >= 400:
                raise NbaApiError(
                    endpoint, context, f"HTTP {status} {body[:200].decode(errors='replace')!r}", status
                )
            if not body.strip():
                raise _RetryableError("empty response body", status)
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise _RetryableError(_bad_json(body, exc), status) from exc
            return ApiResponse(data=data, bytes=len(body), attempts=attempts, url=str(response.url))

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, _RetryableError)),
            reraise=True,
            sleep=time.sleep,
        )
        try:
            return retrying(once)
        except _RetryableError as exc:
            raise NbaApiError(
                endpoint, context, f"{exc.cause} after {attempts} attempts", exc.status
            ) from exc
