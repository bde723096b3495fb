"""History and statistics in PostgreSQL (psycopg 3): the :class:`SeriesStore` for larger homes.

The registry, last state, tokens, sessions, automations and the diagnostics' findings
stay in the SQLite file; with ``store.backend: postgres`` only raw history and its
downsampled statistics live here (see docs/store.md).

Two plain synchronous connections, each behind its own lock, as in the SQLite store:
the recorder's writer thread is the only writer, so a pool would add a dependency and
threads without adding throughput; reads (the API, the diagnostics) take the other
connection and never wait behind a write's transaction. A connection that broke is
reopened on its next use; the recorder retries a failed batch.

Every table lives in one schema (``trilink`` unless told otherwise), created with
``IF NOT EXISTS`` under an advisory lock, so opening is idempotent and two processes
starting at once do not race. Raw samples are appended with ``COPY``; buckets are merged
with ``INSERT … ON CONFLICT … DO UPDATE`` (min/max/sum/count) in the same transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final

import orjson
import psycopg
from psycopg import sql

from trilink.kernel import PropertyChanged
from trilink.store.errors import StoreError, UnstorableValue
from trilink.store.sqlite import Removal, check_retentions, encode_value
from trilink.store.stats import (
    PERIODS,
    Sample,
    StatRow,
    aggregate_all,
    backfill_window,
    bucket_rows,
    check_range,
    period_seconds,
    stat_row,
)

log = logging.getLogger(__name__)

#: Key of the advisory lock taken while the schema is created ("TLNK").
_SCHEMA_LOCK: Final = 0x544C4E4B

_SCHEMA: Final[tuple[str, ...]] = (
    "CREATE SCHEMA IF NOT EXISTS {schema}",
    """CREATE TABLE IF NOT EXISTS {schema}.history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        did TEXT NOT NULL,
        siid INTEGER NOT NULL,
        piid INTEGER NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        value TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS history_series ON {schema}.history (did, siid, piid, ts)",
    "CREATE INDEX IF NOT EXISTS history_ts ON {schema}.history (ts)",
    *(
        f"""CREATE TABLE IF NOT EXISTS {{schema}}.stats_{name} (
        did TEXT NOT NULL,
        siid INTEGER NOT NULL,
        piid INTEGER NOT NULL,
        bucket BIGINT NOT NULL,
        vmin DOUBLE PRECISION NOT NULL,
        vmax DOUBLE PRECISION NOT NULL,
        vsum DOUBLE PRECISION NOT NULL,
        n BIGINT NOT NULL,
        first_ts DOUBLE PRECISION NOT NULL,
        last_ts DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (did, siid, piid, bucket)
    )"""
        for name in PERIODS
    ),
    *(
        f"CREATE INDEX IF NOT EXISTS stats_{name}_bucket ON {{schema}}.stats_{name} (bucket)"
        for name in PERIODS
    ),
)

_MERGE: Final = (
    "INSERT INTO {table} AS s (did, siid, piid, bucket, vmin, vmax, vsum, n, first_ts, last_ts) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (did, siid, piid, bucket) DO UPDATE SET "
    "vmin = LEAST(s.vmin, EXCLUDED.vmin), vmax = GREATEST(s.vmax, EXCLUDED.vmax), "
    "vsum = s.vsum + EXCLUDED.vsum, n = s.n + EXCLUDED.n, "
    "first_ts = LEAST(s.first_ts, EXCLUDED.first_ts), last_ts = GREATEST(s.last_ts, EXCLUDED.last_ts)"
)
_REPLACE: Final = (
    "INSERT INTO {table} (did, siid, piid, bucket, vmin, vmax, vsum, n, first_ts, last_ts) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (did, siid, piid, bucket) DO UPDATE SET "
    "vmin = EXCLUDED.vmin, vmax = EXCLUDED.vmax, vsum = EXCLUDED.vsum, n = EXCLUDED.n, "
    "first_ts = EXCLUDED.first_ts, last_ts = EXCLUDED.last_ts"
)


def _q(template: str, schema: str, **tables: str) -> sql.Composed:
    """``template`` with ``{schema}`` and table names filled in as quoted identifiers."""
    ids: dict[str, sql.Composable] = {"schema": sql.Identifier(schema)}
    for key, table in tables.items():
        ids[key] = sql.Identifier(schema, table)
    return sql.SQL(template).format(**ids)


class PostgresSeriesStore:
    """Raw history and statistics in a PostgreSQL schema. ``open()`` it (or use ``with``) before use.

    ``dsn`` is a libpq connection string or URI; a password in it is never logged (error
    messages name the server by host, port and database only).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "trilink",
        history_retention: float = 30 * 86400,
        stats_5m_retention: float = 90 * 86400,
        stats_1h_retention: float = 730 * 86400,
        connect_timeout: float = 5.0,
    ) -> None:
        if not schema:
            raise ValueError("schema must not be empty")
        self.dsn = dsn
        self.schema = schema
        self.history_retention = float(history_retention)
        self.stats_retention = check_retentions(history_retention, stats_5m_retention, stats_1h_retention)
        self.connect_timeout = connect_timeout
        self._writer: psycopg.Connection[Any] | None = None
        self._reader: psycopg.Connection[Any] | None = None
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._open = False
        self._sql_history = _q(
            "INSERT INTO {t} (did, siid, piid, ts, value) VALUES (%s, %s, %s, %s, %s)", schema, t="history"
        )
        self._sql_merge = {name: _q(_MERGE, schema, table=f"stats_{name}") for name in PERIODS}
        self._sql_replace = {name: _q(_REPLACE, schema, table=f"stats_{name}") for name in PERIODS}

    # ------------------------------------------------------------------ lifecycle
    @property
    def where(self) -> str:
        """The server and schema, for messages (never the password)."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return f"PostgreSQL schema {self.schema}"
        host = info.get("host") or "local socket"
        return f"PostgreSQL {host}:{info.get('port') or 5432}/{info.get('dbname') or ''} schema {self.schema}"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.connect_timeout))
            )
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot connect: {exc}") from exc

    def open(self) -> PostgresSeriesStore:
        """Connect and create the schema and tables if they are missing."""
        if self._open:
            return self
        writer = self._connect()
        try:
            with writer.transaction():
                writer.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _SCHEMA:
                    writer.execute(_q(statement, self.schema))
            reader = self._connect()
        except (psycopg.Error, StoreError) as exc:
            writer.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"{self.where}: cannot create the schema: {exc}") from exc
        self._writer, self._reader, self._open = writer, reader, True
        return self

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock, self._read_lock:
            for conn in (self._writer, self._reader):
                if conn is not None:
                    conn.close()
            self._writer = self._reader = None
            self._open = False

    @property
    def is_open(self) -> bool:
        """Whether the store is open."""
        return self._open

    def __enter__(self) -> PostgresSeriesStore:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def drop_schema(self) -> None:
        """Drop the schema with everything in it (for tests and ``trilink`` maintenance)."""
        with self.writing() as conn:
            conn.execute(_q("DROP SCHEMA IF EXISTS {schema} CASCADE", self.schema))

    # --------------------------------------------------------------- transactions
    def _live(self, conn: psycopg.Connection[Any] | None) -> psycopg.Connection[Any]:
        if not self._open:
            raise StoreError(f"{self.where}: the store is not open")
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            conn = self._connect()
        return conn

    @contextmanager
    def writing(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction on the writer connection; committed on success, rolled back on error."""
        with self._write_lock:
            conn = self._writer = self._live(self._writer)
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise StoreError(f"{self.where}: write failed: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        """A read-only transaction on the reader connection."""
        with self._read_lock:
            conn = self._reader = self._live(self._reader)
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise StoreError(f"{self.where}: read failed: {exc}") from exc

    # ------------------------------------------------------------------- writing
    def write_series(self, items: Sequence[object]) -> None:
        """Append the property changes among ``items`` and fold them into the statistics, and forget
        the series of removed devices, in order, in one transaction; other items are ignored."""
        runs: list[list[tuple[Sample, str]] | str] = []
        for index, item in enumerate(items):
            if isinstance(item, Removal):
                if item.entity == "device":
                    runs.append(item.id)
                continue
            if not isinstance(item, PropertyChanged):
                continue
            try:
                text = encode_value(item.value)
            except ValueError as exc:
                raise UnstorableValue(
                    f"{self.where}: cannot store {item.did} siid {item.siid} piid {item.piid}: {exc}",
                    index,
                    item,
                ) from None
            sample = Sample(item.did, item.siid, item.piid, item.ts, item.value)
            if runs and isinstance(runs[-1], list):
                runs[-1].append((sample, text))
            else:
                runs.append([(sample, text)])
        if not runs:
            return
        with self.writing() as conn:
            for run in runs:
                if isinstance(run, str):
                    for table in ("history", *(f"stats_{name}" for name in PERIODS)):
                        conn.execute(_q("DELETE FROM {t} WHERE did = %s", self.schema, t=table), (run,))
                else:
                    self._append(conn, run)

    def append(self, samples: Sequence[Sample]) -> None:
        """Append samples to history and fold them into the statistics, in one transaction."""
        rows: list[tuple[Sample, str]] = []
        for index, sample in enumerate(samples):
            try:
                rows.append((sample, encode_value(sample.value)))
            except ValueError as exc:
                raise UnstorableValue(f"{self.where}: cannot store {sample}: {exc}", index, sample) from None
        if rows:
            with self.writing() as conn:
                self._append(conn, rows)

    def _append(self, conn: psycopg.Connection[Any], rows: list[tuple[Sample, str]]) -> None:
        with (
            conn.cursor() as cur,
            cur.copy(
                _q("COPY {t} (did, siid, piid, ts, value) FROM STDIN", self.schema, t="history")
            ) as copy,
        ):
            for sample, text in rows:
                copy.write_row((sample.did, sample.siid, sample.piid, sample.ts, text))
        samples = [sample for sample, _ in rows]
        with conn.cursor() as cur:
            for name, buckets in aggregate_all(samples).items():
                if buckets:
                    cur.executemany(self._sql_merge[name], bucket_rows(buckets))

    def prune_history(self, now: float) -> int:
        """Delete raw history older than ``now - history_retention``; returns the rows deleted."""
        with self.writing() as conn:
            cur = conn.execute(
                _q("DELETE FROM {t} WHERE ts < %s", self.schema, t="history"), (now - self.history_retention,)
            )
            return cur.rowcount

    def prune_stats(self, now: float) -> dict[str, int]:
        """Delete buckets that ended before ``now`` minus their period's retention.

        Returns the rows deleted per period.
        """
        out: dict[str, int] = {}
        with self.writing() as conn:
            for name, seconds in PERIODS.items():
                cutoff = now - self.stats_retention[name] - seconds
                cur = conn.execute(
                    _q("DELETE FROM {t} WHERE bucket < %s", self.schema, t=f"stats_{name}"), (cutoff,)
                )
                out[name] = cur.rowcount
        return out

    def backfill_stats(self, *, since: float | None = None, until: float | None = None) -> int:
        """Recompute, from raw history, every bucket that holds a raw sample in ``[since, until)``
        (widened to whole hours); returns the samples read. See ``SQLiteStore.backfill_stats``."""
        lo, hi = backfill_window(since, until)
        where, params = "TRUE", []
        if lo is not None:
            where += " AND ts >= %s"
            params.append(lo)
        if hi is not None:
            where += " AND ts < %s"
            params.append(hi)
        with self.writing() as conn:
            rows = conn.execute(
                _q(f"SELECT did, siid, piid, ts, value FROM {{t}} WHERE {where}", self.schema, t="history"),
                params,
            ).fetchall()
            samples = [Sample(did, siid, piid, ts, _loads(text)) for did, siid, piid, ts, text in rows]
            with conn.cursor() as cur:
                for name, buckets in aggregate_all(samples).items():
                    if buckets:
                        cur.executemany(self._sql_replace[name], bucket_rows(buckets))
        return len(samples)

    # ------------------------------------------------------------------- reading
    def history(
        self,
        did: str,
        siid: int,
        piid: int,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 10000,
    ) -> list[tuple[float, Any]]:
        """``(ts, value)`` with ``since <= ts < until``, oldest first; the newest ``limit`` if more match."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        where = "did = %s AND siid = %s AND piid = %s"
        params: list[Any] = [did, siid, piid]
        if since is not None:
            where += " AND ts >= %s"
            params.append(since)
        if until is not None:
            where += " AND ts < %s"
            params.append(until)
        params.append(limit)
        query = _q(
            f"SELECT ts, value FROM (SELECT id, ts, value FROM {{t}} WHERE {where} "
            "ORDER BY ts DESC, id DESC LIMIT %s) AS newest ORDER BY ts, id",
            self.schema,
            t="history",
        )
        with self.reading() as conn:
            rows = conn.execute(query, params).fetchall()
        out: list[tuple[float, Any]] = []
        for ts, text in rows:
            try:
                out.append((ts, orjson.loads(text)))
            except orjson.JSONDecodeError:
                log.warning(
                    "%s: %s %s.%s: history value %r is not JSON; ignored", self.where, did, siid, piid, text
                )
        return out

    def stats(
        self,
        did: str,
        siid: int,
        piid: int,
        *,
        period: str = "5m",
        since: float | None = None,
        until: float | None = None,
        limit: int = 10000,
    ) -> list[StatRow]:
        """Buckets of one property that overlap ``[since, until)``, oldest first; the newest ``limit``."""
        seconds = period_seconds(period)
        check_range(since, until, limit)
        where = "did = %s AND siid = %s AND piid = %s"
        params: list[Any] = [did, siid, piid]
        if since is not None:
            where += " AND bucket > %s"
            params.append(since - seconds)
        if until is not None:
            where += " AND bucket < %s"
            params.append(until)
        params.append(limit)
        query = _q(
            f"SELECT bucket, vmin, vmax, vsum, n FROM (SELECT * FROM {{t}} WHERE {where} "
            "ORDER BY bucket DESC LIMIT %s) AS newest ORDER BY bucket",
            self.schema,
            t=f"stats_{period}",
        )
        with self.reading() as conn:
            rows = conn.execute(query, params).fetchall()
        return [stat_row(*row) for row in rows]


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
