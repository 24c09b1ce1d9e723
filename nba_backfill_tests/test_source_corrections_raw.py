"""A stat correction through the pipeline's raw layer: every scraper and raw table of one date
landed and parsed for real (offline source, DuckDB in temp homes), once clean and once with a
+2 points correction for one player in the faults file the `nba_api` resource reads.

Expected, table by table (see nba_backfill/source/README.md, "Stat corrections"): in the tables of
real box numbers exactly the corrected player's row differs (points +2, field goals made and
attempted +1); team box tables and the schedule differ only in that game's rows; tables generated
from the play-by-play or from team totals differ only in that game's rows; the play-by-play of
that game has exactly one more made shot, his, and ends on the corrected score. The other game of
the date is identical everywhere.
"""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest
from dagster import DagsterInstance

from nba_backfill.assets.raw.specs import RAW_TABLES
from nba_backfill_tests.test_raw_assets import make_resources, run, table

DAY = "2023-11-09"  # 2 games
GAME, GAME_KEY = "0022300171", "20231109_MIL_IND"  # IND 126 - MIL 124 (IND at home)
OTHER_KEY = "20231109_ATL_ORL"
PLAYER = 1630169  # Tyrese Haliburton, IND: 29 points
REAL_PLAYER_TABLES = {"nbac_player_boxscore": ("points", "field_goals_made", "field_goals_attempted"),
                      "nbap_player_traditional": ("points", "field_goals_made", "field_goals_attempted"),
                      "bdl_player_boxscores": ("points", "field_goals_made", "field_goals_attempted")}
PLAYER_ID_COLUMN = {"bdl_player_boxscores": "bdl_player_id"}
TEAM_BOX_TABLES = ("nbac_team_boxscore", "nbap_team_traditional", "bdl_team_boxscores")
VOLATILE = ["processed_at"]


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """(clean home, corrected home): all scrapers + raw tables of DAY, one run each."""
    out = []
    for rules in ([], [{"kind": "correction", "game_id": GAME, "player_id": PLAYER, "stat": "pts", "delta": 2}]):
        home = tmp_path_factory.mktemp("home")
        (home / "offline_faults.json").write_text(json.dumps(rules))
        with DagsterInstance.ephemeral() as instance:
            assert run(make_resources(home), instance, day=DAY).success
        out.append(home)
    return tuple(out)


def rows(home, name: str) -> pd.DataFrame:
    spec = next(s for s in RAW_TABLES if s.name == name)
    df = table(home, name).drop(columns=VOLATILE)
    return df.sort_values(list(spec.keys)).reset_index(drop=True)


def changed_keys(before: pd.DataFrame, after: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """Keys of rows that differ (or exist on one side only)."""
    merged = before.astype(str).merge(after.astype(str), how="outer", indicator=True)
    return sorted({tuple(r) for r in merged.loc[merged["_merge"] != "both", keys].itertuples(index=False)})


@pytest.mark.parametrize("name", [s.name for s in RAW_TABLES])
def test_only_the_corrected_game_changes(homes, name):
    before, after = rows(homes[0], name), rows(homes[1], name)
    assert len(before) and OTHER_KEY in set(before["game_id"])
    assert set(before["game_id"]) == set(after["game_id"])
    other_b = before[before["game_id"] == OTHER_KEY].reset_index(drop=True)
    other_a = after[after["game_id"] == OTHER_KEY].reset_index(drop=True)
    pd.testing.assert_frame_equal(other_b, other_a)
    assert {k[0] for k in changed_keys(before, after, ["game_id"])} <= {GAME_KEY}


@pytest.mark.parametrize("name", sorted(REAL_PLAYER_TABLES))
def test_exactly_the_corrected_players_row_differs(homes, name):
    before, after = rows(homes[0], name), rows(homes[1], name)
    pid = PLAYER_ID_COLUMN.get(name, "player_id")
    assert changed_keys(before, after, ["game_id", pid]) == [(GAME_KEY, str(PLAYER))]
    b = before[(before["game_id"] == GAME_KEY) & (before[pid] == PLAYER)].iloc[0]
    a = after[(after["game_id"] == GAME_KEY) & (after[pid] == PLAYER)].iloc[0]
    points, fgm, fga = REAL_PLAYER_TABLES[name]
    assert (a[points], a[fgm], a[fga]) == (b[points] + 2, b[fgm] + 1, b[fga] + 1) == (31, a[fgm], a[fga])


@pytest.mark.parametrize("name", TEAM_BOX_TABLES)
def test_team_box_tables_carry_the_corrected_score(homes, name):
    before, after = rows(homes[0], name), rows(homes[1], name)
    pts = {r.team_abbr: r.points for r in after[after["game_id"] == GAME_KEY].itertuples()}
    was = {r.team_abbr: r.points for r in before[before["game_id"] == GAME_KEY].itertuples()}
    assert was == {"IND": 126, "MIL": 124} and pts == {"IND": 128, "MIL": 124}


def test_schedule_and_play_by_play_carry_the_correction(homes):
    sched = rows(homes[1], "nbac_schedule").set_index("game_id")
    assert (sched.loc[GAME_KEY, "home_team_score"], sched.loc[GAME_KEY, "away_team_score"]) == (128, 124)
    events = []
    for home in homes:
        pbp = rows(home, "nbac_play_by_play")
        game = pbp[pbp["game_id"] == GAME_KEY].sort_values("event_sequence")
        events.append(game)
    before, after = events
    last = after.iloc[-1]
    assert (last["score_home"], last["score_away"]) == (128, 124)

    def plays(df):
        return Counter(zip(df["event_type"], df["player_1_id"].astype(str), df["shot_made"].astype(str)))

    assert len(after) == len(before) + 1
    assert plays(after) - plays(before) == Counter({("2pt", str(PLAYER), "True"): 1})
    assert plays(before) - plays(after) == Counter()
