"""The pure backfill-request builder behind `nba-backfill backfill` / `stale --launch`, the CLI's
argument validation (nothing contacted, nothing launched) and its GraphQL documents."""

from __future__ import annotations

import pytest
from dagster_graphql.schema import create_schema
from graphql import parse, validate

from nba_backfill import cli
from nba_backfill.ops import queries
from nba_backfill.ops.graphql import normalize_url
from nba_backfill.ops.plan import (
    LAYER_PHASES,
    BackfillInputError,
    build_backfill_request,
    build_stale_request,
    contiguous_ranges,
    parse_phases,
    phases_label,
    resolve_assets,
    resolve_keys,
)
from nba_backfill.ops.recover import add_partitions
from nba_backfill.partitions import DAILY_PARTITIONS
from nba_backfill.seasons import season_by_label

ALL_KEYS = DAILY_PARTITIONS.get_partition_keys()
CURRENT = season_by_label("2024-25")
KNOWN = [
    "nba_lake/nbac_schedule",
    "nba_lake/nbac_player_boxscore",
    "nba_raw/nbac_schedule",
    "nba_raw/nbac_player_boxscore",
    "nba_analytics/player_game_summary",
    "nba_precompute/player_daily_cache",
    "nba_predictions/player_prop_predictions",
]


def request(**kwargs):
    args = {"known_assets": KNOWN, "all_keys": ALL_KEYS, "current_season": CURRENT}
    args.update(kwargs)
    return build_backfill_request(**args)


# --- phases ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phases"),
    [("1-4", (1, 2, 3, 4)), ("2", (2,)), ("1,3-4", (1, 3, 4)), (" 4,2 ", (2, 4)), (None, (1, 2, 3, 4))],
)
def test_parse_phases(text, phases):
    assert parse_phases(text) == phases


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0-4", "phase 0 does not exist"),
        ("1-6", "phase 6 does not exist"),
        ("4-2", "reversed phase range 4-2"),
        ("one", "expected phases like 1-4"),
        ("1-", "expected phases like 1-4"),
    ],
)
def test_parse_phases_rejects(text, message):
    with pytest.raises(BackfillInputError, match=message):
        parse_phases(text)


def test_phases_label_round_trips():
    for text in ("1-4", "2", "1,3-5", "1,3"):
        assert phases_label(parse_phases(text)) == text


# --- ranges ------------------------------------------------------------------------------------


def test_season_range_is_every_in_season_day():
    keys = resolve_keys(ALL_KEYS, season="2023-24")
    season = season_by_label("2023-24")
    assert keys[0] == season.opener.isoformat() == "2023-10-24"
    assert keys[-1] == season.finals_end.isoformat() == "2024-06-17"
    assert len(keys) == (season.finals_end - season.opener).days + 1 == 238


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"season": "2019-20"}, "unknown season '2019-20'"),
        ({"season": "2023-24", "start": "2023-11-01"}, "either --season or --from/--to"),
        ({"start": "2023-11-01"}, "both --from D1 and --to D2"),
        ({}, "give --season S"),
        ({"start": "2024-01-10", "end": "2024-01-01"}, "reversed range"),
        ({"start": "2024-13-01", "end": "2024-12-01"}, "bad date '2024-13-01'"),
        ({"start": "2019-01-01", "end": "2021-01-05"}, "outside the partitions"),
        ({"start": "2024-01-01", "end": "2099-01-01"}, "outside the partitions"),
        ({"start": "2024-07-01", "end": "2024-08-01"}, "holds no in-season day"),
    ],
)
def test_resolve_keys_rejects(kwargs, message):
    with pytest.raises(BackfillInputError, match=message):
        resolve_keys(ALL_KEYS, **kwargs)


def test_range_over_the_off_season_is_one_contiguous_range():
    keys = resolve_keys(ALL_KEYS, start="2024-06-10", end="2024-10-25")
    assert "2024-07-01" not in keys and keys[0] == "2024-06-10" and keys[-1] == "2024-10-25"
    assert len(keys) == 8 + 4
    assert contiguous_ranges(keys, ALL_KEYS) == [("2024-06-10", "2024-10-25")]
    gaps = [k for k in keys if k not in {"2024-06-12", "2024-10-23"}]
    assert contiguous_ranges(gaps, ALL_KEYS) == [
        ("2024-06-10", "2024-06-11"),
        ("2024-06-13", "2024-10-22"),
        ("2024-10-24", "2024-10-25"),
    ]


# --- assets ------------------------------------------------------------------------------------


def test_assets_by_phase_and_by_name():
    assert resolve_assets(KNOWN, (2,), None) == ["nba_raw/nbac_player_boxscore", "nba_raw/nbac_schedule"]
    assert resolve_assets(KNOWN, (1, 2, 3, 4), ["player_game_summary", "nba_raw.nbac_schedule"]) == [
        "nba_analytics/player_game_summary",
        "nba_raw/nbac_schedule",
    ]


@pytest.mark.parametrize(
    ("phases", "assets", "message"),
    [
        ((1, 2, 3, 4), ["nba_raw/no_such_table"], "unknown asset 'nba_raw/no_such_table'"),
        ((1, 2, 3, 4), ["nbac_schedule"], "'nbac_schedule' is ambiguous: nba_lake/nbac_schedule, nba_raw/nbac_schedule"),
        ((2,), ["player_game_summary"], "nba_analytics/player_game_summary is phase 3, outside --phases 2"),
    ],
)
def test_assets_rejects(phases, assets, message):
    with pytest.raises(BackfillInputError, match=message):
        resolve_assets(KNOWN, phases, assets)


def test_every_asset_of_the_code_location_belongs_to_a_phase():
    from nba_backfill.definitions import defs

    keys = [k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()]
    assert keys
    assert {k.split("/")[0] for k in keys} <= set(LAYER_PHASES), keys


# --- the request -------------------------------------------------------------------------------


def test_every_asset_gets_exactly_the_requested_range():
    req = request(start="2023-11-01", end="2023-11-30", phases="1-4")
    assert req.asset_keys == sorted(k for k in KNOWN if not k.startswith("nba_predictions"))
    for item in req.partitions_by_assets:  # no widening through lookback mappings
        assert item.ranges == (("2023-11-01", "2023-11-30"),) and item.num_keys == 30
    params = req.graphql_params()
    assert set(params) == {"partitionsByAssets", "title", "description", "tags"}
    first = params["partitionsByAssets"][0]
    assert first == {
        "assetKey": {"path": ["nba_analytics", "player_game_summary"]},
        "partitions": {"ranges": [{"start": "2023-11-01", "end": "2023-11-30"}]},
    }
    assert {"key": "nba_backfill/range", "value": "2023-11-01...2023-11-30"} in params["tags"]
    assert req.num_asset_partitions == 6 * 30


def test_season_request_and_title():
    req = request(season="2023-24", phases="2")
    assert req.title == "nba-backfill 2023-24 phases 2"
    assert [i.ranges for i in req.partitions_by_assets] == [(("2023-10-24", "2024-06-17"),)] * 2


def test_phase_5_only_inside_the_current_season():
    with pytest.raises(BackfillInputError, match="phase 5 .* current season 2024-25"):
        request(season="2023-24", phases="1-5")
    req = request(start="2024-11-01", end="2024-11-03", phases="5")
    assert req.asset_keys == ["nba_predictions/player_prop_predictions"]


def test_only_missing_or_failed_leaves_out_done_partitions():
    done = {
        "nba_raw/nbac_schedule": {"2023-11-01", "2023-11-02", "2023-11-03"},
        "nba_raw/nbac_player_boxscore": {"2023-11-02"},
    }
    req = request(start="2023-11-01", end="2023-11-03", phases="2", done=done)
    assert req.asset_keys == ["nba_raw/nbac_player_boxscore"]
    (item,) = req.partitions_by_assets
    assert item.ranges == (("2023-11-01", "2023-11-01"), ("2023-11-03", "2023-11-03"))
    assert "missing or failed only" in req.title
    everything = {a: {"2023-11-01", "2023-11-02", "2023-11-03"} for a in done}
    assert request(start="2023-11-01", end="2023-11-03", phases="2", done=everything) is None


def test_stale_request_skips_historical_predictions():
    stale = {
        "nba_analytics/player_game_summary": ["2023-11-02", "2023-11-01", "2023-11-03"],
        "nba_predictions/player_prop_predictions": ["2024-01-05", "2024-11-05"],
    }
    req, skipped = build_stale_request(stale, ALL_KEYS, CURRENT)
    assert skipped == {"nba_predictions/player_prop_predictions": ["2024-01-05"]}
    assert [(i.asset, i.ranges) for i in req.partitions_by_assets] == [
        ("nba_analytics/player_game_summary", (("2023-11-01", "2023-11-03"),)),
        ("nba_predictions/player_prop_predictions", (("2024-11-05", "2024-11-05"),)),
    ]
    assert build_stale_request({}, ALL_KEYS, CURRENT) == (None, {})


# --- the CLI refuses bad input before contacting Dagster ------------------------------------------


CLOSED = "http://127.0.0.1:9/graphql"  # nothing listens: contacting it would exit 1, not 2
AVAILABLE = ("2020-12-22..2025-04-13 (seasons 2020-21..2024-25; the offline data ends 2025-04-13, "
             "NBA_BACKFILL_ENV=prod reads the live sources)")


def test_offline_default_range_is_the_bundled_data(monkeypatch):
    """No env var: the partitions end at the offline data's last day and the range that
    preflight/stale default to is the bundled last season."""
    monkeypatch.delenv("NBA_BACKFILL_CURRENT_SEASON", raising=False)
    assert ALL_KEYS[-1] == "2025-04-13"
    keys = cli._keys_or_default(cli.build_parser().parse_args(["preflight"]), ALL_KEYS)
    assert (keys[0], keys[-1]) == ("2024-10-22", "2025-04-13")
    assert resolve_keys(ALL_KEYS, season="2024-25") == keys
    with pytest.raises(BackfillInputError) as exc:
        resolve_keys(ALL_KEYS, season="2025-26")
    assert str(exc.value) == f"--season 2025-26 has no partitions (it opens 2025-10-21); the partitions are {AVAILABLE}"
    monkeypatch.setenv("NBA_BACKFILL_ENV", "prod")  # production ranges name no offline data
    with pytest.raises(BackfillInputError, match=r"outside the partitions 2020-12-22..2025-04-13 \(seasons 2020-21..2024-25\)$"):
        resolve_keys(ALL_KEYS, start="2025-04-01", end="2025-04-30")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill", "--season", "1999-00"], "unknown season '1999-00'"),
        (["backfill", "--from", "2024-02-10", "--to", "2024-02-01"], "reversed range"),
        (["backfill", "--from", "2015-01-01", "--to", "2015-02-01"], "outside the partitions"),
        (["backfill", "--season", "2023-24", "--phases", "0-4"], "phase 0 does not exist"),
        (["backfill", "--season", "2023-24", "--phases", "1-7"], "'1-7': phase 6 does not exist"),
        (["backfill", "--season", "2023-24", "--from", "2023-11-01", "--to", "2023-11-02"], "not both"),
        (["preflight", "--from", "2024-07-01", "--to", "2024-07-31"], "no in-season day"),
        (["stale", "--season", "2030-31"], "unknown season '2030-31'"),
        # the offline default ends with the bundled data: later seasons and dates are refused,
        # naming what is available (also with --dry-run)
        (["backfill", "--season", "2025-26", "--dry-run"], f"has no partitions (it opens 2025-10-21); the partitions are {AVAILABLE}"),
        (["backfill", "--from", "2025-04-10", "--to", "2025-04-20", "--dry-run"], f"outside the partitions {AVAILABLE}"),
        (["preflight", "--season", "2025-26"], f"the partitions are {AVAILABLE}"),
        (["stale", "--from", "2025-05-01", "--to", "2025-05-02"], f"outside the partitions {AVAILABLE}"),
        (["status", "--limit", "0"], "--limit must be at least 1"),
    ],
)
def test_cli_bad_input_exits_2_without_contacting_dagster(argv, message, capsys):
    assert cli.main(["--url", CLOSED, *argv]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and "cannot reach" not in err


def test_cli_unreachable_server_exits_1(capsys):
    assert cli.main(["--url", CLOSED, "status"]) == cli.EXIT_FAILED
    assert "cannot reach the Dagster webserver at http://127.0.0.1:9/graphql" in capsys.readouterr().err


def test_cli_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["backfill", "--season", "2023-24", "--bogus"])
    assert exc.value.code == cli.EXIT_BAD_INPUT
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_url_normalisation():
    assert normalize_url("http://127.0.0.1:3000") == "http://127.0.0.1:3000/graphql"
    assert normalize_url("http://127.0.0.1:3000/graphql/") == "http://127.0.0.1:3000/graphql"


@pytest.mark.parametrize("name", [n for n in dir(queries) if n.isupper()])
def test_graphql_documents_match_the_dagster_schema(name):
    errors = validate(create_schema().graphql_schema, parse(getattr(queries, name)))
    assert not errors, [e.message for e in errors]


# --- empty selections are refused, never widened ---------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill", "--season", "2023-24", "--phases", ""], "--phases '' is empty"),
        (["backfill", "--season", "2023-24", "--phases", "  "], "--phases '  ' is empty"),
        (["backfill", "--season", "2023-24", "--assets", ""], "--assets '' names no asset"),
        (["backfill", "--season", "2023-24", "--assets", ",", " "], "--assets ',' ' ' names no asset"),
        (["stale", "--season", "2023-24", "--assets", ""], "--assets '' names no asset"),
    ],
)
def test_cli_empty_phases_or_assets_exit_2_without_contacting_dagster(argv, message, capsys):
    assert cli.main(["--url", CLOSED, *argv]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and "cannot reach" not in err


def test_empty_phases_or_asset_list_never_widen_the_request():
    with pytest.raises(BackfillInputError, match="is empty"):
        parse_phases("")
    with pytest.raises(BackfillInputError, match="names no asset"):
        request(start="2023-11-01", end="2023-11-02", assets=[])
    with pytest.raises(BackfillInputError, match="names no asset"):
        resolve_assets(KNOWN, (1, 2, 3, 4), ["", " "])


# --- extra partitions (lake partitions to re-scrape) -----------------------------------------------


def test_add_partitions_merges_exact_keys_per_asset():
    req = request(start="2023-11-01", end="2023-11-05", phases="2", assets=["nba_raw/nbac_schedule"],
                  done={"nba_raw/nbac_schedule": {"2023-11-01", "2023-11-05"}})
    merged = add_partitions(req, {"nba_lake/nbac_schedule": {"2023-11-02", "2023-11-04", "2023-11-03"},
                                  "nba_raw/nbac_schedule": {"2023-11-03", "2023-11-05"}}, ALL_KEYS, "why")
    assert [(i.asset, i.ranges, i.num_keys) for i in merged.partitions_by_assets] == [
        ("nba_lake/nbac_schedule", (("2023-11-02", "2023-11-04"),), 3),
        ("nba_raw/nbac_schedule", (("2023-11-02", "2023-11-05"),), 4),
    ]
    assert merged.phases == (1, 2) and merged.title == req.title
    assert merged.description.endswith("Plus 4 partitions: why.")
    assert merged.tags["nba_backfill/added_partitions"] == "4"
    assert add_partitions(req, {"nba_raw/nbac_schedule": {"2023-11-02"}}, ALL_KEYS, "why") is req
    with pytest.raises(BackfillInputError, match="2023-08-01 is not a partition key"):
        add_partitions(req, {"nba_lake/nbac_schedule": {"2023-08-01"}}, ALL_KEYS, "why")
