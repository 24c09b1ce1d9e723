"""A small GraphQL client for a running Dagster webserver (the one the UI talks to)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:3000/graphql"


class OpsError(RuntimeError):
    """An operator-facing failure (unreachable webserver, GraphQL error, failed launch)."""


def normalize_url(url: str) -> str:
    """Accept the webserver root or its /graphql endpoint."""
    url = url.rstrip("/")
    return url if url.endswith("/graphql") else f"{url}/graphql"


class DagsterGraphQL:
    """POSTs queries to `url`; every failure becomes an OpsError that names the URL and cause."""

    def __init__(self, url: str = DEFAULT_URL, timeout: float = 120.0):
        self.url = normalize_url(url)
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DagsterGraphQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._client.post(
                self.url, json={"query": query, "variables": dict(variables or {})}
            )
        except httpx.HTTPError as exc:
            raise OpsError(
                f"cannot reach the Dagster webserver at {self.url} ({type(exc).__name__}: {exc}); "
                "start it with `bash scripts/up.sh` or pass --url"
            ) from None
        if response.status_code != 200:
            raise OpsError(f"{self.url} answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError:
            raise OpsError(f"{self.url} did not answer with JSON: {response.text[:300]}") from None
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
            raise OpsError(f"GraphQL error from {self.url}: {messages}")
        return body["data"]
