"""Benchmark 3: scaling — 1 season vs 4 seasons, and one new date through every phase.

    python -m benchmarks.scaling --small 2024-25 --large 2021-22..2024-25 --repeat 3
    python -m benchmarks.scaling --only new-date --repeat 3                 # the 30 s target
    python -m benchmarks.scaling --only new-date --date 2024-11-20          # a deeper date

Seasons: each range is one full backfill (Phases 1–4, all checks) through the daemon on a fresh
instance (`benchmarks.daemon`); ratio = wall(large) / wall(small), target ≤ 4.4 for 4 seasons.
New date: on one instance, the history the date's lookback windows read (its season's opener up
to the day before, Phases 1–4; failed partitions re-launched once with
`--only-missing-or-failed`) is backfilled first, untimed. Then the new date goes through Phases
1–5 (scrapers … predictions) twice, each timed from launch to final status:
- `job`: one run of every asset for the date, as the UI's asset graph > select all > Materialize
  for one partition launches it (Dagster's implicit asset job with an asset selection, in-process
  executor); the reported figure;
- `backfill`: the same date again as an asset backfill (`nba-backfill backfill --from D --to D`);
  the backfill daemon evaluates every 30 s and launches each layer only after its parents'
  partitions are materialized, so this path costs whole daemon ticks per layer (the
  declarative automation's daily cascade also goes this way: it emits backfills).
Target ≤ 30 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.common import machine, markdown_table, median, parse_seasons, season_ranges, verdict, write_results
from benchmarks.daemon import NBA_BACKFILL, backfill_measured, measure_backfill, running_dagster


def seasons_part(base: Path, location: str, small: str, large: str, repeat: int) -> dict:
    out = {}
    for label, text in (("small", small), ("large", large)):
        labels = parse_seasons(text)
        ranges = season_ranges(labels)
        runs = []
        for i in range(repeat):
            m = measure_backfill(base / f"{label}_{i + 1}", location=location, first=ranges[0][0],
                                 last=ranges[-1][1], count_rows=False)
            runs.append(m.as_dict())
            shutil.rmtree(base / f"{label}_{i + 1}", ignore_errors=True)
        out[label] = {"seasons": labels, "runs": runs,
                      "wall_seconds": median(r["wall_seconds"] for r in runs)}
    s, l = out["small"]["wall_seconds"], out["large"]["wall_seconds"]
    out["ratio"] = round(l / s, 3) if s and l else None
    out["seasons_ratio"] = len(out["large"]["seasons"]) / len(out["small"]["seasons"])
    return out


def new_date_part(base: Path, location: str, date: str | None, repeat: int) -> dict:
    from nba_backfill.partitions import season_keys
    from nba_backfill.seasons import parse_date, season_by_label, season_for_date

    if date is None:
        date = season_keys(season_by_label("2024-25"))[1]
    season = season_for_date(parse_date(date))
    keys = season_keys(season)
    history = (keys[0], keys[keys.index(date) - 1])
    runs = []
    for i in range(repeat):
        root = base / f"new_date_{i + 1}"
        with running_dagster(root, location=location) as dev:
            first = backfill_measured(dev, location=location, storage="sqlite", first=history[0],
                                      last=history[1], phases="1-4")
            retried = None
            if first.status != "COMPLETED_SUCCESS":
                done = subprocess.run([NBA_BACKFILL, "--url", dev.url, "backfill", "--from", history[0],
                                       "--to", history[1], "--phases", "1-4", "--only-missing-or-failed"],
                                      env=dev.env, capture_output=True, text=True, timeout=600)
                retried = done.stderr.strip()[-500:]
                if done.returncode == 0 and done.stdout.strip():
                    bid = done.stdout.strip().splitlines()[-1]
                    _wait(dev, bid)
            job = job_run_measured(dev, date)
            m = backfill_measured(dev, location=location, storage="sqlite", first=date, last=date,
                                  phases="1-5")
            result = m.as_dict()
            result.update(history=history, history_status=first.status,
                          history_wall_seconds=first.wall_seconds, history_retry=retried,
                          job=job)
            runs.append(result)
        shutil.rmtree(root, ignore_errors=True)
    return {"date": date, "runs": runs,
            "wall_seconds": median(r["job"]["wall_seconds"] for r in runs),
            "backfill_wall_seconds": median(r["wall_seconds"] for r in runs)}


REPOSITORY = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }"""
ASSET_KEYS = "{ assetNodes { assetKey { path } } }"
ASSET_JOB = "__ASSET_JOB"
"""Dagster's implicit job behind the UI's Materialize of selected assets."""
LAUNCH_RUN = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }
"""
RUN_STATUS = """
query($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime
  stepStats { stepKey } } } }
"""


def job_run_measured(dev, date: str, timeout: float = 900) -> dict:
    """One run of every asset for partition `date` (the implicit asset job with every asset
    selected), launched over GraphQL; seconds to final status."""
    import time

    (repo,) = dev.graphql(REPOSITORY)["repositoriesOrError"]["nodes"]
    assets = [{"path": n["assetKey"]["path"]} for n in dev.graphql(ASSET_KEYS)["assetNodes"]]
    params = {"selector": {"repositoryLocationName": repo["location"]["name"],
                           "repositoryName": repo["name"], "jobName": ASSET_JOB,
                           "assetSelection": assets},
              "executionMetadata": {"tags": [{"key": "dagster/partition", "value": date}]}}
    t0 = time.perf_counter()
    launched = dev.graphql(LAUNCH_RUN, {"params": params})["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launching every asset for {date} failed: {launched}")
    run_id = launched["run"]["runId"]
    while True:
        run = dev.graphql(RUN_STATUS, {"id": run_id})["runOrError"]
        if run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} or time.perf_counter() - t0 > timeout:
            break
        time.sleep(0.25)
    wall = round(time.perf_counter() - t0, 3)
    started, ended = run.get("startTime"), run.get("endTime")
    return {"run_id": run_id, "status": run["status"], "wall_seconds": wall,
            "run_seconds": round(ended - started, 3) if started and ended else None,
            "queued_and_start_seconds": round(wall - (ended - started), 3) if started and ended else None,
            "steps": len(run.get("stepStats") or [])}


def _wait(dev, backfill_id: str) -> None:
    import time

    from benchmarks.daemon import BACKFILL_STATUS, FINAL

    while True:
        data = dev.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if data.get("status") in FINAL or data.get("__typename") == "PythonError":
            return
        time.sleep(1.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", default="2024-25")
    parser.add_argument("--large", default="2021-22..2024-25")
    parser.add_argument("--date", help="the new date (default: the second day of 2024-25)")
    parser.add_argument("--only", choices=["seasons", "new-date"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--location", choices=["shipped", "in_process"], default="shipped")
    parser.add_argument("--workdir")
    args = parser.parse_args(argv)
    base = Path(args.workdir or tempfile.mkdtemp(prefix="nba_scaling_")).absolute()
    payload = {"benchmark": "scaling", "location": args.location, "repeat": args.repeat, "machine": machine()}
    rows = []
    if args.only in (None, "seasons"):
        part = seasons_part(base, args.location, args.small, args.large, args.repeat)
        payload["seasons"] = part
        target = 4.4 * part["seasons_ratio"] / 4
        rows.append((f"{args.large} / {args.small} (wall ratio)", part["ratio"], f"≤ {target:.1f}",
                     verdict(part["ratio"], target)))
    if args.only in (None, "new-date"):
        part = new_date_part(base, args.location, args.date, args.repeat)
        payload["new_date"] = part
        rows.append((f"new date {part['date']}, Phases 1–5, one job run (wall s)", part["wall_seconds"],
                     "≤ 30", verdict(part["wall_seconds"], 30)))
        rows.append(("same date as an asset backfill (wall s)", part["backfill_wall_seconds"], "—", "—"))
    path = write_results(f"scaling-{args.location}", payload)
    print(markdown_table(["measure", f"median of {args.repeat}", "target", "verdict"], rows))
    print(f"\nresults: {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
