"""The BigQuery IO manager on the emulator, with the probe assets (real game-log rows).

Every test compares with the same assets run on the local DuckDB resources where it matters.
"""

import datetime as dt

import pandas as pd
import pytest
from dagster import AssetKey, Output, TimeWindow, asset
from dagster._core.storage.db_io_manager import TablePartitionDimension, TableSlice
from dagster_gcp.bigquery.io_manager import BigQueryClient, _get_cleanup_statement
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from nba_backfill.assets.tables import column_schema
from nba_backfill.layers import RAW
from nba_backfill.partitions import DAILY_PARTITIONS, TABLE_BACKFILL_POLICY
from nba_backfill.resources.bigquery import (
    CLUSTER_BY,
    BigQueryNbaPandasHandler,
    BigQueryWarehouse,
    NbaBigQueryClient,
    bigquery_schema,
    partition_column,
)
from nba_backfill.resources.environment import build_resources, local_resources
from nba_backfill.resources.warehouse import partition_expr
from nba_backfill_tests.prod.probe_assets import PLAYER_GAMES_COLS, PROBE_ASSETS, probe_game_logs
from nba_backfill_tests.prod.runs import assert_same_rows, run, table_rows

DAY = "2023-11-01"  # 279 player rows, 13 games
NEXT = "2023-11-02"  # 85 player rows
RANGE = ("2023-11-06", "2023-11-08")  # 11-07 (Election Day) has no games


def _warehouse(target) -> BigQueryWarehouse:
    return BigQueryWarehouse(project=target.project, location="US")


def _counts(warehouse, schema: str, table: str, column: str) -> dict[str, int]:
    df = warehouse.query(f"select {column} as d, count(*) as n from {schema}.{table} group by 1")
    return {pd.Timestamp(d).date().isoformat(): int(n) for d, n in zip(df["d"], df["n"])}


def test_prod_run_matches_local_run(prod_target, tmp_path):
    prod = build_resources("prod")
    local = local_resources(tmp_path / "local")
    for resources in (prod, local):
        run(PROBE_ASSETS, resources, partition_key=DAY)
    warehouse = _warehouse(prod_target)
    for schema, table in [
        ("nba_raw", "probe_player_games"),
        ("nba_analytics", "probe_player_form"),
    ]:
        expected = table_rows(local["warehouse"], schema, table)
        assert len(expected) == 279
        assert_same_rows(expected, table_rows(warehouse, schema, table), table)


def test_tables_are_day_partitioned_clustered_and_never_expire(prod_target):
    run(PROBE_ASSETS, build_resources("prod"), partition_key=DAY)
    client = prod_target.bigquery()
    games = client.get_table(f"{prod_target.project}.nba_raw.probe_player_games")
    assert games.time_partitioning.type_ == bigquery.TimePartitioningType.DAY
    assert games.time_partitioning.field == "game_date"
    assert games.time_partitioning.expiration_ms is None
    assert games.expires is None
    assert games.clustering_fields == ["player_lookup", "team_abbr", "game_date"]
    fields = {f.name: (f.field_type, f.mode) for f in games.schema}
    assert list(fields) == [c.name for c in PLAYER_GAMES_COLS]
    assert fields["game_date"] == ("DATE", "NULLABLE")
    assert fields["fg_pct"][0] in ("FLOAT", "FLOAT64")  # the API's legacy and standard names
    assert fields["matchup_teams"] == ("STRING", "REPEATED")
    assert fields["tipoff_utc"] == ("TIMESTAMP", "NULLABLE")
    form = client.get_table(f"{prod_target.project}.nba_analytics.probe_player_form")
    assert form.time_partitioning.field == "analysis_date"
    assert form.clustering_fields == ["player_lookup", "team_abbr"]
    staging = [t.table_id for t in client.list_tables(f"{prod_target.project}.nba_raw")]
    assert staging == ["probe_player_games"], "staging tables must be dropped after the write"


def test_an_existing_table_takes_the_declared_clustering(prod_target):
    """A table created before its asset declared `nba/cluster_by` (or with another clustering)
    is re-clustered on the next write, its rows kept."""
    client = prod_target.bigquery()
    table_id = f"{prod_target.project}.nba_raw.probe_player_games"
    client.create_dataset(f"{prod_target.project}.nba_raw", exists_ok=True)
    table = bigquery.Table(table_id, schema=bigquery_schema(column_schema(PLAYER_GAMES_COLS)))
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY,
                                                        field="game_date")
    table.clustering_fields = ["game_id"]
    client.create_table(table)
    run(PROBE_ASSETS, build_resources("prod"), partition_key=DAY)
    assert client.get_table(table_id).clustering_fields == ["player_lookup", "team_abbr", "game_date"]
    assert _counts(_warehouse(prod_target), "nba_raw", "probe_player_games", "game_date") == {DAY: 279}


def test_materialization_metadata_reports_bigquery_cost(prod_target):
    result = run(PROBE_ASSETS, build_resources("prod"), partition_key=DAY)
    events = {
        e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    meta = events[AssetKey(["nba_analytics", "probe_player_form"])]
    for key in (
        "bigquery/bytes_processed",
        "bigquery/bytes_billed",
        "bigquery/slot_ms",
        "bigquery/read_bytes_processed",
        "bigquery/read_bytes_billed",
        "bigquery/read_slot_ms",
    ):
        assert isinstance(meta[key].value, int) and meta[key].value >= 0, key
    assert meta["dagster/partition_row_count"].value == 279
    assert meta["bigquery/job_id"].text
    assert (
        meta["dagster/table_name"].text == f"{prod_target.project}.nba_analytics.probe_player_form"
    )


def test_rematerializing_a_date_replaces_exactly_its_rows(prod_target):
    prod = build_resources("prod")
    warehouse = _warehouse(prod_target)
    run(PROBE_ASSETS, prod, partition_key=DAY)
    run(PROBE_ASSETS, prod, partition_key=NEXT)
    before = table_rows(warehouse, "nba_raw", "probe_player_games")
    run(PROBE_ASSETS, prod, partition_key=DAY)
    after = table_rows(warehouse, "nba_raw", "probe_player_games")
    assert _counts(warehouse, "nba_raw", "probe_player_games", "game_date") == {DAY: 279, NEXT: 85}
    assert_same_rows(before, after, "probe_player_games")
    keys = warehouse.query(
        "select player_lookup, nba_game_id, count(*) as n from nba_raw.probe_player_games "
        "group by 1, 2 having count(*) > 1"
    )
    assert keys.empty, keys


def test_ranged_single_run_writes_the_range_once(prod_target, tmp_path):
    prod = build_resources("prod")
    local = local_resources(tmp_path / "local")
    warehouse = _warehouse(prod_target)
    run(PROBE_ASSETS, prod, partition_key=DAY)
    result = run(PROBE_ASSETS, prod, key_range=RANGE)
    assert result.success
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert len(steps) == 3  # one step per asset for the whole range
    for key in (DAY, "2023-11-06", "2023-11-07", "2023-11-08"):  # same order, one run per date
        run(PROBE_ASSETS, local, partition_key=key)
    counts = _counts(warehouse, "nba_raw", "probe_player_games", "game_date")
    assert counts[DAY] == 279 and "2023-11-07" not in counts
    assert set(counts) == {DAY, "2023-11-06", "2023-11-08"}
    for schema, table in [
        ("nba_raw", "probe_player_games"),
        ("nba_analytics", "probe_player_form"),
    ]:
        assert_same_rows(
            table_rows(local["warehouse"], schema, table),
            table_rows(warehouse, schema, table),
            table,
        )
    # the same range again: still one copy of every row, the date outside untouched
    run(PROBE_ASSETS, prod, key_range=RANGE)
    assert _counts(warehouse, "nba_raw", "probe_player_games", "game_date") == counts


def _bad_points_asset():
    """Same table as probe_player_games, but one row's `points` is not an integer."""

    @asset(
        key=[RAW, "probe_player_games"],
        group_name=RAW,
        partitions_def=DAILY_PARTITIONS,
        backfill_policy=TABLE_BACKFILL_POLICY,
        io_manager_key="io_manager",
        deps=[probe_game_logs],
        metadata={
            "partition_expr": partition_expr("game_date"),
            "dagster/column_schema": column_schema(PLAYER_GAMES_COLS),
            CLUSTER_BY: ["player_lookup", "team_abbr", "game_date"],
        },
    )
    def probe_player_games(warehouse: BigQueryWarehouse) -> Output[pd.DataFrame]:
        df = warehouse.query("select * from nba_raw.probe_player_games")
        df["points"] = df["points"].astype(object)
        df.loc[0, "points"] = "forty"
        return Output(df)

    return probe_player_games


def test_failed_load_leaves_the_previous_partition_intact(prod_target):
    prod = build_resources("prod")
    warehouse = _warehouse(prod_target)
    run(PROBE_ASSETS, prod, partition_key=DAY)
    before = table_rows(warehouse, "nba_raw", "probe_player_games")
    result = run([_bad_points_asset()], prod, partition_key=DAY, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = str(failure.event_specific_data.error)
    assert "probe_player_games: loading 279 rows into the staging table failed" in message
    assert_same_rows(before, table_rows(warehouse, "nba_raw", "probe_player_games"), "games")
    assert [
        t.table_id for t in prod_target.bigquery().list_tables(f"{prod_target.project}.nba_raw")
    ] == ["probe_player_games"]


def test_failure_inside_the_transaction_rolls_back(prod_target, monkeypatch):
    """The staged table vanishes between the load and the transaction: the DELETE has run
    when the INSERT fails, and the rollback must restore the partition."""
    prod = build_resources("prod")
    warehouse = _warehouse(prod_target)
    run(PROBE_ASSETS, prod, partition_key=DAY)
    before = table_rows(warehouse, "nba_raw", "probe_player_games")
    stage = BigQueryNbaPandasHandler._stage

    def stage_then_lose_it(self, client, table_id, frame, schema):
        staged = stage(self, client, table_id, frame, schema)
        client.delete_table(staged.table_id)
        return staged

    monkeypatch.setattr(BigQueryNbaPandasHandler, "_stage", stage_then_lose_it)
    result = run(
        PROBE_ASSETS,
        prod,
        partition_key=DAY,
        raise_on_error=False,
        selection=[AssetKey(["nba_raw", "probe_player_games"])],
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "transaction failed and was rolled back" in str(failure.event_specific_data.error)
    assert_same_rows(before, table_rows(warehouse, "nba_raw", "probe_player_games"), "games")


def test_a_date_without_games_creates_the_table_and_clears_the_window(prod_target):
    prod = build_resources("prod")
    warehouse = _warehouse(prod_target)
    run(PROBE_ASSETS, prod, partition_key="2023-11-07")
    assert warehouse.table_exists("nba_raw", "probe_player_games")
    assert warehouse.query("select count(*) as n from nba_raw.probe_player_games")["n"][0] == 0
    client = prod_target.bigquery()
    client.query(
        f"insert into `{prod_target.project}.nba_raw.probe_player_games` (game_date, player_lookup) "
        "values (DATE '2023-11-07', 'stale')"
    ).result()
    run(PROBE_ASSETS, prod, partition_key="2023-11-07")
    assert warehouse.query("select count(*) as n from nba_raw.probe_player_games")["n"][0] == 0


def test_dataset_with_default_partition_expiry_is_refused(prod_target):
    client = prod_target.bigquery()
    dataset = bigquery.Dataset(f"{prod_target.project}.nba_raw")
    dataset.default_partition_expiration_ms = 90 * 24 * 3600 * 1000
    client.create_dataset(dataset)
    if not client.get_dataset(dataset.reference).default_partition_expiration_ms:
        pytest.fail("the emulator dropped default_partition_expiration_ms; cannot test the guard")
    result = run(PROBE_ASSETS, build_resources("prod"), partition_key=DAY, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "default partition/table expiration" in str(failure.event_specific_data.error)
    assert not _warehouse(prod_target).table_exists("nba_raw", "probe_player_games")


def _slice(project: str, start: str, end: str) -> TableSlice:
    window = TimeWindow(
        dt.datetime.fromisoformat(start).replace(tzinfo=dt.timezone.utc),
        dt.datetime.fromisoformat(end).replace(tzinfo=dt.timezone.utc),
    )
    return TableSlice(
        table="probe_player_games",
        schema="nba_raw",
        database=project,
        partition_dimensions=[TablePartitionDimension(partition_expr("game_date"), window)],
    )


def test_partition_expr_is_valid_for_select_and_delete(prod_target):
    """dagster-gcp's own statements with our partition_expr run on the emulator, and so do ours."""
    prod = build_resources("prod")
    run(PROBE_ASSETS, prod, partition_key=DAY)
    run(PROBE_ASSETS, prod, partition_key=NEXT)
    client = prod_target.bigquery()
    one_day = _slice(prod_target.project, DAY, NEXT)
    select = BigQueryClient.get_select_statement(one_day)
    assert "CAST(game_date AS TIMESTAMP) >= '2023-11-01 00:00:00'" in select
    assert len(list(client.query(select).result())) == 279
    ours = _slice(prod_target.project, DAY, "2023-11-03")
    assert (
        len(list(client.query(NbaBigQueryClient.get_select_statement(ours)).result())) == 279 + 85
    )
    client.query(_get_cleanup_statement(one_day)).result()
    assert _counts(_warehouse(prod_target), "nba_raw", "probe_player_games", "game_date") == {
        NEXT: 85
    }


@pytest.mark.parametrize(
    ("expr", "column"),
    [
        ("CAST(game_date AS TIMESTAMP)", "game_date"),
        ("cast(`cache_date` as timestamp)", "cache_date"),
        ("TIMESTAMP(analysis_date)", "analysis_date"),
        ("game_date", "game_date"),
    ],
)
def test_partition_column_is_read_from_partition_expr(expr, column):
    assert partition_column(expr) == column


def test_unsupported_partition_expr_is_a_clear_error():
    with pytest.raises(ValueError, match="is not a column or CAST"):
        partition_column("DATE_TRUNC(game_date, MONTH)")


def test_warehouse_query_binds_positional_parameters(prod_target):
    run(PROBE_ASSETS, build_resources("prod"), partition_key=DAY)
    warehouse = build_resources("prod")["warehouse"]  # EnvVar settings, resolved outside a run
    df = warehouse.query(
        "select count(*) as n from nba_raw.probe_player_games "
        "where game_date = ? and team_abbr in unnest(?) and minutes >= ? and is_home = ?",
        [dt.date(2023, 11, 1), ["BOS", "PHI"], 10, True],
    )
    assert int(df["n"][0]) > 0
    assert warehouse.table_exists("nba_raw", "probe_player_games")
    assert not warehouse.table_exists("nba_raw", "no_such_table")
    with pytest.raises(NotFound, match="no_such_table"):
        warehouse.query("select * from nba_raw.no_such_table")


def test_reading_a_table_nobody_materialized_gives_zero_typed_rows(prod_target):
    """The lookback reader runs before its upstream table exists (a season opener launched by
    the backfill daemon first): zero rows with the declared columns, and no table created."""
    prod = build_resources("prod")
    warehouse = _warehouse(prod_target)
    result = run(PROBE_ASSETS, prod, partition_key=DAY,
                 selection=[AssetKey(["nba_analytics", "probe_player_form"])])
    assert result.success
    assert not warehouse.table_exists("nba_raw", "probe_player_games")
    assert warehouse.query("select count(*) as n from nba_analytics.probe_player_form")["n"][0] == 0


def test_a_window_before_the_first_partition_reads_the_declared_columns(prod_target):
    """The calendar's first day reading "the days before": no upstream partition at all."""
    from dagster import AssetIn, MaterializeResult, TimeWindowPartitionMapping

    @asset(
        key=["nba_analytics", "probe_history_columns"],
        partitions_def=DAILY_PARTITIONS,
        ins={"games": AssetIn(key=[RAW, "probe_player_games"],
                              partition_mapping=TimeWindowPartitionMapping(-2, -1))},
    )
    def probe_history_columns(games: pd.DataFrame) -> MaterializeResult:
        return MaterializeResult(metadata={"columns": ",".join(games.columns), "rows": len(games)})

    prod = build_resources("prod")
    first = DAILY_PARTITIONS.get_first_partition_key()
    result = run([*PROBE_ASSETS, probe_history_columns], prod, partition_key=first,
                 selection=[AssetKey(["nba_analytics", "probe_history_columns"])])
    (materialization,) = result.asset_materializations_for_node("nba_analytics__probe_history_columns")
    assert materialization.metadata["columns"].value == ",".join(c.name for c in PLAYER_GAMES_COLS)
    assert materialization.metadata["rows"].value == 0
