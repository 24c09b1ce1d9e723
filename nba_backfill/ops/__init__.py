"""Backfill operations for operators without the UI (used by `nba_backfill.cli`).

- `plan`: pure request building (arguments + asset graph -> exact per-asset ranges);
- `graphql`, `queries`, `state`: the Dagster webserver's GraphQL API;
- `backfill`, `status`, `stale`, `preflight`: one module per CLI command;
- `failures` (each partition's one cause, each step's innermost error), `status_render` (the
  status text) and `recover` (the lake partitions a failure names, added to a resume).
"""
