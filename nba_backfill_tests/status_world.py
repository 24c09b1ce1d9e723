"""A small asset graph with the project's layers and the table core's `partition_ok` contract,
driven through real asset backfills (the backfill daemon's iteration, in-process) for the CLI's
`status` and recovery tests.

    nba_lake/toy_summary  ->  nba_raw/toy_summary, nba_raw/toy_lines, nba_raw/toy_officials,
                              nba_raw/toy_inactive  ->  nba_analytics/toy_form (reads toy_summary)

State lives in the folder named by $NBA_BACKFILL_TEST_WORLD:
- `faults/<date>`: the source drops that date's game, so the landed object holds 0 rows;
- `lake/<date>.json`: what `nba_lake/toy_summary` landed;
- `warehouse.duckdb`: written by `nba_raw/toy_locked` (`lock_definitions`) through an IO manager.
Every raw table fails a date whose landed object is bad the way the table core does: its blocking
`partition_ok` check fails with outcome, cause kind, cause and the lake partition to re-scrape,
and the step raises a `Failure` listing the partition. Each table also has a second blocking check
that is not evaluated when the step fails.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    Definitions,
    Failure,
    InputContext,
    IOManager,
    MaterializeResult,
    OutputContext,
    asset,
    in_process_executor,
)

from nba_backfill.checks.results import PARTITION_OK
from nba_backfill.partitions import DAILY_PARTITIONS

WORLD_ENV = "NBA_BACKFILL_TEST_WORLD"
LAKE = AssetKey(["nba_lake", "toy_summary"])
RAW_NAMES = ("toy_summary", "toy_lines", "toy_officials", "toy_inactive")
RAW = [AssetKey(["nba_raw", name]) for name in RAW_NAMES]
FORM = AssetKey(["nba_analytics", "toy_form"])
SECOND_CHECK = "keys_unique"


def world() -> Path:
    return Path(os.environ[WORLD_ENV])


def _checks(key: AssetKey) -> list[AssetCheckSpec]:
    with warnings.catch_warnings():  # partitioned checks are a preview feature (as in the project)
        warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
        return [
            AssetCheckSpec(name, asset=key, blocking=True, partitions_def=DAILY_PARTITIONS)
            for name in (PARTITION_OK, SECOND_CHECK)
        ]


@asset(key=LAKE, partitions_def=DAILY_PARTITIONS)
def toy_lake(context) -> MaterializeResult:
    day = context.partition_key
    rows = 0 if (world() / "faults" / day).exists() else 1
    (world() / "lake").mkdir(parents=True, exist_ok=True)
    (world() / "lake" / f"{day}.json").write_text(json.dumps({"rows": rows}))
    return MaterializeResult(metadata={"rows": rows})


def refetch_of(day: str) -> str:
    return f"{LAKE.to_user_string()}:{day}"


def cause_of(key: AssetKey, day: str) -> str:
    return (
        f"{key.to_user_string()} partition {day}: malformed landed object toy/{day}.json: "
        "field resultSets.GameSummary: 0 rows, expected 1"
    )


def _raw(key: AssetKey):
    @asset(key=key, deps=[LAKE], partitions_def=DAILY_PARTITIONS, check_specs=_checks(key))
    def _table(context):
        day = context.partition_key
        rows = json.loads((world() / "lake" / f"{day}.json").read_text())["rows"]
        if rows != 1:
            cause = cause_of(key, day)
            yield AssetCheckResult(
                asset_key=key,
                check_name=PARTITION_OK,
                passed=False,
                description=f"failed: {cause}",
                metadata={
                    "outcome": "failed",
                    "cause_kind": "landed_object_malformed",
                    "cause": cause,
                    "refetch": refetch_of(day),
                },
            )
            raise Failure(
                description=(
                    f"{key.to_user_string()}: 1 of 1 partitions not written\n"
                    f"failed (landed_object_malformed): 1 partition(s)\n  {day}: {cause}\n"
                    f"re-scrape to recover: {refetch_of(day)}"
                )
            )
        yield MaterializeResult(asset_key=key, metadata={"rows": rows})
        yield AssetCheckResult(asset_key=key, check_name=PARTITION_OK, passed=True,
                               metadata={"outcome": "ok"})
        yield AssetCheckResult(asset_key=key, check_name=SECOND_CHECK, passed=True)

    return _table


@asset(key=FORM, deps=[RAW[0]], partitions_def=DAILY_PARTITIONS, check_specs=_checks(FORM))
def toy_form(context):
    yield MaterializeResult(metadata={"rows": 1})
    yield AssetCheckResult(check_name=PARTITION_OK, passed=True, metadata={"outcome": "ok"})
    yield AssetCheckResult(check_name=SECOND_CHECK, passed=True)


def toy_definitions() -> Definitions:
    return Definitions(
        assets=[toy_lake, *(_raw(key) for key in RAW), toy_form], executor=in_process_executor
    )


# --- a table whose write meets a DuckDB file locked by another process ------------------------


LOCKED = AssetKey(["nba_raw", "toy_locked"])


def warehouse_path() -> Path:
    return world() / "warehouse.duckdb"


class ToyDuckDBIOManager(IOManager):
    """Writes each output into the DuckDB file of the world (one row per partition)."""

    def handle_output(self, context: OutputContext, obj) -> None:
        with duckdb.connect(str(warehouse_path())) as con:
            con.execute("create table if not exists toy_locked (day varchar)")
            con.execute("insert into toy_locked values (?)", [context.partition_key])

    def load_input(self, context: InputContext):
        return None


@asset(key=LOCKED, deps=[LAKE], partitions_def=DAILY_PARTITIONS, io_manager_key="warehouse")
def toy_locked(context) -> int:
    return 1


def lock_definitions() -> Definitions:
    return Definitions(
        assets=[toy_lake, toy_locked],
        resources={"warehouse": ToyDuckDBIOManager()},
        executor=in_process_executor,
    )


# --- driving it from tests ---------------------------------------------------------------------


def every_asset(first: str, last: str) -> dict[str, list[tuple[str, str]]]:
    """Exact ranges for the whole toy graph (as `nba-backfill backfill` would launch them)."""
    keys = [LAKE, *RAW, FORM]
    return {k.to_user_string(): [(first, last)] for k in keys}


def in_process_cli(monkeypatch, workspace) -> None:
    """Point `nba_backfill.cli` at the workspace: its GraphQL answered in-process by
    dagster-graphql (the CLI's own queries and mutations, no webserver)."""
    from nba_backfill import cli
    from nba_backfill_tests.dagster_harness import InProcessGraphQL

    class Client(InProcessGraphQL):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    monkeypatch.setattr(cli, "DagsterGraphQL", lambda url: Client(workspace))
