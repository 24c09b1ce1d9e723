import duckdb
import pandas as pd
import pytest
from dagster import AssetIn, TimeWindowPartitionMapping, asset, materialize

from nba_backfill.assets.tables import Col, column_schema, conform
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.resources import (
    RESOURCE_KEYS,
    LocalLake,
    NbaDuckDBIOManager,
    build_resources,
    partition_expr,
)

COLS = [Col("game_date", "DATE"), Col("team_abbr", "STRING"), Col("points", "INT64")]
_state = {"fail_on": None}


@asset(
    key=["nba_raw", "resource_probe"],
    partitions_def=DAILY_PARTITIONS,
    metadata={"partition_expr": partition_expr("game_date"), "dagster/column_schema": column_schema(COLS)},
)
def probe(context) -> pd.DataFrame:
    day = context.partition_key
    if day == "2023-11-02":
        return conform(pd.DataFrame(columns=[c.name for c in COLS]), COLS)
    frame = pd.DataFrame({"game_date": [day, day], "team_abbr": ["BOS", "NYK"], "points": [108, 104]})
    if _state["fail_on"] == day:  # a frame whose insert fails inside the transaction
        frame["points"] = ["not", "numbers"]
        return frame
    return conform(frame, COLS)


@asset(
    key=["nba_analytics", "resource_probe_reader"],
    partitions_def=DAILY_PARTITIONS,
    io_manager_key="mem",
    ins={"rows": AssetIn(key=["nba_raw", "resource_probe"], partition_mapping=TimeWindowPartitionMapping(-2, 0))},
)
def reader(rows: pd.DataFrame) -> int:
    return len(rows)


def _run(db, key, selection=None, raise_on_error=True):
    from dagster import mem_io_manager

    return materialize(
        [probe, reader],
        partition_key=key,
        selection=selection or [probe],
        resources={"io_manager": NbaDuckDBIOManager(database=db), "mem": mem_io_manager},
        raise_on_error=raise_on_error,
    )


def _rows(db):
    with duckdb.connect(db) as conn:
        return conn.execute(
            "select cast(game_date as varchar), count(*) from nba_raw.resource_probe group by 1 order by 1"
        ).fetchall()


def test_io_manager_replaces_partition_and_creates_declared_types(tmp_path):
    db = str(tmp_path / "w.duckdb")
    _run(db, "2023-11-02")  # empty first partition still creates the typed table
    with duckdb.connect(db) as conn:
        types = dict(conn.execute("select column_name, data_type from information_schema.columns "
                                  "where table_name = 'resource_probe'").fetchall())
    assert types == {"game_date": "DATE", "team_abbr": "VARCHAR", "points": "BIGINT"}
    _run(db, "2023-11-01")
    _run(db, "2023-11-03")
    _run(db, "2023-11-03")
    assert _rows(db) == [("2023-11-01", 2), ("2023-11-03", 2)]
    result = _run(db, "2023-11-03", selection=[reader])
    assert result.output_for_node("nba_analytics__resource_probe_reader") == 4


def test_failed_insert_rolls_back_to_previous_rows(tmp_path):
    db = str(tmp_path / "w.duckdb")
    _run(db, "2023-11-01")
    _state["fail_on"] = "2023-11-01"
    try:
        result = _run(db, "2023-11-01", raise_on_error=False)
    finally:
        _state["fail_on"] = None
    assert not result.success
    assert _rows(db) == [("2023-11-01", 2)]


def test_local_lake_replace_prefix_is_idempotent_and_rejects_bad_keys(tmp_path):
    lake = LocalLake(root=str(tmp_path / "lake"))
    prefix = "nba-com/team-boxscore/2023-11-01/"
    lake.replace_prefix(prefix, {prefix + "a.json": {"x": 1}, prefix + "b.json": {"x": 2}})
    lake.replace_prefix(prefix, {prefix + "a.json": {"x": 3}})
    assert lake.list_keys(prefix) == [prefix + "a.json"]
    assert lake.read_json(prefix + "a.json") == {"x": 3}
    assert not list((tmp_path / "lake").rglob(".tmp-*"))
    with pytest.raises(ValueError, match="outside"):
        lake.replace_prefix(prefix, {"nba-com/other/x.json": {}})
    with pytest.raises(ValueError, match="bad lake key"):
        lake.write_json("../escape.json", {})
    with pytest.raises(FileNotFoundError, match="missing.json"):
        lake.read_json(prefix + "missing.json")


def test_environment_switch(monkeypatch, tmp_path):
    monkeypatch.setenv("NBA_BACKFILL_HOME", str(tmp_path))
    monkeypatch.delenv("NBA_BACKFILL_ENV", raising=False)
    resources = build_resources()
    assert tuple(resources) == RESOURCE_KEYS
    assert resources["io_manager"].database == str(tmp_path / "warehouse.duckdb")
    assert resources["lake"].root == str(tmp_path / "lake")
    assert resources["nba_api"].mode == "offline"
    monkeypatch.setenv("NBA_BACKFILL_ENV", "staging")
    with pytest.raises(ValueError, match="NBA_BACKFILL_ENV must be one of"):
        build_resources()


def test_conform_types_every_kind_of_value_and_keeps_row_order():
    import datetime as dt

    import numpy as np

    cols = [Col("game_date", "DATE"), Col("team_abbr", "STRING"), Col("points", "INT64"),
            Col("pace", "FLOAT64"), Col("home", "BOOL"), Col("seen_at", "TIMESTAMP"),
            Col("tags", "ARRAY<STRING>")]
    frame = pd.DataFrame({
        "extra": [1, 2, 3, 4],
        "tags": [("a", "b"), None, ["c"], ()],
        "seen_at": ["2024-10-22T01:00:00Z", None, "2024-10-23T02:00:00Z", "2024-10-24T00:00:00Z"],
        "home": [True, False, None, True],
        "pace": [98.5, "99", None, 101],
        "points": [110.0, "97", None, 88.4],
        "team_abbr": ["BOS", None, "NYK", "LAL"],
        "game_date": ["2024-10-22", pd.Timestamp("2024-10-23 19:30"), None, dt.date(2024, 10, 22)],
    })
    out = conform(frame, cols)
    assert list(out.columns) == [c.name for c in cols]
    assert list(out["game_date"]) == [dt.date(2024, 10, 22), dt.date(2024, 10, 23), None,
                                      dt.date(2024, 10, 22)]
    assert out["game_date"].dtype == object
    assert str(out["team_abbr"].dtype) == "string" and out["team_abbr"].isna().tolist() == [False, True, False, False]
    assert out["points"].tolist()[:2] == [110, 97] and out["points"].isna().tolist() == [False, False, True, False]
    assert out["points"].iloc[3] == 88 and str(out["points"].dtype) == "Int64"
    assert np.isnan(out["pace"].iloc[2]) and out["pace"].iloc[1] == 99.0
    assert str(out["home"].dtype) == "boolean" and out["home"].isna().tolist() == [False, False, True, False]
    assert str(out["seen_at"].dt.tz) == "UTC" and pd.isna(out["seen_at"].iloc[1])
    assert out["tags"].tolist() == [["a", "b"], None, ["c"], []]
    # a datetime64 column (how DuckDB returns DATE) converts too, NaT -> None
    dates = pd.DataFrame({"game_date": pd.to_datetime(["2024-10-22", None])})
    assert conform(dates, cols[:1])["game_date"].tolist() == [dt.date(2024, 10, 22), None]
    with pytest.raises(KeyError, match="frame lacks columns"):
        conform(frame.drop(columns=["pace"]), cols)


def test_lookback_into_a_table_nobody_materialized_reads_zero_typed_rows(tmp_path):
    """A season opener's lookback reaches the previous season; the backfill daemon launches it
    before anything else, when the upstream table may not exist yet: zero rows, not a crash."""
    db = str(tmp_path / "w.duckdb")
    result = _run(db, "2023-11-03", selection=[reader])
    assert result.output_for_node("nba_analytics__resource_probe_reader") == 0
    with duckdb.connect(db) as conn:  # the read created nothing
        assert conn.execute("select count(*) from information_schema.tables "
                            "where table_name = 'resource_probe'").fetchone()[0] == 0


def test_empty_frame_has_the_declared_columns_and_dtypes():
    from nba_backfill.assets.tables import empty_frame

    frame = empty_frame(column_schema(COLS))
    assert list(frame.columns) == ["game_date", "team_abbr", "points"] and len(frame) == 0
    assert str(frame["team_abbr"].dtype) == "string" and str(frame["points"].dtype) == "Int64"


@asset(
    key=["nba_analytics", "resource_probe_history"],
    partitions_def=DAILY_PARTITIONS,
    io_manager_key="mem",
    ins={"rows": AssetIn(key=["nba_raw", "resource_probe"],
                         partition_mapping=TimeWindowPartitionMapping(-2, -1))},
)
def history_reader(rows: pd.DataFrame) -> list:
    return [list(rows.columns), len(rows)]


def test_a_window_before_the_first_partition_reads_zero_rows_with_the_declared_columns(tmp_path):
    """The calendar's first in-season day reading "the days before" maps to no upstream partition
    at all: a typed empty frame, not a column-less DataFrame that fails every reader's checks."""
    from dagster import mem_io_manager

    db = str(tmp_path / "w.duckdb")
    first = DAILY_PARTITIONS.get_first_partition_key()
    _run(db, "2023-11-01")  # the upstream table exists, the window still holds no partition
    result = materialize([probe, history_reader], partition_key=first, selection=[history_reader],
                         resources={"io_manager": NbaDuckDBIOManager(database=db), "mem": mem_io_manager})
    assert result.output_for_node("nba_analytics__resource_probe_history") == [
        ["game_date", "team_abbr", "points"], 0]


LIST_COLS = [Col("game_date", "DATE"), Col("player_lookup", "STRING"), Col("warning_details", "ARRAY<STRING>")]


@asset(
    key=["nba_precompute", "resource_list_probe"],
    partitions_def=DAILY_PARTITIONS,
    metadata={"partition_expr": partition_expr("game_date"), "dagster/column_schema": column_schema(LIST_COLS)},
)
def list_probe(context) -> pd.DataFrame:
    """Like a season of player_composite_factors: 22,859 rows, warnings on 27 scattered rows."""
    n = 22_859
    warnings = [[] for _ in range(n)]
    for i in range(1_345, n, 800):
        warnings[i] = ["|shot_zone_mismatch_score| -8.2 > 8.0"]
    day = context.partition_key
    frame = pd.DataFrame({"game_date": [day] * n, "player_lookup": [f"p{i}" for i in range(n)],
                          "warning_details": warnings})
    return conform(frame, LIST_COLS)


def test_a_list_column_with_rare_values_is_written_whole(tmp_path):
    """DuckDB types a pandas object column from a sample of 1,000 rows; all-empty lists in the
    sample typed the column LIST(NULL) and the insert failed ("VARCHAR -> NULL") on the first
    five-season backfill. The IO manager analyses every row."""
    db = str(tmp_path / "w.duckdb")
    result = materialize([list_probe], partition_key="2023-11-01",
                         resources={"io_manager": NbaDuckDBIOManager(database=db)})
    assert result.success
    with duckdb.connect(db) as conn:
        rows, flagged = conn.execute("select count(*), count(*) filter (where len(warning_details) > 0) "
                                     "from nba_precompute.resource_list_probe").fetchone()
    assert (rows, flagged) == (22_859, 27)
