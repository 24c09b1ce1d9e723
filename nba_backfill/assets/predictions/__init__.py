"""Phase 5 (nba_predictions): player_prop_predictions, built by the Phase 4 layer on the table-asset core (same guard,
lookback, season and check machinery) from the prediction spec."""

from nba_backfill.assets.precompute.factory import build_precompute_tables
from nba_backfill.assets.predictions.player_prop_predictions import PREDICTIONS_SPEC

assets: list = build_precompute_tables([PREDICTIONS_SPEC])
