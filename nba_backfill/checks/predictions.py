"""Asset checks of the nba_predictions layer."""

checks: list = []
