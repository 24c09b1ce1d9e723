"""The one spec type of every warehouse table asset (Phases 2-5) and what a layer's compute returns.

A layer describes a table as a `TableSpec`: its key, grain, columns, inputs (with their partition
mappings), its own per-partition checks, and two functions:
- `compute(RangeInput) -> Computed`: the rows of the range's open (not blocked) dates, and the
  dates it could not compute with their cause (a malformed lake object, an error for that date);
- `evaluate(Computed, rows_by_key) -> {check: {key: Outcome}}`: the layer's checks over the
  conformed rows of each computed date.
Everything else — the guard, outcomes, hashing, `processed_at`, conforming, check emission, the
write and the Dagster events — belongs to the core (`factory.py`), identical for every layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dagster import AssetDep, AssetKey, TimeWindowPartitionMapping

from nba_backfill.assets.core.outcome import Cause
from nba_backfill.assets.tables import Col, cluster_metadata, column_schema
from nba_backfill.checks.results import PARTITION_OK, CheckDef, Outcome

META_COLUMNS = ("data_hash", "processed_at")
"""Columns the core fills: a 16-hex-char hash of the row's business values, and the compute time."""
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class TableInput:
    """One upstream table read through the IO manager: parameter name, key, partition mapping
    (None = same date) and the window it serves, in words (shown in the asset's metadata)."""

    name: str
    key: AssetKey
    mapping: TimeWindowPartitionMapping | None = None
    window: str = "same date"


@dataclass
class RangeInput:
    """What a layer's compute gets: every key of the run, the open ones (not blocked), the loaded
    input frames by input name, and the step context (None when called without Dagster)."""

    keys: list[str]
    open_keys: list[str]
    frames: Mapping[str, pd.DataFrame]
    blocked: Mapping[str, list[Cause]] = field(default_factory=dict)
    context: Any = None


@dataclass
class Computed:
    """A layer's result for (part of) a range: `rows` of the dates it computed (every declared
    column but the core's META_COLUMNS; any dtypes that conform), `failed` dates with their cause,
    `state` whatever its `evaluate` needs, `metadata` per date (plotted per partition) and for the
    whole step."""

    rows: pd.DataFrame
    failed: dict[str, Cause] = field(default_factory=dict)
    state: Any = None
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    step_metadata: dict[str, Any] = field(default_factory=dict)
    conformed: bool = False
    """`rows` already have exactly the declared columns' dtypes (the core does not convert again)."""


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table asset. Naming rule: key `[layer, name]` = table `layer.name`, group =
    layer; `doc` states the grain ("One row per ...")."""

    key: AssetKey
    doc: str
    columns: tuple[Col, ...]
    """Every column, in table order (`data_hash`/`processed_at`, where declared, filled by the core)."""
    date_column: str
    """The DATE column a partition key maps to (`partition_expr`)."""
    key_columns: tuple[str, ...]
    """One row per (date, key columns)."""
    inputs: tuple[TableInput, ...]
    compute: Callable[[RangeInput], Computed]
    """The layer's computation of the open dates of a range."""
    evaluate: Callable[[Computed, Mapping[str, pd.DataFrame]], dict[str, dict[str, Outcome]]]
    """The layer's checks over the conformed rows of each computed date."""
    checks: tuple[CheckDef, ...]
    code_version: str
    deps: tuple[AssetDep, ...] = ()
    """Non-input dependencies (the lake objects a raw table parses, an accumulator's previous day)."""
    unhashed: frozenset[str] = frozenset()
    """Columns left out of `data_hash` besides META_COLUMNS (quality annotations)."""
    lookback_checks: frozenset[str] = frozenset()
    """Blocking checks whose failure means "blocked: lookback incomplete" rather than failed."""
    landed_checks: frozenset[str] = frozenset()
    """Blocking checks whose failure means landed data is missing (a game absent from the lake)."""
    refetch: Callable[[str], tuple[str, ...]] | None = None
    """The lake partitions (`nba_lake/<name>:<date>`) whose re-scrape can fix a failed date."""
    cluster_by: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset({"pandas"})
    metadata: Mapping[str, Any] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()
    skip: Callable[[str], str | None] | None = None
    """A reason a date never applies to this table (e.g. predictions outside the current season):
    such dates are not guarded or computed, write nothing, pass every check as not applicable."""
    isolate_errors: bool = True
    """On an error the compute could not pin to a date, recompute halves of the range until the
    failing dates are found (off for sequential accumulators, which isolate dates themselves)."""
    self_dependent: bool = False

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        problems = []
        if len(self.key.path) != 2 or not all(_SNAKE.match(p) for p in self.key.path):
            problems.append(f"key {self.key.path} must be [layer, table] in lower snake case")
        for required in (self.date_column, *self.key_columns):
            if required not in names:
                problems.append(f"column {required!r} is not declared")
        check_names = [c.name for c in self.checks]
        if PARTITION_OK in check_names or len(set(check_names)) != len(check_names):
            problems.append(f"check names must be unique and not the core's own {PARTITION_OK}: {check_names}")
        if not (self.lookback_checks | self.landed_checks) <= {c.name for c in self.checks if c.blocking}:
            problems.append("lookback_checks and landed_checks must name blocking checks of the spec")
        params = [i.name for i in self.inputs]
        if len(set(params)) != len(params):
            problems.append(f"duplicate input names {params}")
        if "One row per" not in self.doc:
            problems.append("doc must state the grain ('One row per ...')")
        if problems:
            raise ValueError(f"table {self.key.to_user_string()}: " + "; ".join(problems))
        column_schema(self.columns)  # raises on duplicate columns
        cluster_metadata(self.name, self.clustering, self.columns)  # raises on a bad clustering

    @property
    def name(self) -> str:
        return self.key.path[-1]

    @property
    def layer(self) -> str:
        return self.key.path[0]

    @property
    def clustering(self) -> tuple[str, ...]:
        return self.cluster_by or (*(k for k in self.key_columns if k != self.date_column), self.date_column)

    @property
    def blocking_checks(self) -> set[str]:
        return {c.name for c in self.checks if c.blocking}

    @property
    def hashed_columns(self) -> list[str]:
        """The row's content: every column but META_COLUMNS, `unhashed` and TIMESTAMP columns
        (processing times — `processed_at` and the `source_*_last_updated` lineage stamps — differ
        between two runs over the same data; the hash must not)."""
        skip = set(META_COLUMNS) | set(self.unhashed)
        return [c.name for c in self.columns if c.name not in skip and c.type != "TIMESTAMP"]
