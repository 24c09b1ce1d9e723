"""Phase 1: scrapers landing raw API responses in the lake (`nba_lake/<scraper>`).

One spec per endpoint fetch in `specs.SCRAPERS`, one factory (`factory.build_scraper`).
"""

from nba_backfill.assets.scrapers.factory import build_scraper
from nba_backfill.assets.scrapers.specs import SCRAPERS

assets: list = [build_scraper(spec) for spec in SCRAPERS]
