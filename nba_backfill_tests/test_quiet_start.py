"""Loading the code location prints no warning wall: the known Preview/Beta warnings and the
by-design varying-BackfillPolicy warning are filtered in `nba_backfill/__init__.py`, scoped to
their messages, so any other warning still shows."""

from __future__ import annotations

import os
import subprocess
import sys

from nba_backfill_tests.dagster_harness import PROJECT_ROOT

KNOWN = ("PreviewWarning", "BetaWarning", "SupersessionWarning", "varying BackfillPolicies")

# Load the definitions as a code server does and resolve every job (asset jobs warn on varying
# backfill policies when they are resolved), then raise an unrelated Preview warning that must show.
LOAD = """
import warnings
import nba_backfill.definitions as location
from dagster import PreviewWarning
location.defs.resolve_all_job_defs()
location.defs.resolve_implicit_global_asset_job_def()
print("jobs resolved", file=__import__("sys").stderr)
warnings.warn("an unrelated preview feature", PreviewWarning)
"""


def test_loading_the_definitions_prints_none_of_the_known_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONWARNINGS", "NBA_BACKFILL_ENV"}}
    env.update(NBA_BACKFILL_HOME=str(tmp_path / "home"), DAGSTER_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", LOAD], cwd=str(PROJECT_ROOT), env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "jobs resolved" in lines, done.stderr
    before = "\n".join(lines[: lines.index("jobs resolved")])
    after = "\n".join(lines[lines.index("jobs resolved") + 1:])
    assert not [w for w in KNOWN if w in before], before
    assert before.strip() == "", before
    assert "PreviewWarning: an unrelated preview feature" in after  # the filter is scoped
