"""The table-asset core on a small real table: outcomes, error isolation, hashing, run stages, and
the partial write of a ranged step (materialized good dates, failed bad dates, their rows)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from nba_backfill.assets.core import (
    Cause,
    CauseKind,
    CheckDef,
    Computed,
    TableInput,
    TableSpec,
    build_table_assets,
    run_range,
)
from nba_backfill.assets.core.factory import run_stages
from nba_backfill.assets.core.run import data_hash
from nba_backfill.assets.tables import Col
from nba_backfill.checks.results import Outcome
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.resources.warehouse import DuckDBWarehouse, NbaDuckDBIOManager

KEYS = ["2024-11-01", "2024-11-02", "2024-11-03", "2024-11-04"]
COLS = (Col("game_date", "DATE"), Col("team", "STRING"), Col("points", "INT64"),
        Col("data_hash", "STRING"), Col("processed_at", "TIMESTAMP"))


def _rows(days: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"game_date": dt.date.fromisoformat(d), "team": t, "points": 100 + i}
                         for d in days for i, t in enumerate(("BOS", "NYK"))])


def _spec(name="probe", *, raises_on=(), fails=(), duplicate_on=(), inputs=(), layer="nba_analytics"):
    calls: list[list[str]] = []

    def compute(rin):
        calls.append(list(rin.open_keys))
        if set(raises_on) & set(rin.open_keys):
            raise ZeroDivisionError("bad value")
        good = [k for k in rin.open_keys if k not in fails]
        rows = _rows(good)
        extra = _rows([k for k in good if k in duplicate_on])
        return Computed(rows=pd.concat([rows, extra], ignore_index=True),
                        failed={k: Cause(CauseKind.LANDED_OBJECT_MALFORMED, f"{k}: object x.json bad") for k in fails})

    def evaluate(computed, rows_by_key):
        return {"keys_unique": {k: Outcome(not rows.duplicated(["team"]).any(), message=f"{k} dupes")
                                for k, rows in rows_by_key.items()}}

    spec = TableSpec(
        key=AssetKey([layer, name]), doc="One row per team per date.", columns=COLS, date_column="game_date",
        key_columns=("team",), inputs=tuple(inputs), compute=compute, evaluate=evaluate,
        checks=(CheckDef("keys_unique", "one row per team", blocking=True),), code_version="1",
        refetch=lambda key: (f"nba_lake/probe:{key}",),
    )
    return spec, calls


def test_outcomes_per_date_and_only_ok_rows():
    spec, _ = _spec(fails=["2024-11-02"], duplicate_on=["2024-11-03"])
    blocked = {"2024-11-04": [Cause(CauseKind.UPSTREAM_CHECK_FAILED, "nba_raw/x [2024-11-04] failed")]}
    result = run_range(spec, KEYS, {}, blocked=blocked)
    status = {k: o.status for k, o in result.outcomes.items()}
    assert status == {"2024-11-01": "ok", "2024-11-02": "failed", "2024-11-03": "failed", "2024-11-04": "blocked"}
    assert result.outcomes["2024-11-02"].refetch == ["nba_lake/probe:2024-11-02"]  # landed data: re-scrape
    assert result.outcomes["2024-11-03"].causes[0].kind is CauseKind.CHECKS_FAILED
    assert set(result.frame["game_date"].map(str)) == {"2024-11-01"} and len(result.frame) == 2
    ok = result.checks["partition_ok"]
    assert ok["2024-11-01"].passed and not ok["2024-11-04"].passed
    assert ok["2024-11-02"].metadata()["cause_kind"] == "landed_object_malformed"
    assert ok["2024-11-04"].metadata()["outcome"] == "blocked"
    assert result.checks["keys_unique"]["2024-11-04"].message.startswith("not evaluated, partition blocked")


def test_an_error_is_pinned_to_its_dates_by_recomputing_halves():
    spec, calls = _spec(raises_on=["2024-11-03"])
    result = run_range(spec, KEYS, {})
    assert [k for k, o in result.outcomes.items() if not o.ok] == ["2024-11-03"]
    assert "ZeroDivisionError: bad value" in result.outcomes["2024-11-03"].summary()
    assert calls[0] == KEYS and ["2024-11-03"] in calls
    assert len(result.frame) == 6


def test_hash_ignores_processed_at_and_the_batch_a_row_came_in():
    spec, _ = _spec()
    whole = run_range(spec, KEYS, {}).frame
    alone = run_range(spec, ["2024-11-02"], {}).frame
    assert whole["data_hash"].str.fullmatch(r"[0-9a-f]{16}").all()
    mine = whole[whole["game_date"].map(str) == "2024-11-02"]["data_hash"].tolist()
    assert mine == alone["data_hash"].tolist()
    assert data_hash(whole.assign(points=whole["points"] + 1), ["points"]).tolist() != data_hash(whole, ["points"]).tolist()


def test_run_stages_separate_a_table_from_what_it_reads():
    parent, _ = _spec("parent", layer="nba_raw")
    child, _ = _spec("child", layer="nba_raw", inputs=[TableInput("p", parent.key)])
    other, _ = _spec("other", layer="nba_raw")
    stages = run_stages([child, parent, other])
    assert stages == {"parent": 20, "other": 20, "child": 21}
    with pytest.raises(ValueError, match="doc must state the grain"):
        TableSpec(**{**parent.__dict__, "doc": "rows"})


def test_a_ranged_step_writes_and_materializes_the_good_dates_and_fails_only_the_bad(tmp_path):
    db = str(tmp_path / "w.duckdb")
    resources = {"io_manager": NbaDuckDBIOManager(database=db), "warehouse": DuckDBWarehouse(database=db)}
    tags = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}
    clean, _ = _spec()
    (asset,) = build_table_assets([clean])
    instance = DagsterInstance.ephemeral()
    assert materialize([asset], instance=instance, resources=resources, tags=tags).success
    before = duckdb.connect(db).execute("select count(*) from nba_analytics.probe").fetchone()[0]
    assert before == 8

    bad, _ = _spec(fails=["2024-11-02"])
    (asset,) = build_table_assets([bad])
    result = materialize([asset], instance=instance, resources=resources, tags=tags, raise_on_error=False)
    assert not result.success
    message = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").event_specific_data.error.message
    assert "1 of 4 partitions not written" in message and "2024-11-02: object x.json bad" in message
    assert "re-scrape to recover: nba_lake/probe:2024-11-02" in message
    fresh = {e.partition for e in result.get_asset_materialization_events()}
    assert fresh == set(KEYS) - {"2024-11-02"}
    status = instance.get_status_by_partition(bad.key, KEYS, DAILY_PARTITIONS)
    assert {k: s.value for k, s in status.items()}["2024-11-02"] == "FAILED"
    assert {k for k, s in status.items() if s.value == "MATERIALIZED"} == set(KEYS) - {"2024-11-02"}
    with duckdb.connect(db) as conn:  # the range replaced: the bad date holds nothing
        days = conn.execute("select cast(game_date as varchar), count(*) from nba_analytics.probe group by 1").fetchall()
    assert dict(days) == {"2024-11-01": 2, "2024-11-03": 2, "2024-11-04": 2}
    per_partition = {e.partition: e.event_specific_data.materialization.metadata
                     for e in result.get_asset_materialization_events()}
    assert per_partition["2024-11-03"]["rows"].value == 2  # its own figures, not the range's
