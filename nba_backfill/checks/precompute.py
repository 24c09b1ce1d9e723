"""Asset checks of the nba_precompute layer."""

checks: list = []
