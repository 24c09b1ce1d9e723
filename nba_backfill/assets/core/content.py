"""Content versions: what a partition holds as one value, and what changed since its last write.

A partition's content version is a hash of its rows' `data_hash` values (row content without
processing times, `run.data_hash`), sorted, so it depends on nothing but the rows. The core
publishes it as the partition's Dagster data version (`nba_backfill.data_versions`): an identical
re-run records the same version, and Dagster's own per-partition staleness ("Unsynced") stays
quiet. Before a range is written, the rows it replaces are read back (date, grain key and
`data_hash` only) to say per partition what changed: rows added, removed and changed, with a
sample of grain keys. The staleness sensor (`nba_backfill.staleness`) starts from partitions whose
content changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

EMPTY_VERSION = "empty"
"""The content version of a partition without rows (a day without games)."""
SAMPLE = 3

CONTENT_VERSION = "content_version"
CONTENT_CHANGE = "content_change"
"""Per-partition metadata keys: the version, and "unchanged" / "changed" / "new"."""


def version_of(row_hashes: Iterable[str]) -> str:
    """16 hex chars over the sorted row hashes (order-free), `EMPTY_VERSION` for no rows."""
    values = sorted(str(h) for h in row_hashes)
    if not values:
        return EMPTY_VERSION
    digest = hashlib.sha256("\n".join(values).encode()).hexdigest()
    return digest[:16]


def bytes_version(objects: Mapping[str, bytes]) -> str:
    """The content version of landed lake objects: a hash over (name, body) pairs."""
    if not objects:
        return EMPTY_VERSION
    digest = hashlib.sha256()
    for name in sorted(objects):
        digest.update(name.encode() + b"\0" + hashlib.sha256(objects[name]).digest())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Change:
    """What one partition's write changed against the rows it replaced."""

    version: str
    previous: str | None  # None: the table held no row for this date before
    added: int = 0
    removed: int = 0
    changed: int = 0
    sample: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.previous is None:
            return "new" if self.version != EMPTY_VERSION else "unchanged"
        return "unchanged" if self.previous == self.version else "changed"

    def summary(self) -> str:
        if self.kind == "new":
            return f"new: rows +{self.added}"
        if self.kind != "changed":
            return self.kind
        text = f"rows +{self.added} -{self.removed} ~{self.changed}"
        return text + (f" ({'; '.join(self.sample)})" if self.sample else "")

    def metadata(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {CONTENT_VERSION: self.version, CONTENT_CHANGE: self.kind}
        if self.kind == "new":
            out.update(rows_added=self.added, change=self.summary())
        elif self.kind == "changed":
            out.update(rows_added=self.added, rows_removed=self.removed, rows_changed=self.changed,
                       change=self.summary())
        return out


def change(new_hashes: pd.Series, previous: str | None, *, new_keys: pd.Series | None = None,
           old_hashes: pd.Series | None = None, old_keys: pd.Series | None = None) -> Change:
    """The change of one partition: `new_hashes` are its row hashes now, `previous` the content
    version of its latest earlier materialization (None: never materialized). Row counts need
    the replaced rows (`old_hashes`, with grain-key labels `old_keys`/`new_keys`); they are read
    only when the version differs."""
    version = version_of(new_hashes)
    if previous is None:
        return Change(version, None, added=len(new_hashes))
    if previous == version or old_hashes is None:
        return Change(version, previous)
    a = pd.Series(old_hashes.to_numpy(), index=_unique(old_keys))
    b = pd.Series(new_hashes.to_numpy(), index=_unique(new_keys))
    removed = a.index.difference(b.index)
    added = b.index.difference(a.index)
    common = a.index.intersection(b.index)
    changed = common[(a[common].to_numpy() != b[common].to_numpy())]
    sample = tuple([*(f"~ {k}" for k in changed[:SAMPLE]), *(f"+ {k}" for k in added[:SAMPLE]),
                    *(f"- {k}" for k in removed[:SAMPLE])][:SAMPLE])
    return Change(version, previous, len(added), len(removed), len(changed), sample)


def key_labels(frame: pd.DataFrame, key_columns: list[str]) -> pd.Series:
    """"col=value, ..." per row over the grain key columns (what a change sample names)."""
    if frame.empty or not key_columns:
        return pd.Series([f"row {i}" for i in range(len(frame))], index=frame.index, dtype="string")
    parts = [(c + "=") + frame[c].astype("string").fillna("NULL") for c in key_columns]
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return out


def _unique(labels: pd.Series) -> pd.Index:
    """Labels made unique: a repeated grain key gets an occurrence suffix."""
    values = labels.to_numpy()
    occurrence = pd.Series(values).groupby(values).cumcount().to_numpy()
    return pd.Index([f"{k} #{n + 1}" if n else k for k, n in zip(values, occurrence)])
