"""Jobs, schedules and sensors.

`backfill` is the UI's route to a backfill (Jobs > backfill > Launchpad): its one op plans the
backfill with the CLI's own code (`ops.backfill.plan_request` + the history check of
`ops.history`), records the plan as output metadata (the preview: exactly what is submitted), and
submits one asset backfill with exact per-asset ranges through the instance. It materializes
nothing itself; the backfill daemon runs the backfill with the assets' backfill policies, it
shows on Overview > Backfills and `nba-backfill status` reads it. Why not the asset graph's
Materialize dialog: docs/backfill-route.md.
"""

import dataclasses

from dagster import (
    Config,
    Failure,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    in_process_executor,
    job,
    op,
)
from pydantic import Field

JOB_FLAG = "with_history: true"
OPENING_WEEK = 7
"""In-season days of the default range: the current season's opening week."""


class BackfillConfig(Config):
    """Launchpad config of the `backfill` job (the CLI's `nba-backfill backfill` options)."""

    start: str | None = Field(
        default=None,
        description="first date YYYY-MM-DD (with end). With no start, end or season: the current "
        "season's opening week.",
    )
    end: str | None = Field(default=None, description="last date YYYY-MM-DD (inclusive)")
    season: str | None = Field(default=None, description="a whole season, e.g. 2024-25 (instead of start/end)")
    phases: str = Field(default="1-4", description="phases 1-5, e.g. 1-4, 2 or 1,3")
    assets: list[str] | None = Field(
        default=None, description="only these assets (layer/table or table); default every asset of the phases"
    )
    with_history: bool = Field(
        default=False,
        description="add the earlier dates of the season the range reads that are not done "
        "(without it such a range fails before submitting, naming them)",
    )
    only_missing_or_failed: bool = Field(
        default=False,
        description="leave out partitions materialized with passing blocking checks (the CLI also "
        "adds the lake partitions failed tables name for re-scraping)",
    )
    dry_run: bool = Field(default=False, description="record the plan, submit nothing")


def _range(config: BackfillConfig) -> tuple[str | None, str | None, str | None, str]:
    """(season, start, end, label): the configured range, or the current season's opening week."""
    if config.season or config.start or config.end:
        return config.season, config.start, config.end, config.season or f"{config.start}..{config.end}"
    from nba_backfill.partitions import season_keys
    from nba_backfill.seasons import current_season

    season = current_season()
    keys = season_keys(season)[:OPENING_WEEK]
    if not keys:
        raise Failure(f"no range given and the current season {season.label} has no partitions yet: "
                      "set start and end (or season)")
    return None, keys[0], keys[-1], f"{season.label} opening week"


def _preview(request, history) -> dict:
    """Output metadata: per asset first..last and count (what is submitted), history added."""
    rows = ["| asset | ranges | partitions | history added |", "|---|---|---|---|"]
    for item in request.partitions_by_assets:
        ranges = ", ".join(f"{a}..{b}" for a, b in item.ranges)
        rows.append(f"| {item.asset} | {ranges} | {item.num_keys} | {len(history.get(item.asset, ()))} |")
    return {
        "preview": MetadataValue.md("\n".join(rows)),
        "plan": MetadataValue.json(
            {item.asset: [[a, b] for a, b in item.ranges] for item in request.partitions_by_assets}
        ),
        "history_added": MetadataValue.json({asset: [keys[0], keys[-1], len(keys)] for asset, keys in history.items()}),
        "assets": MetadataValue.int(len(request.partitions_by_assets)),
        "asset_partitions": MetadataValue.int(request.num_asset_partitions),
        "range": MetadataValue.text(f"{request.first_key}..{request.last_key}"),
    }


@op(
    name="plan_and_submit_backfill",
    out=Out(Nothing),
    description="Plans the backfill like `nba-backfill backfill` (exact per-asset ranges, history "
    "check), records the plan as metadata and, unless dry_run, submits it as one asset backfill.",
)
def plan_and_submit_backfill(context: OpExecutionContext, config: BackfillConfig):
    from nba_backfill.ops.backfill import plan_request
    from nba_backfill.ops.history import check_history, instance_done, reads_of
    from nba_backfill.ops.plan import TAG_PREFIX, BackfillInputError, phases_label
    from nba_backfill.ops.submit import submit_backfill
    from nba_backfill.partitions import all_partition_keys

    graph = context.repository_def.asset_graph
    known = [k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_partitioned]
    done = instance_done(context.instance)
    season, start, end, label = _range(config)
    try:
        request = plan_request(
            known, season=season, start=start, end=end, phases=config.phases, assets=config.assets,
            done=done if config.only_missing_or_failed else None,
        )
        if request is None:
            context.log.info("Nothing to backfill: every selected partition is materialized with passing checks.")
            yield Output(None, metadata={"asset_partitions": MetadataValue.int(0)})
            return
        request, history = check_history(
            request, reads_of(graph), all_partition_keys(), done,
            with_history=config.with_history, flag=JOB_FLAG,
        )
    except BackfillInputError as exc:
        raise Failure(description=f"nothing submitted: {exc}") from None
    mode = " (missing or failed only)" if config.only_missing_or_failed else ""
    request = dataclasses.replace(
        request,
        title=f"backfill job {label} phases {phases_label(request.phases)}{mode}",
        description=(
            f"Exact per-asset ranges {request.first_key}..{request.last_key}, "
            f"{len(request.partitions_by_assets)} assets, {request.num_asset_partitions} "
            f"asset-partitions{mode}; submitted by the backfill job (run {context.run_id})."
        ),
        tags={**request.tags, f"{TAG_PREFIX}/launched_by": "backfill job",
              f"{TAG_PREFIX}/job_run_id": context.run_id},
    )
    metadata = _preview(request, history)
    for item in request.partitions_by_assets:
        context.log.info(f"{item.asset}: {', '.join(f'{a}..{b}' for a, b in item.ranges)} ({item.num_keys})")
    if config.dry_run:
        context.log.info(f"dry_run: {request.title}: nothing submitted")
        yield Output(None, metadata={**metadata, "backfill_id": MetadataValue.text("(dry run)")})
        return
    backfill_id = submit_backfill(context.instance, graph, request)
    path = f"/runs/b/{backfill_id}?tab=partitions"
    context.log.info(f"Submitted backfill {backfill_id} ({request.num_asset_partitions} asset-partitions): "
                     f"Overview > Backfills, {path}")
    yield Output(None, metadata={**metadata, "backfill_id": MetadataValue.text(backfill_id),
                                 "backfill": MetadataValue.url(path)})


@job(
    name="backfill",
    executor_def=in_process_executor,
    description="The UI route to a backfill: Launchpad config {start, end | season, phases, "
    "assets, with_history, only_missing_or_failed, dry_run}; submits one asset backfill with exact "
    "per-asset ranges (the CLI's plan and history check). See docs/backfill-route.md.",
)
def backfill():
    plan_and_submit_backfill()


jobs = [backfill]
schedules: list = []
sensors: list = []
