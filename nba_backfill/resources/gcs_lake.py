"""The lake in `prod`: one GCS bucket with exactly the LocalLake key layout.

A lake key (`nba-com/team-boxscore/2023-11-01/0022300100.json`) is the object name, optionally
under `prefix/`. Writes are atomic and idempotent through object generation preconditions:
- a single-request upload is atomic in GCS (readers see the old object or the new one);
- a new object is written with `if_generation_match=0` (create only if absent);
- an existing object is overwritten with `if_generation_match=<its current generation>`, so a
  writer never silently replaces an object another writer changed after we looked; an identical
  object is left alone (no new generation, re-landing a date is a no-op);
- a 412 (Precondition Failed: someone else wrote first) re-reads the generation and tries again, up
  to `max_attempts`, then raises `LakeConflictError` naming the object.
"""

from __future__ import annotations

import base64
import time

import google_crc32c
from dagster import EnvVar
from dagster_gcp import GCSResource
from google.api_core.exceptions import NotFound, PreconditionFailed
from google.cloud import storage
from pydantic import PrivateAttr

from nba_backfill.resources.bigquery import resolved
from nba_backfill.resources.lake import Lake


class LakeConflictError(RuntimeError):
    """Concurrent writers kept changing one object: every conditional write got 412."""


def _crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()


class GcsLake(Lake):
    """Lake objects in `gs://<bucket>/<prefix>/<key>` (same keys as `LocalLake`)."""

    bucket: str
    prefix: str = ""
    gcs: GCSResource
    max_attempts: int = 5

    _client: storage.Client | None = PrivateAttr(default=None)

    def _bucket(self) -> storage.Bucket:
        if self._client is None:
            gcs = self.gcs
            if isinstance(gcs.project, EnvVar):  # used outside a run (the CLI): resolve now
                gcs = GCSResource(project=resolved(gcs.project))
            self._client = gcs.get_client()
        return self._client.bucket(self._bucket_name)

    @property
    def _bucket_name(self) -> str:
        return resolved(self.bucket)

    @property
    def _root(self) -> str:
        return (resolved(self.prefix) or "").strip("/")

    def _name(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad lake key {key!r}")
        return f"{self._root}/{key}" if self._root else key

    def _key(self, name: str) -> str:
        return name[len(self._root) + 1 :] if self._root else name

    def _url(self, key: str) -> str:
        return f"gs://{self._bucket_name}/{self._name(key)}"

    def current_generation(self, key: str) -> tuple[int, str | None]:
        """(generation, crc32c) of the object; (0, None) when it does not exist."""
        blob = self._bucket().get_blob(self._name(key))
        if blob is None:
            return 0, None
        return int(blob.generation), blob.crc32c

    def write_bytes(self, key: str, data: bytes) -> int:
        """Create or replace one object atomically under a generation precondition."""
        checksum = _crc32c(data)
        for attempt in range(1, self.max_attempts + 1):
            generation, existing = self.current_generation(key)
            if generation and existing == checksum:
                return len(data)  # identical object already landed
            blob = self._bucket().blob(self._name(key))
            try:
                blob.upload_from_string(
                    data,
                    content_type="application/json"
                    if key.endswith(".json")
                    else "application/octet-stream",
                    if_generation_match=generation,
                    checksum="crc32c",
                )
                return len(data)
            except PreconditionFailed:
                if attempt < self.max_attempts:
                    time.sleep(0.05 * attempt)
        raise LakeConflictError(
            f"{self._url(key)}: another writer changed the object during each of "
            f"{self.max_attempts} conditional writes (HTTP 412 Precondition Failed); nothing of "
            "ours was written, the object holds the other writer's complete version"
        )

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._bucket().blob(self._name(key)).download_as_bytes()
        except NotFound:
            raise FileNotFoundError(f"lake object not found: {self._url(key)}") from None

    def exists(self, key: str) -> bool:
        return self._bucket().blob(self._name(key)).exists()

    def list_keys(self, prefix: str) -> list[str]:
        name_prefix = self._name(prefix) if prefix else (f"{self._root}/" if self._root else "")
        blobs = self._bucket().client.list_blobs(self._bucket_name, prefix=name_prefix)
        return sorted(self._key(b.name) for b in blobs)

    def delete(self, key: str) -> None:
        try:
            self._bucket().blob(self._name(key)).delete()
        except NotFound:
            pass

    def teardown_after_execution(self, context) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
