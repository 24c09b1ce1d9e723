"""Test support for the analytics tests.

- `run_upstream` / `run_analytics`: real materializations (offline source → lake → raw tables →
  analytics) into a DuckDB home in a temp directory.
- `raw_tables(first, last)`: the raw frames analytics reads, built in memory from the bundled real
  player game logs, for the pure compute tests (no Dagster run: days and seasons far apart cost
  nothing). The numbers are the real ones; the play-by-play there is a minimal deterministic shot
  log consistent with each box line (distances alternate inside/outside 8 ft).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
from dagster import DagsterInstance, materialize

from nba_backfill.assets import analytics, raw, scrapers
from nba_backfill.assets.analytics.factory import table_spec
from nba_backfill.assets.core.run import finish
from nba_backfill.assets.analytics.frames import Inputs
from nba_backfill.assets.common import game_code, player_lookup
from nba_backfill.layers import ANALYTICS
from nba_backfill.resources.environment import local_resources
from nba_backfill.resources.nba_api import NbaApiClient

LOGS = Path(__file__).resolve().parents[1] / "nba_backfill" / "source" / "data" / "player_game_logs.parquet"
PROCESSED_AT = pd.Timestamp("2024-07-01 12:00", tz="UTC")

_LOGS: pd.DataFrame | None = None


def logs() -> pd.DataFrame:
    global _LOGS
    if _LOGS is None:
        _LOGS = pd.read_parquet(LOGS)
    return _LOGS


def logs_between(first: str, last: str) -> pd.DataFrame:
    df = logs()
    return df[(df["GAME_DATE"] >= first) & (df["GAME_DATE"] <= last)].copy()


def _games(df: pd.DataFrame) -> pd.DataFrame:
    """One row per game: ids, date, home/away tricodes and points from the MATCHUP strings."""
    rows = []
    for gid, g in df.groupby("GAME_ID"):
        home = g[g["MATCHUP"].str.contains(" vs. ")]
        away = g[g["MATCHUP"].str.contains(" @ ")]
        h, a = home.iloc[0], away.iloc[0]
        rows.append({
            "nba_game_id": gid, "game_date": h["GAME_DATE"],
            "home": h["TEAM_ABBREVIATION"], "away": a["TEAM_ABBREVIATION"],
            "home_id": int(h["TEAM_ID"]), "away_id": int(a["TEAM_ID"]),
            "home_pts": int(home["PTS"].sum()), "away_pts": int(away["PTS"].sum()),
            "minutes": int(g.groupby("TEAM_ABBREVIATION")["MIN"].sum().max()),
        })
    return pd.DataFrame(rows)


def raw_tables(first: str, last: str) -> dict[str, pd.DataFrame]:
    df = logs_between(first, last).reset_index(drop=True)
    games = _games(df)
    games["game_id"] = [game_code(d, a, h) for d, a, h in zip(games["game_date"], games["away"], games["home"])]
    code = dict(zip(games["nba_game_id"], games["game_id"]))
    schedule = pd.DataFrame({
        "nba_game_id": games["nba_game_id"], "game_id": games["game_id"], "game_date": games["game_date"],
        "season_year": df.groupby("GAME_ID")["SEASON_ID"].first().reindex(games["nba_game_id"]).to_numpy() % 10000,
        "game_status": 3, "game_status_text": "Final",
        "home_team_tricode": games["home"], "away_team_tricode": games["away"],
        "home_team_id": games["home_id"], "away_team_id": games["away_id"],
        "home_team_score": games["home_pts"], "away_team_score": games["away_pts"],
        "winning_team_tricode": [h if hp > ap else a for h, a, hp, ap in
                                 zip(games["home"], games["away"], games["home_pts"], games["away_pts"])],
        "is_regular_season": True, "is_playoffs": False, "is_all_star": False,
        "data_source": "test: real game logs", "processed_at": PROCESSED_AT,
    })
    home_of = dict(zip(games["nba_game_id"], games["home"]))
    away_of = dict(zip(games["nba_game_id"], games["away"]))
    is_home = df["MATCHUP"].str.contains(" vs. ")
    players = pd.DataFrame({
        "game_id": df["GAME_ID"].map(code), "nba_game_id": df["GAME_ID"], "game_date": df["GAME_DATE"],
        "season_year": df["SEASON_ID"] % 10000, "player_id": df["PLAYER_ID"],
        "player_lookup": df["PLAYER_NAME"].map(player_lookup), "player_name": df["PLAYER_NAME"],
        "team_abbr": df["TEAM_ABBREVIATION"], "team_id": df["TEAM_ID"],
        "opponent_team_abbr": [away_of[g] if h else home_of[g] for g, h in zip(df["GAME_ID"], is_home)],
        "home_team_abbr": df["GAME_ID"].map(home_of), "away_team_abbr": df["GAME_ID"].map(away_of),
        "is_home": is_home, "game_status": "Final", "win_loss": df["WL"],
        "minutes_decimal": df["MIN"].astype(float), "points": df["PTS"],
        "field_goals_made": df["FGM"], "field_goals_attempted": df["FGA"],
        "three_pointers_made": df["FG3M"], "three_pointers_attempted": df["FG3A"],
        "free_throws_made": df["FTM"], "free_throws_attempted": df["FTA"],
        "offensive_rebounds": df["OREB"], "defensive_rebounds": df["DREB"], "total_rebounds": df["REB"],
        "assists": df["AST"], "steals": df["STL"], "blocks": df["BLK"], "turnovers": df["TOV"],
        "personal_fouls": df["PF"], "plus_minus": df["PLUS_MINUS"], "data_hash": "test",
        "processed_at": PROCESSED_AT,
    })
    sums = players.groupby(["game_id", "nba_game_id", "game_date", "season_year", "team_id", "team_abbr",
                            "opponent_team_abbr", "is_home"], as_index=False).agg(
        fg_made=("field_goals_made", "sum"), fg_attempted=("field_goals_attempted", "sum"),
        three_pt_made=("three_pointers_made", "sum"), three_pt_attempted=("three_pointers_attempted", "sum"),
        ft_made=("free_throws_made", "sum"), ft_attempted=("free_throws_attempted", "sum"),
        offensive_rebounds=("offensive_rebounds", "sum"), defensive_rebounds=("defensive_rebounds", "sum"),
        total_rebounds=("total_rebounds", "sum"), assists=("assists", "sum"), steals=("steals", "sum"),
        blocks=("blocks", "sum"), turnovers=("turnovers", "sum"), personal_fouls=("personal_fouls", "sum"),
        points=("points", "sum"), plus_minus=("plus_minus", "sum"),
    )
    minutes = dict(zip(games["game_id"], games["minutes"]))
    overtimes = {g: max(0, round((m - 240) / 25)) for g, m in minutes.items()}
    sums["minutes"] = sums["game_id"].map(lambda g: f"{240 + 25 * overtimes[g]}:00")
    sums["processed_at"] = PROCESSED_AT
    return {
        "nbac_schedule": schedule,
        "nbac_player_boxscore": players,
        "nbac_team_boxscore": sums,
        "nbac_play_by_play": shot_log(players),
        "nbac_game_summary": game_summary(sums, first, last),
    }


def game_summary(team_rows: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """Line-score rows with the real season record after each game (counted from the logs of
    the whole season, so a window that starts mid-season still has true records)."""
    df = logs()
    season_ids = set(logs_between(first, last)["SEASON_ID"])
    season = df[df["SEASON_ID"].isin(season_ids)]
    results = season.groupby(["GAME_ID", "GAME_DATE", "TEAM_ABBREVIATION"], as_index=False)["WL"].first()
    results = results.sort_values(["GAME_DATE", "GAME_ID"])
    results["wins"] = (results["WL"] == "W").groupby(results["TEAM_ABBREVIATION"]).cumsum()
    results["losses"] = (results["WL"] == "L").groupby(results["TEAM_ABBREVIATION"]).cumsum()
    record = {(g, t): f"{w}-{l}" for g, t, w, l in
              zip(results["GAME_ID"], results["TEAM_ABBREVIATION"], results["wins"], results["losses"])}
    out = team_rows[["game_id", "nba_game_id", "game_date", "season_year", "team_id", "team_abbr",
                     "opponent_team_abbr", "is_home", "points"]].copy()
    out["team_wins_losses"] = [record[(g, t)] for g, t in zip(out["nba_game_id"], out["team_abbr"])]
    out["game_status_text"] = "Final"
    out["processed_at"] = PROCESSED_AT
    return out


PAINT_FT, MID_FT, THREE_FT = 3.0, 15.0, 25.0


def shot_log(players: pd.DataFrame) -> pd.DataFrame:
    """Field-goal events consistent with every box line: 2PT attempts alternate paint (3 ft) and
    mid-range (15 ft), 3PT at 25 ft; the team's assists go to teammates' made shots in order, the
    opponent's blocks to missed shots in order."""
    rows = []
    records = players.to_dict("records")
    by_team: dict[tuple, list[dict]] = {}
    for r in records:
        by_team.setdefault((r["game_id"], r["team_abbr"]), []).append(r)
    for (gid, team), team_players in sorted(by_team.items()):
        shots = []  # [player, type, made, distance, assister, blocker]
        for r in team_players:
            twos_made, threes_made = r["field_goals_made"] - r["three_pointers_made"], r["three_pointers_made"]
            twos = r["field_goals_attempted"] - r["three_pointers_attempted"]
            threes = r["three_pointers_attempted"]
            shots += [[r, "2PT", i < twos_made, PAINT_FT if i % 2 == 0 else MID_FT, None, None] for i in range(twos)]
            shots += [[r, "3PT", i < threes_made, THREE_FT, None, None] for i in range(threes)]
        made = [s for s in shots if s[2]]
        for passer in (r for r in team_players for _ in range(r["assists"])):
            target = next((s for s in made if s[4] is None and s[0]["player_lookup"] != passer["player_lookup"]), None)
            if target is not None:
                target[4] = passer["player_lookup"]
        opponents = [r for (g, t), rs in by_team.items() if g == gid and t != team for r in rs]
        missed = iter(s for s in shots if not s[2])
        for blocker in (r["player_lookup"] for r in opponents for _ in range(r["blocks"])):
            shot = next(missed, None)
            if shot is not None:
                shot[5] = blocker
        for n, (r, kind, is_made, dist, assister, blocker) in enumerate(shots, start=1):
            rows.append({
                "game_id": gid, "nba_game_id": r["nba_game_id"], "game_date": r["game_date"],
                "event_id": n, "event_sequence": n, "period": 1, "clock": "PT12M00.00S",
                "event_type": kind.lower(), "event_action_type": "jump shot",
                "player_1_id": r["player_id"], "player_1_lookup": r["player_lookup"], "player_1_team_abbr": team,
                "player_2_lookup": assister, "player_3_lookup": blocker, "shot_made": is_made,
                "shot_type": kind, "shot_x": None, "shot_y": None, "shot_distance": dist,
                "shot_area": None, "score_home": 0, "score_away": 0, "processed_at": PROCESSED_AT,
            })
    frame = pd.DataFrame(rows)
    frame["event_id"] = frame.groupby("game_id").cumcount() + 1  # unique per game
    frame["event_sequence"] = frame["event_id"]
    return frame


UPSTREAM = {"nbac_schedule", "nbac_player_boxscore", "nbac_team_boxscore", "nbac_play_by_play", "nbac_game_summary"}


def upstream_assets() -> list:
    """The scraper and raw assets analytics reads (a multi-asset scraper counts if one key fits)."""
    return [a for a in [*scrapers.assets, *raw.assets] if any(k.path[-1] in UPSTREAM for k in a.keys)]


def resources(home: Path) -> dict:
    """Local resources of `home`, with the offline client's request rate raised for tests (the
    same code paths; the production rate limit would only make the test wait)."""
    res = local_resources(home)
    client = res["nba_api"]
    res["nba_api"] = NbaApiClient(mode=client.mode, offline_faults_file=client.offline_faults_file,
                                  requests_per_second=1000.0, backoff_initial_seconds=0.01,
                                  backoff_max_seconds=0.1)
    return res


def _range(first: str, last: str) -> dict:
    if first == last:
        return {"partition_key": first}
    return {"tags": {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}}


def run_upstream(home: Path, first: str, last: str, instance: DagsterInstance):
    """Phase 1–2 for the tables analytics reads, on the offline source, first..last."""
    return materialize(upstream_assets(), resources=resources(home), instance=instance, **_range(first, last))


def run_analytics(home: Path, first: str, last: str, instance: DagsterInstance,
                  select: list[str] | None = None, raise_on_error: bool = True):
    """Materialize the analytics tables (or the `select`ed ones) for first..last in one run."""
    chosen = [a.key for a in analytics.assets if select is None or a.key.path[-1] in select]
    return materialize(
        [*upstream_assets(), *analytics.assets],
        selection=chosen,
        resources=resources(home),
        instance=instance,
        raise_on_error=raise_on_error,
        **_range(first, last),
    )


def check_results(result) -> list:
    """(asset, check, partition, passed, description) of every per-partition check evaluation."""
    out = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            e = event.event_specific_data
            out.append((e.asset_key.path[-1], e.check_name, e.partition, e.passed, e.description))
    return out


def table(home: Path, name: str, schema: str = ANALYTICS) -> pd.DataFrame:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(f"select * from {schema}.{name}").df()
    finally:
        con.close()



def compute_tables(frames: dict[str, pd.DataFrame], days: list[str], context_days: list[str],
                   extra: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """The five tables computed in memory with the assets' own compute functions (no Dagster):
    TOGS, TDGS and PGS for `days`, UPGC and UTGC for `context_days`; each table reads the raw
    `frames` and the tables computed before it, as its declared inputs. `extra` rows are added
    to a computed table before its dependants read it (what a lookback window would load)."""
    available = dict(frames)
    for spec in analytics.TABLES:
        inputs = Inputs({name: available[up.key[1]] for name, up in spec.upstreams.items()})
        wanted = context_days if spec.name.startswith("upcoming_") else days
        rows = spec.compute([dt.date.fromisoformat(d) for d in wanted], inputs) if wanted else pd.DataFrame()
        available[spec.name] = finish(table_spec(spec), rows, PROCESSED_AT) if len(rows) else spec.empty()
        if extra and spec.name in extra:
            available[spec.name] = pd.concat([available[spec.name], extra[spec.name]], ignore_index=True)
    return {spec.name: available[spec.name] for spec in analytics.TABLES}
