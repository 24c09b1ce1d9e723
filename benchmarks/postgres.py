"""A throw-away local PostgreSQL server for instance-storage benchmarks.

Debian's `postgresql` package: `initdb` + `pg_ctl` on 127.0.0.1 and a free port, data directory
under the benchmark's temp root, trust authentication (loopback only), stopped on exit. When the
benchmark runs as root the server runs as the `postgres` system user (PostgreSQL refuses root).
The Dagster URL uses `postgresql+psycopg2://` (plain `postgresql://` made SQLAlchemy pick
psycopg 3, whose `NOTIFY run_events, $1` fails).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

DEBIAN_BIN = Path("/usr/lib/postgresql")


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in sorted(DEBIAN_BIN.glob("*"), reverse=True):
        candidate = version / "bin" / name
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} not found: install Debian's `postgresql` package")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user() -> tuple[list[str], str | None]:
    """Command prefix and owner: run as `postgres` when we are root."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root needs the `postgres` system user (Debian package)") from exc
    return ["runuser", "-u", "postgres", "--"], "postgres"


def storage_yaml(url: str) -> str:
    """The dagster.yaml `storage:` section for a PostgreSQL instance."""
    return f"storage:\n  postgres:\n    postgres_url: \"{url}\"\n"


@contextlib.contextmanager
def local_postgres(root: Path) -> Iterator[str]:
    """Start a PostgreSQL server under `root`; yields its SQLAlchemy URL; stops it on exit."""
    prefix, owner = _as_user()
    root = Path(root).absolute()
    if owner:
        # the server user must reach its directory: a fresh world-traversable one under /tmp
        root = Path(tempfile.mkdtemp(prefix="nba_bench_pg_"))
        os.chmod(root, 0o755)
        shutil.chown(root, owner)
    data, sockets, log = root / "pgdata", root / "pgsock", root / "postgres.log"
    for path in (root, sockets):
        path.mkdir(parents=True, exist_ok=True)
    if owner:
        shutil.chown(sockets, owner)
        log.touch()
        shutil.chown(log, owner)
    port = _free_port()
    _run([*prefix, _bin("initdb"), "-D", str(data), "-U", "dagster", "--auth=trust", "-E", "UTF8",
          "--no-sync"])
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=on "
               "-c max_connections=200")
    _run([*prefix, _bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"])
    try:
        _run([_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "dagster", "-d", "postgres",
              "-c", "create database dagster"])
        yield f"postgresql+psycopg2://dagster@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run([*prefix, _bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, text=True)
        if owner:
            shutil.rmtree(root, ignore_errors=True)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-800:]}")
