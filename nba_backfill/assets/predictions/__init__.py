"""Phase 5 (nba_predictions): player_prop_predictions, built by the Phase 4 factory (same guard,
lookback, season and check machinery) from the prediction spec."""

from nba_backfill.assets.precompute.factory import build_precompute_asset
from nba_backfill.assets.predictions.player_prop_predictions import PREDICTIONS_SPEC

assets: list = [build_precompute_asset(PREDICTIONS_SPEC)]
