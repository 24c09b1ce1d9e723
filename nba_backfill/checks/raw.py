"""Asset checks of the nba_raw layer."""

checks: list = []
