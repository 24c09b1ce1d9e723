"""Dagster's SQLite event log, with its database engines kept open.

The stock `SqliteEventLogStorage` builds a new SQLAlchemy engine (and SQLite connection) for every
statement it runs: one check evaluation costs three of them (run shard, index mirror, check
index). A ranged run of one raw table over a season writes ~1,700 such events (244
materializations, ~1,450 per-partition check evaluations), and engine set-up, not the SQL, was
most of their cost: 17–27 ms per check event on this machine, 6–7 ms with the engines kept
(`benchmarks/event_log.py`).

`PooledSqliteEventLogStorage` is the same class, same files, same schema and locking
(`_db_lock` is held while a connection is in use, exactly as upstream); only `_connect` differs:
one engine per shard (database file) is created once per process and reused, at most
`MAX_ENGINES` of them (least recently used ones are disposed). Engines are never shared with a
forked child (they are rebuilt when the process id changes), and `wipe()` disposes run-shard
engines before their files are deleted. Selected in `dagster_local.yaml` (`event_log_storage:`);
PostgreSQL instances (`storage: postgres:`) do not use it.

Two more per-event costs removed, measured with the same benchmark:
- `supports_asset_checks()` (asked on every check evaluation) opened a fresh engine and read the
  index schema each time; a table that exists stays, so a positive `has_table` is remembered.
- Commits: Dagster creates every shard in SQLite's write-ahead-log mode but leaves the default
  `synchronous=FULL`, an fsync of the log on every commit, i.e. on every event. The engines here
  connect with `synchronous=NORMAL`, which in WAL mode syncs at checkpoints only. A killed
  process loses nothing (committed pages are with the OS); a power cut can lose the last
  events of a local instance.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from nba_backfill.daemon_tick import apply_backfill_tick
from nba_backfill.compat import INDEX_SHARD_NAME, SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage, create_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# This module is the instance plugin every process of a local instance loads (daemon included):
# the backfill daemon's tick is shortened here (nba_backfill/daemon_tick.py).
apply_backfill_tick()

MAX_ENGINES = 16
"""Open engines per process: the index shard plus the run shards being written or read."""


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` reusing one engine per shard instead of one per statement."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine (caller holds `_db_lock`)."""
        if self._engines_pid != os.getpid():  # forked: the parent's connections are not ours
            self._engines = OrderedDict()
            self._engines_pid = os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=2,
            # handed between threads only under `_db_lock`, one user at a time
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _commit_without_fsync)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > MAX_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def store_event(self, entry) -> None:  # `store_event_batch` stores through this one by one
        super().store_event(entry)
        self._touch(entry.run_id)

    def _touch(self, run_id: str) -> None:
        """Tell watchers of the run (the webserver's live run view) that it has new events.

        They watch `<run_id>.db` for changes. The stock class closes its connection after every
        statement, and closing the last connection checkpoints the write-ahead log into that
        file; an engine kept open leaves the events in `<run_id>.db-wal` until an automatic
        checkpoint, so without this the run view would stall.
        """
        with contextlib.suppress(FileNotFoundError):
            os.utime(self.path_for_shard(run_id))

    def has_table(self, table_name: str) -> bool:
        """Upstream asks on every check evaluation (fresh engine each time); tables never vanish."""
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def _dispose_engines(self, keep: set[str] | None = None) -> None:
        with self._db_lock:
            for shard in [s for s in self._engines if s not in (keep or set())]:
                self._engines.pop(shard).dispose()

    def wipe(self) -> None:
        self._dispose_engines(keep={INDEX_SHARD_NAME})  # run-shard files are about to be deleted
        self._tables.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _commit_without_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
