"""The failure classifier and the message formats: pure functions, hand-computed expectations."""

import httpx
import pytest

from nba_backfill.alerts.classify import PARTITION_OK, Category, cause_key, classify, first_line
from nba_backfill.alerts.digest import phase_of, retry_command, season_of
from nba_backfill.alerts.messages import Alert, Digest, FailureGroup, PhaseTotals, message_from_dict
from nba_backfill.resources.nba_api import NbaApiError


def _exception_text(exc: Exception) -> str:
    """How Dagster stores an exception message: qualified class name, colon, message."""
    return f"{type(exc).__module__}.{type(exc).__name__}: {exc}\n"


@pytest.mark.parametrize(
    "check_name, expected",
    [
        ("games_complete", Category.COMPLETENESS),
        ("teams_complete", Category.COMPLETENESS),
        ("boxscore_completeness", Category.COMPLETENESS),
        ("points_distribution", Category.DISTRIBUTIONS),
        ("minutes_ranges", Category.DISTRIBUTIONS),
        ("fatigue_score_range", Category.DISTRIBUTIONS),
        ("lookback_complete", Category.LOOKBACK_GAPS),
        ("player_lookup_not_null", Category.CODE_ERRORS),
        ("unique_keys", Category.CODE_ERRORS),
    ],
)
def test_check_names_map_to_categories(check_name, expected):
    assert classify(check_name=check_name) is expected


def test_blocked_partition_ok_takes_the_category_of_the_upstream_check_it_names():
    lookback = "nba_analytics/player_game_summary [2023-11-02] failed blocking check lookback_complete"
    assert classify(check_name=PARTITION_OK, text=lookback, cause_kind="upstream_check_failed") is (
        Category.LOOKBACK_GAPS
    )
    both = (
        "nba_raw/nbac_schedule [2023-11-01] failed blocking check games_complete; "
        "nba_raw/nbac_team_boxscore [2023-11-01] failed blocking check points_distribution"
    )
    assert classify(check_name=PARTITION_OK, text=both, cause_kind="upstream_check_failed") is (
        Category.COMPLETENESS
    )
    assert cause_key(Category.COMPLETENESS, check_name=PARTITION_OK, text=both,
                     cause_kind="upstream_check_failed") == "blocked by games_complete"
    assert classify(check_name=PARTITION_OK, text="") is Category.CODE_ERRORS


@pytest.mark.parametrize(
    ("cause_kind", "cause", "category", "key"),
    [
        ("landed_object_malformed",
         "nba_raw/nbac_game_summary partition 2023-11-01: malformed landed object "
         "nba-com/game-summary/2023-11-01/0022300061.json: field resultSets.GameSummary: 0 rows, expected 1",
         Category.SOURCE_DATA, "landed_object_malformed"),
        ("landed_object_missing", "nba_raw/x partition 2023-11-01: landed object y.json is missing",
         Category.SOURCE_DATA, "landed_object_missing"),
        ("lookback_incomplete", "check lookback_complete: 12 of 15 games", Category.LOOKBACK_GAPS,
         "blocked by lookback_complete"),
        ("checks_failed", "check games_complete: 1 of 4 games missing (20231102_BOS_NYK)",
         Category.COMPLETENESS, "checks_failed: games_complete"),
        ("compute_error", "KeyError: 'player_id'", Category.CODE_ERRORS, "compute_error"),
    ],
)
def test_failed_partition_ok_is_classified_by_its_cause_kind(cause_kind, cause, category, key):
    assert classify(check_name=PARTITION_OK, text=cause, cause_kind=cause_kind) is category
    assert cause_key(category, check_name=PARTITION_OK, text=cause, cause_kind=cause_kind) == key


def test_a_dropped_game_is_a_source_data_problem_not_a_code_error():
    # the raw step's failure for a game the source dropped (issue 17: filed under code errors)
    parse = (
        "dagster._core.definitions.events.Failure: nba_raw/nbac_game_summary partition 2023-11-01: "
        "malformed landed object nba-com/game-summary/2023-11-01/0022300061.json: field "
        "resultSets.GameSummary: 0 rows, expected 1. Nothing was written for the run's range.\n"
    )
    assert classify(error_types=["Failure"], text=parse) is Category.SOURCE_DATA
    assert cause_key(Category.SOURCE_DATA, text=parse) == "malformed landed object"
    counted = "Failure: nba_raw/x: check games_complete: 1 of 4 games missing (20231102_BOS_NYK)"
    assert classify(error_types=["Failure"], text=counted) is Category.COMPLETENESS
    # the lake's landing check names the game the endpoint left out
    assert classify(check_name="files_landed", text="3 of 4 games landed") is Category.SOURCE_DATA


def test_truncated_responses_are_grouped_as_truncated():
    error = NbaApiError("boxscoretraditionalv3", "partition 2023-11-01, game 0022300061",
                        "truncated response: received 6,000 of 12,000 bytes after 5 attempts", 200)
    text = _exception_text(error)
    assert classify(error_types=["NbaApiError"], text=text) is Category.SOURCE_HTTP
    assert cause_key(Category.SOURCE_HTTP, text=text) == "boxscoretraditionalv3 truncated response"


def test_nba_api_errors_are_source_http_errors_with_endpoint_and_status():
    error = NbaApiError("scoreboardv2", "2023-11-03", "HTTP 503 after 5 attempts", 503)
    text = _exception_text(error)
    category = classify(error_types=["DagsterExecutionStepExecutionError", "NbaApiError"], text=text)
    assert category is Category.SOURCE_HTTP
    assert cause_key(category, text=text) == "scoreboardv2 HTTP 503"
    assert first_line(text) == "NbaApiError: scoreboardv2 [2023-11-03]: HTTP 503 after 5 attempts"

    timeout = _exception_text(NbaApiError("playbyplay", "0022300061", "timeout (ReadTimeout) after 5 attempts"))
    assert cause_key(Category.SOURCE_HTTP, text=timeout) == "playbyplay timeout (ReadTimeout)"


def test_httpx_errors_are_source_errors_and_everything_else_is_code():
    connect = httpx.ConnectError("connection refused")
    assert classify(error_types=["ConnectError"], text=_exception_text(connect)) is Category.SOURCE_HTTP
    key_error = KeyError("player_id")
    text = _exception_text(key_error)
    assert classify(error_types=["KeyError"], text=text) is Category.CODE_ERRORS
    assert first_line(text) == "KeyError: 'player_id'"
    assert cause_key(Category.CODE_ERRORS, text=text) == "KeyError"


def test_first_line_skips_blank_lines_and_keeps_plain_messages():
    assert first_line("\n\n  2 of 3 games missing on 2023-11-04\nmore") == "2 of 3 games missing on 2023-11-04"
    assert first_line("") == ""


def test_retry_command_phase_and_season_helpers():
    assert retry_command("2023-11-01", "2023-11-04", ["nba_raw/b", "nba_lake/a"]) == (
        "nba-backfill backfill --from 2023-11-01 --to 2023-11-04 --assets nba_lake/a nba_raw/b"
        " --only-missing-or-failed"
    )
    assert retry_command("2024-01-02", "2024-01-02", ["nba_predictions/player_prop_predictions"]) == (
        "nba-backfill backfill --from 2024-01-02 --to 2024-01-02 --phases 1-5"
        " --assets nba_predictions/player_prop_predictions --only-missing-or-failed"
    )
    assert phase_of("nba_precompute/player_daily_cache") == "Phase 4 (nba_precompute)"
    assert phase_of("elsewhere/table") == "other (elsewhere)"
    assert season_of("2024-01-15") == "2023-24"
    assert season_of("2023-08-01") is None  # off-season
    assert season_of(None) is None


def _digest() -> Digest:
    return Digest(
        key="backfill_abc",
        backfill_id="abc",
        status="COMPLETED_FAILED",
        scope="backfill",
        first_partition="2023-11-01",
        last_partition="2023-11-04",
        wall_seconds=3725.4,
        groups=(
            FailureGroup("source HTTP errors", 1, 0, ("nba_lake/x [2023-11-01]",), (("scoreboardv2 HTTP 503", 1),)),
        ),
        phases=(PhaseTotals("Phase 1 (nba_lake)", 4, 3, 1, 0, 0),),
        retry_command="nba-backfill backfill --from 2023-11-01 --to 2023-11-01 --assets nba_lake/x --only-missing-or-failed",
        url="http://127.0.0.1:3000/runs/b/abc",
    )


def test_messages_round_trip_through_json_dicts_and_render():
    digest = _digest()
    assert message_from_dict(digest.to_dict()) == digest
    markdown = digest.to_markdown()
    assert "| source HTTP errors | 1 | 0 | nba_lake/x [2023-11-01] | scoreboardv2 HTTP 503 ×1 |" in markdown
    assert "| Phase 1 (nba_lake) | 4 | 3 | 1 | 0 | 0 |" in markdown
    assert "**Wall time:** 1h02m05s" in markdown
    assert digest.title == "Backfill abc: COMPLETED_FAILED, 1 failure(s) in 1 group(s)"
    alert = Alert(
        kind="check_failure", key="k", title="Blocking check failed", asset="nba_raw/x",
        partition="2023-11-02", first_line="1 of 3 games missing", url="http://ui/runs/r1",
        check="games_complete", details=("a",),
    )
    assert message_from_dict(alert.to_dict()) == alert
    assert "<http://ui/runs/r1|Open in Dagster>" in alert.to_slack_text()
    with pytest.raises(ValueError, match="not an alert or digest"):
        message_from_dict({"type": "other"})
