"""The offline NBA source: routing by URL path (any host), faults, counters, the in-process
httpx transport and the standalone HTTP server.

Routes (host ignored): /stats/<endpoint> (stats.nba.com), .../liveData/playbyplay/playbyplay_<id>.json
(cdn.nba.com), /v1/<games|stats|box_scores> and /nba/v1/... (balldontlie). Anything else: 404.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from nba_backfill.source import balldontlie, stats_box_v2, stats_box_v3, stats_nba
from nba_backfill.source.cdn_live import empty_playbyplay, playbyplay
from nba_backfill.source.common import BadRequest, Req, Resp, json_resp, parse_date, text_resp
from nba_backfill.source.corrections import corrected_store
from nba_backfill.source.data_store import get_store, using_store
from nba_backfill.source.faults import FaultRule, FaultSet, Scope

log = logging.getLogger(__name__)

STATS_HANDLERS = {
    "leaguegamelog": stats_nba.leaguegamelog,
    "scheduleleaguev2": stats_nba.scheduleleaguev2,
    "scoreboardv2": stats_nba.scoreboardv2,
    "boxscoresummaryv2": stats_box_v2.boxscoresummaryv2,
    "boxscoretraditionalv2": stats_box_v2.boxscoretraditionalv2,
    **{name: stats_box_v3.box_v3 for name in stats_box_v3.V3},
}
BDL_HANDLERS = {"games": ("bdl_games", balldontlie.games), "stats": ("bdl_stats", balldontlie.stats),
                "box_scores": ("bdl_box_scores", balldontlie.box_scores)}
_BDL_RE = re.compile(r"^(?:/nba)?/v1/([a-z_]+)(?:/(\d+))?/?$")
_PBP_RE = re.compile(r"/livedata/playbyplay/playbyplay_(\d{10})\.json$")
_ACCESS_DENIED = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                  "<Message>Access Denied</Message></Error>")
_MALFORMED = b"<html><head><title>Access Denied</title></head><body>Reference #18.4f2c1</body></html>"


def _playbyplay(req: Req) -> Resp:
    gid = req.arg
    if gid in req.drop:
        return json_resp(empty_playbyplay(gid))
    if gid not in get_store().games:  # like the CDN: a file that does not exist is 403
        return text_resp(_ACCESS_DENIED, 403, "application/xml")
    return json_resp(playbyplay(gid))


def route(path: str):
    """(endpoint name or None, handler or None, path argument)."""
    low = path.lower()
    m = _BDL_RE.match(low)
    if m:
        if m[2] is not None:  # /v1/games/<id>
            return ("bdl_game", balldontlie.game_by_id, m[2]) if m[1] == "games" else (f"bdl_{m[1]}", None, "")
        name, handler = BDL_HANDLERS.get(m[1], (f"bdl_{m[1]}", None))
        return name, handler, ""
    if "/livedata/" in low:
        m = _PBP_RE.search(low)
        return ("playbyplay", _playbyplay, m[1]) if m else ("livedata", None, "")
    i = low.find("/stats/")
    if i >= 0:
        name = low[i + len("/stats/"):].strip("/").split("/")[0]
        return name, STATS_HANDLERS.get(name), ""
    return None, None, ""


def _scope(endpoint: str, req: Req) -> Scope:
    store = get_store()
    try:
        if endpoint == "leaguegamelog":
            lo, hi = parse_date(req.get("DateFrom")), parse_date(req.get("DateTo"))
            season = req.get("Season")
            if season:
                b = store.season_bounds(season)
                if b is None:
                    return Scope(dates=frozenset())
                lo, hi = max(lo or b[0], b[0]), min(hi or b[1], b[1])
            return Scope(lo, hi)
        if endpoint == "scheduleleaguev2":
            b = store.season_bounds(req.get("Season"))
            return Scope(b[0], b[1], season_wide=True) if b else Scope(dates=frozenset(), season_wide=True)
        if endpoint in ("scoreboardv2", "bdl_box_scores"):
            d = parse_date(req.get("GameDate" if endpoint == "scoreboardv2" else "date"))
            return Scope(dates=frozenset([d] if d else []))
        if endpoint in ("bdl_games", "bdl_stats"):
            dates = [parse_date(d) for d in req.values("dates[]", "dates")]
            gids = {str(v).zfill(10) for v in req.values("game_ids[]", "game_ids")}
            if gids:
                dates += [store.games[g].date for g in gids if g in store.games]
                return Scope(dates=frozenset(dates), game_ids=frozenset(gids))
            if dates:
                return Scope(dates=frozenset(dates))
            return Scope(parse_date(req.get("start_date")), parse_date(req.get("end_date")))
        gid = req.arg.zfill(10) if endpoint == "bdl_game" else (req.arg or req.get("GameID"))
        g = store.games.get(gid)
        return Scope(dates=frozenset([g.date] if g else []), game_ids=frozenset([gid]))
    except BadRequest:
        return Scope(dates=frozenset())


class OfflineNbaSource:
    """Answers httpx requests for stats.nba.com, cdn.nba.com liveData and balldontlie offline."""

    def __init__(self, faults: list[FaultRule] | None = None, faults_file: str | None = None,
                 rate_limit_per_second: float | None = None, base_latency: float = 0.0):
        self.faults = FaultSet(faults, faults_file)
        self.rate_limit_per_second = rate_limit_per_second
        self.base_latency = base_latency
        self._counts: Counter = Counter()
        self._lock = threading.Lock()
        self._tokens: float | None = None
        self._last_refill = time.monotonic()

    # ------------------------------------------------------------------ helpers for tests
    @property
    def stats(self) -> dict[str, int]:
        """Request counts: per endpoint name, "total", "429" (429s served), "fault:<kind>"."""
        with self._lock:
            return dict(self._counts)

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()

    def current_store(self):
        """The store answering now: the bundled data with the corrections in effect applied."""
        return corrected_store(self.faults.corrections())

    def games_on(self, date: str) -> list[dict]:
        store = self.current_store()
        from nba_backfill.source.teams import TEAMS

        return [{"game_id": g.game_id, "date": g.date, "season": g.season,
                 "home": TEAMS[g.home_id].tricode, "away": TEAMS[g.away_id].tricode,
                 "home_team_id": g.home_id, "away_team_id": g.away_id,
                 "home_pts": g.home_pts, "away_pts": g.away_pts, "periods": g.periods}
                for g in store.games_by_date.get(parse_date(date) or "", [])]

    def season_of(self, date: str) -> str | None:
        """The bundled season whose regular-season dates span `date` (None outside)."""
        return get_store().season_of_date(parse_date(date) or "")

    # ------------------------------------------------------------------ request handling
    def _count(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._counts[k] += 1

    def _rate_limited(self, rate: float | None) -> float | None:
        """None if the request may proceed, else seconds until a token is available."""
        if not rate or rate <= 0:
            return None
        with self._lock:
            now = time.monotonic()
            cap = max(1.0, rate)
            if self._tokens is None:
                self._tokens = cap
            self._tokens = min(cap, self._tokens + (now - self._last_refill) * rate)
            self._last_refill = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return (1.0 - self._tokens) / rate

    def _respond(self, request: httpx.Request, resp: Resp) -> httpx.Response:
        self._count(f"status_{resp.status}")
        if resp.status == 429:
            self._count("429")
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        settings = self.faults.settings()
        base_latency = float(settings.get("base_latency", self.base_latency) or 0.0)
        rate = settings.get("rate_limit_per_second", self.rate_limit_per_second)
        if base_latency > 0:
            time.sleep(base_latency)
        endpoint, handler, arg = route(request.url.path)
        self._count("total", endpoint or "unknown")
        if handler is None:
            return self._respond(request, text_resp("Not Found", 404))
        wait = self._rate_limited(rate)
        if wait is not None:
            return self._respond(request, Resp(429, b'{"error":"Too many requests"}', {
                "Content-Type": "application/json", "Retry-After": str(max(1, math.ceil(wait)))}))
        items = request.url.params.multi_items()
        params = {k.lower(): v for k, v in items}
        multi: dict[str, list[str]] = {}
        for k, v in items:
            multi.setdefault(k.lower(), []).append(v)
        req = Req(endpoint, request.url.path, params, multi, arg)
        store = get_store()
        decision = self.faults.decide(
            endpoint, _scope(endpoint, req),
            lambda gid: store.games[gid].date if gid in store.games else None,
            lambda d: [g.game_id for g in store.games_by_date.get(d, [])])
        if decision.latency > 0:
            time.sleep(decision.latency)
        fault = decision.fault
        if fault is not None:
            self._count(f"fault:{fault.kind}")
        if decision.drop:
            self._count("fault:drop_game")
        if fault is not None and fault.kind == "status":
            headers = {"Content-Type": "text/plain; charset=utf-8"}
            if fault.retry_after is not None:
                ra = fault.retry_after
                headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            reason = httpx.codes.get_reason_phrase(fault.status) or "Error"
            return self._respond(request, Resp(fault.status, reason.encode(), headers))
        if fault is not None and fault.kind == "timeout":
            if request.extensions.get("offline_server"):
                time.sleep(fault.delay if fault.delay > 0 else 30.0)
            else:
                read = (request.extensions.get("timeout") or {}).get("read")
                pause = min(fault.delay, read) if read is not None else fault.delay
                if pause > 0:
                    time.sleep(pause)
                raise httpx.ReadTimeout("offline source: injected read timeout", request=request)
        req.drop = decision.drop
        try:
            with using_store(self.current_store()):
                resp = handler(req)
        except BadRequest as exc:
            resp = (json_resp({"error": str(exc)}, 400) if endpoint.startswith("bdl_")
                    else text_resp(str(exc), 400))
        except Exception as exc:  # a bug in the replay: answer like a failing server, log it
            log.exception("offline source failed on %s", request.url)
            resp = text_resp(f"offline source error: {exc!r}", 500)
        if fault is not None and resp.status == 200:
            if fault.kind == "truncated":
                resp = Resp(200, resp.body[: len(resp.body) // 2], resp.headers)
            elif fault.kind == "malformed":
                resp = Resp(200, _MALFORMED, resp.headers)
            elif fault.kind == "empty":
                resp = Resp(200, b"", resp.headers)
        return self._respond(request, resp)


class _OfflineTransport(httpx.BaseTransport):
    def __init__(self, source: OfflineNbaSource):
        self.source = source

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self.source.handle(request)


def offline_transport(source: OfflineNbaSource | None = None) -> httpx.BaseTransport:
    """A sync httpx transport answering every request from `source` (a new default one if None)."""
    return _OfflineTransport(source if source is not None else OfflineNbaSource())


class _AsyncOfflineTransport(httpx.AsyncBaseTransport):
    def __init__(self, source: OfflineNbaSource):
        self.source = source

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        await request.aread()
        return await asyncio.to_thread(self.source.handle, request)


def offline_async_transport(source: OfflineNbaSource | None = None) -> httpx.AsyncBaseTransport:
    """The same, for httpx.AsyncClient (requests are answered in a worker thread)."""
    return _AsyncOfflineTransport(source if source is not None else OfflineNbaSource())


def _handler_class(source: OfflineNbaSource):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server API
            host = self.headers.get("Host") or "127.0.0.1"
            request = httpx.Request("GET", f"http://{host}{self.path}", headers=dict(self.headers),
                                    extensions={"offline_server": True})
            try:
                resp = source.handle(request)
                body = resp.content
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format, *args):  # noqa: A002 - silence per-request logging
            pass

    return Handler


def serve_offline(host: str = "127.0.0.1", port: int = 0, **source_kwargs):
    """Start the source as an HTTP server in a daemon thread: (server, thread, base_url).

    Pass `source=` to serve an existing OfflineNbaSource, else OfflineNbaSource(**source_kwargs).
    Stop it with server.shutdown(); server.server_close().
    """
    source = source_kwargs.pop("source", None) or OfflineNbaSource(**source_kwargs)
    server = ThreadingHTTPServer((host, port), _handler_class(source))
    server.daemon_threads = True
    server.source = source
    thread = threading.Thread(target=server.serve_forever, name="offline-nba-source", daemon=True)
    thread.start()
    h, p = server.server_address[:2]
    return server, thread, f"http://{h}:{p}"
