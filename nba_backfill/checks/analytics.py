"""Asset checks of the nba_analytics layer."""

checks: list = []
