"""Phase 4 (nba_precompute): one typed spec per table, one factory (`factory.py`).

Dependency order is declared, never scripted: TDZA ← TDGS; PSZA ← PGS; PCF ← UPGC, UTGC, PSZA,
TDZA; PDC ← PGS, TOGS, UPGC, PSZA, PCF and the season accumulators; MLFS ← PDC, PCF, PSZA, TDZA,
UPGC, PGS. Season-to-date values come from the self-dependent accumulators in
`season_totals.py` (see there why, and how a ranged run computes them sequentially).
"""

from nba_backfill.assets.precompute.factory import build_precompute_tables
from nba_backfill.assets.precompute.mlfs import MLFS
from nba_backfill.assets.precompute.pcf import PCF
from nba_backfill.assets.precompute.pdc import PDC
from nba_backfill.assets.precompute.psza import PSZA
from nba_backfill.assets.precompute.season_totals import PLAYER_SEASON_TOTALS, TEAM_SEASON_TOTALS
from nba_backfill.assets.precompute.tdza import TDZA

SPECS = (TDZA, PSZA, PLAYER_SEASON_TOTALS, TEAM_SEASON_TOTALS, PCF, PDC, MLFS)

assets: list = build_precompute_tables(SPECS)
