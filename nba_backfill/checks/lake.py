"""Asset checks of the nba_lake layer."""

checks: list = []
