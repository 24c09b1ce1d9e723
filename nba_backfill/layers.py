"""Layer names: asset key prefix = group name = warehouse schema (DuckDB) / dataset (BigQuery)."""

LAKE = "nba_lake"  # Phase 1: landed API responses (files in the lake, not warehouse tables)
RAW = "nba_raw"  # Phase 2
ANALYTICS = "nba_analytics"  # Phase 3
PRECOMPUTE = "nba_precompute"  # Phase 4
PREDICTIONS = "nba_predictions"  # Phase 5

LAYERS = (LAKE, RAW, ANALYTICS, PRECOMPUTE, PREDICTIONS)
PHASE_OF_LAYER = {LAKE: 1, RAW: 2, ANALYTICS: 3, PRECOMPUTE: 4, PREDICTIONS: 5}
