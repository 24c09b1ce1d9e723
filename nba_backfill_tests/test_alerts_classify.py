"""The failure classifier and the message formats: pure functions, hand-computed expectations."""

import httpx
import pytest

from nba_backfill.alerts.classify import Category, cause_key, classify, first_line
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


def test_guard_failure_takes_the_category_of_the_upstream_check_it_names():
    lookback = "nba_analytics/player_game_summary [2023-11-02] failed blocking check lookback_complete"
    assert classify(check_name="upstream_checks_passed", text=lookback) is Category.LOOKBACK_GAPS
    both = (
        "nba_raw/nbac_schedule [2023-11-01] failed blocking check games_complete; "
        "nba_raw/nbac_team_boxscore [2023-11-01] failed blocking check points_distribution"
    )
    assert classify(check_name="upstream_checks_passed", text=both) is Category.COMPLETENESS
    assert cause_key(Category.COMPLETENESS, check_name="upstream_checks_passed", text=both) == (
        "blocked by games_complete"
    )
    assert classify(check_name="upstream_checks_passed", text="") is Category.CODE_ERRORS


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
