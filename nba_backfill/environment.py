"""NBA_BACKFILL_ENV = local (default) | prod: which environment this process runs in.

Standard library only, so the season calendar and the partitions can ask at import time (the
resources that depend on it live in `nba_backfill/resources/environment.py`).
"""

from __future__ import annotations

import os

ENVIRONMENTS = ("local", "prod")
LOCAL = "local"


def current_environment() -> str:
    """The environment named by NBA_BACKFILL_ENV (default local); an unknown name raises."""
    env = os.environ.get("NBA_BACKFILL_ENV", LOCAL).strip() or LOCAL
    if env not in ENVIRONMENTS:
        raise ValueError(f"NBA_BACKFILL_ENV must be one of {ENVIRONMENTS}, got {env!r}")
    return env


def is_offline() -> bool:
    """True in the local environment: the bundled offline source answers every NBA request."""
    return current_environment() == LOCAL
