"""Offline NBA source: a replay of real NBA data (2020-21..2024-25 regular seasons) answering
stats.nba.com, cdn.nba.com liveData and balldontlie requests with the real JSON shapes.

    import httpx
    from nba_backfill.source import OfflineNbaSource, FaultRule, offline_transport, serve_offline

    client = httpx.Client(transport=offline_transport())
    client.get("https://stats.nba.com/stats/scoreboardv2",
               params={"GameDate": "2023-11-01", "LeagueID": "00", "DayOffset": "0"})

See README.md in this package for the endpoints, fault kinds and what is generated.
Nothing is loaded at import time; the bundled parquet is read on the first request.
"""

from nba_backfill.source.faults import FaultRule
from nba_backfill.source.server import (
    OfflineNbaSource,
    offline_async_transport,
    offline_transport,
    serve_offline,
)

__all__ = ["OfflineNbaSource", "FaultRule", "offline_transport", "offline_async_transport", "serve_offline"]
