"""The lake: raw API responses as JSON objects, one folder per source/kind/date.

Object keys follow the production bucket layout (SPEC §1), e.g.
`nba-com/team-boxscore/2023-11-01/0022300100.json`. The local lake is a folder with exactly the
same layout as the GCS bucket, so a key means the same object in both environments.
"""

from __future__ import annotations

import json
import os
import tempfile
from abc import abstractmethod
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource


class Lake(ConfigurableResource):
    """Interface shared by the local and the GCS lake. Keys use '/' separators."""

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> int:
        """Write one object atomically (readers see the old or the new object, never a part)."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """Read one object; FileNotFoundError names the key when it is absent."""

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Keys under `prefix` (a folder-like prefix ending in '/'), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object (absent is fine)."""

    def write_json(self, key: str, obj: Any) -> int:
        return self.write_bytes(key, json.dumps(obj, separators=(",", ":")).encode())

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_bytes(key))

    def exists(self, key: str) -> bool:
        try:
            self.read_bytes(key)
        except FileNotFoundError:
            return False
        return True

    def replace_prefix(self, prefix: str, objects: dict[str, Any]) -> int:
        """Land `objects` (key -> JSON value) under `prefix`, then delete older objects there.

        Idempotent: re-landing a date leaves exactly the new objects. Every object is written
        (atomically) before anything is deleted, so a failure midway never loses the old data.
        Returns the bytes written.
        """
        if not prefix.endswith("/"):
            raise ValueError(f"prefix must end with '/': {prefix!r}")
        outside = [k for k in objects if not k.startswith(prefix)]
        if outside:
            raise ValueError(f"keys outside {prefix}: {outside[:3]}")
        written = sum(self.write_json(key, value) for key, value in objects.items())
        for stale in set(self.list_keys(prefix)) - set(objects):
            self.delete(stale)
        return written


class LocalLake(Lake):
    """A folder with the bucket's object layout (`$NBA_BACKFILL_HOME/lake` by default)."""

    root: str

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad lake key {key!r}")
        return Path(self.root) / key

    def write_bytes(self, key: str, data: bytes) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(data)

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"lake object not found: {key}")
        return path.read_bytes()

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/")) if prefix else Path(self.root)
        if not base.is_dir():
            return []
        root = Path(self.root)
        return sorted(
            p.relative_to(root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
