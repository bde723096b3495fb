"""The SQLite store: registry, last state and history in one file, in WAL mode.

One connection writes and another reads, each behind its own lock, so the recorder's
writer thread and the API on the event loop never share a connection; WAL lets the
reader see the last committed data while a write is under way. Values are stored as
JSON text (orjson) and come back with their exact type: ``24.0`` stays a float, ``True``
stays a bool.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson

from trilink.kernel import Context, Device, Floor, Home, Kernel, Person, PropertyChanged, Room
from trilink.model import DeviceSpec, InvalidValue, parse_spec, validate_value
from trilink.store.errors import StoreError, UnstorableValue
from trilink.store.migrations import migrate, schema_version
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

#: Rows deleted per transaction when pruning, so a large prune does not hold the write lock long.
PRUNE_CHUNK = 50_000

# types whose JSON form reads back as the same type (bool is listed apart from int on purpose)
_SCALARS = frozenset({str, int, bool, float, type(None)})


@dataclass(frozen=True, slots=True)
class Removal:
    """A registry entity to delete: ``entity`` is ``home``, ``floor``, ``room``, ``person`` or ``device``."""

    entity: Literal["home", "floor", "room", "person", "device"]
    id: str


#: What :meth:`SQLiteStore.write_batch` accepts: changes, entities to save and removals.
BatchItem = PropertyChanged | Home | Floor | Room | Person | Device | Removal


@dataclass(slots=True)
class LoadStats:
    """What :meth:`SQLiteStore.load_into` put into the kernel, and what it had to skip."""

    homes: int = 0
    floors: int = 0
    rooms: int = 0
    people: int = 0
    devices: int = 0
    readings: int = 0
    skipped: int = 0
    skipped_readings: int = 0


_UPSERT = {
    Home: "INSERT INTO homes (id, name, latitude, longitude, timezone) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, latitude = excluded.latitude, "
    "longitude = excluded.longitude, timezone = excluded.timezone",
    Floor: "INSERT INTO floors (id, home_id, name, aliases, level) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET home_id = excluded.home_id, name = excluded.name, "
    "aliases = excluded.aliases, level = excluded.level",
    Room: "INSERT INTO rooms (id, home_id, name, aliases, floor_id) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET home_id = excluded.home_id, name = excluded.name, "
    "aliases = excluded.aliases, floor_id = excluded.floor_id",
    Person: "INSERT INTO people (id, home_id, name, phone_did, car_did, role) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET home_id = excluded.home_id, name = excluded.name, "
    "phone_did = excluded.phone_did, car_did = excluded.car_did, role = excluded.role",
    Device: "INSERT INTO devices (did, name, model, transport, home_id, room_id, owner_id, aliases, extra, "
    "spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (did) DO UPDATE SET name = excluded.name, model = excluded.model, "
    "transport = excluded.transport, home_id = excluded.home_id, room_id = excluded.room_id, "
    "owner_id = excluded.owner_id, aliases = excluded.aliases, extra = excluded.extra, spec = excluded.spec",
}
_DELETE = {
    "home": ("DELETE FROM homes WHERE id = ?",),
    "floor": ("DELETE FROM floors WHERE id = ?",),
    "room": ("DELETE FROM rooms WHERE id = ?",),
    "person": ("DELETE FROM people WHERE id = ?",),
    # forgetting a device forgets its state and history too, as the kernel does
    "device": (
        "DELETE FROM devices WHERE did = ?",
        "DELETE FROM state WHERE did = ?",
    ),
}
#: What forgetting a device deletes from its series (raw history and statistics).
_DELETE_SERIES = (
    "DELETE FROM history WHERE did = ?",
    "DELETE FROM stats_5m WHERE did = ?",
    "DELETE FROM stats_1h WHERE did = ?",
)
_UPSERT_STATE = (
    "INSERT INTO state (did, siid, piid, value, ts) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (did, siid, piid) DO UPDATE SET value = excluded.value, ts = excluded.ts"
)
_INSERT_HISTORY = "INSERT INTO history (did, siid, piid, ts, value) VALUES (?, ?, ?, ?, ?)"


def _merge_stats(table: str) -> str:
    # merge a batch's partial bucket into the stored one: exact for min, max, sum and count
    return (
        f"INSERT INTO {table} (did, siid, piid, bucket, vmin, vmax, vsum, n, first_ts, last_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (did, siid, piid, bucket) DO UPDATE SET "
        "vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax), vsum = vsum + excluded.vsum, "
        "n = n + excluded.n, first_ts = min(first_ts, excluded.first_ts), "
        "last_ts = max(last_ts, excluded.last_ts)"
    )


def _replace_stats(table: str) -> str:
    # a backfill's bucket is whole: it replaces the stored one
    return (
        f"INSERT INTO {table} (did, siid, piid, bucket, vmin, vmax, vsum, n, first_ts, last_ts) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (did, siid, piid, bucket) DO UPDATE SET "
        "vmin = excluded.vmin, vmax = excluded.vmax, vsum = excluded.vsum, n = excluded.n, "
        "first_ts = excluded.first_ts, last_ts = excluded.last_ts"
    )


#: Per period: its table, and the merge upsert of a batch's buckets.
_STATS_TABLES: dict[str, tuple[str, str]] = {
    name: (f"stats_{name}", _merge_stats(f"stats_{name}")) for name in PERIODS
}


def _json(value: Any) -> str:
    return orjson.dumps(value, default=_plain).decode()


def _plain(obj: Any) -> Any:
    # spec documents may carry read-only mappings (e.g. MappingProxyType) in their extras
    if hasattr(obj, "items"):
        return dict(obj.items())
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def encode_value(value: Any) -> str:
    """The JSON text of a property value; raises ``ValueError`` for one that would not read back exactly."""
    t = type(value)
    if t not in _SCALARS:
        raise ValueError(f"values must be bool, int, float, str or None, got {t.__name__}")
    if t is float and not math.isfinite(value):
        raise ValueError(f"{value!r} has no JSON form")
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:  # an int beyond 64 bits
        raise ValueError(str(exc)) from None


def _entity_row(item: Home | Floor | Room | Person | Device) -> tuple[Any, ...]:
    if isinstance(item, Home):
        return (item.id, item.name, item.latitude, item.longitude, item.timezone)
    if isinstance(item, Floor):
        return (item.id, item.home_id, item.name, _json(list(item.aliases)), item.level)
    if isinstance(item, Room):
        return (item.id, item.home_id, item.name, _json(list(item.aliases)), item.floor_id)
    if isinstance(item, Person):
        return (item.id, item.home_id, item.name, item.phone_did, item.car_did, item.role)
    return (
        item.did,
        item.name,
        item.model,
        item.transport,
        item.home_id,
        item.room_id,
        item.owner_id,
        _json(list(item.aliases)),
        _json(item.extra),
        _json(item.spec.to_dict()),
    )


def _describe(item: object) -> str:
    if isinstance(item, PropertyChanged):
        return f"{item.did} siid {item.siid} piid {item.piid}"
    if isinstance(item, Device):
        return f"device {item.did}"
    return f"{type(item).__name__.lower()} {getattr(item, 'id', '?')}"


def encode_batch(
    path: Path, items: Sequence[object], *, local: bool = True, series: bool = True
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Turn a batch into ``(sql, rows)`` steps for ``executemany``, in the batch's order.

    Consecutive property changes become one last-state upsert (the last change of each
    property wins), one history insert and one merge per statistics period. ``local``
    includes the registry and the last state, ``series`` the history and the statistics.
    Raises :class:`UnstorableValue` naming the first item that cannot be stored; nothing
    is written then.
    """
    steps: list[tuple[str, list[tuple[Any, ...]]]] = []
    history: list[tuple[Any, ...]] = []
    samples: list[tuple[str, int, int, float, Any]] = []
    last: dict[tuple[str, int, int], tuple[Any, ...]] = {}

    def end_run() -> None:
        if history:
            if local:
                steps.append((_UPSERT_STATE, list(last.values())))
            if series:
                steps.append((_INSERT_HISTORY, history.copy()))
                for name, buckets in aggregate_all(samples).items():
                    if buckets:
                        steps.append((_STATS_TABLES[name][1], bucket_rows(buckets)))
            history.clear()
            samples.clear()
            last.clear()

    def add(sql: str, row: tuple[Any, ...]) -> None:
        if steps and steps[-1][0] == sql:
            steps[-1][1].append(row)
        else:
            steps.append((sql, [row]))

    for index, item in enumerate(items):
        try:
            if isinstance(item, PropertyChanged):
                text = encode_value(item.value)
                history.append((item.did, item.siid, item.piid, item.ts, text))
                samples.append((item.did, item.siid, item.piid, item.ts, item.value))
                last[(item.did, item.siid, item.piid)] = (item.did, item.siid, item.piid, text, item.ts)
                continue
            if isinstance(item, Removal):
                end_run()
                if local:
                    for sql in _DELETE[item.entity]:
                        add(sql, (item.id,))
                if series and item.entity == "device":
                    for sql in _DELETE_SERIES:
                        add(sql, (item.id,))
            elif isinstance(item, Home | Floor | Room | Person | Device):
                end_run()
                if local:
                    add(_UPSERT[type(item)], _entity_row(item))
            else:
                raise TypeError(f"{type(item).__name__} cannot be stored")
        except (ValueError, TypeError, KeyError) as exc:
            raise UnstorableValue(f"{path}: cannot store {_describe(item)}: {exc}", index, item) from None
    end_run()
    return steps


class SQLiteStore:
    """trilink's persistence in one SQLite file. ``open()`` it (or use ``with``) before use."""

    def __init__(
        self,
        path: str | Path,
        *,
        history_retention: float = 30 * 86400,
        stats_5m_retention: float = 90 * 86400,
        stats_1h_retention: float = 730 * 86400,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.history_retention = float(history_retention)
        self.stats_retention = check_retentions(history_retention, stats_5m_retention, stats_1h_retention)
        self.busy_timeout = busy_timeout
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; check_same_thread=False: our
        # locks, not the thread that opened it, decide who may use a connection
        return sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )

    def open(self) -> SQLiteStore:
        """Open (creating if needed) the database file and bring its schema up to date."""
        if self._writer is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create its directory: {exc}") from exc
        writer: sqlite3.Connection | None = None
        reader: sqlite3.Connection | None = None
        try:
            writer = self._connect()
            mode = writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning(
                    "%s: WAL is not available here (journal mode %s); reads may wait for writes",
                    self.path,
                    mode,
                )
            writer.execute("PRAGMA synchronous = NORMAL")
            writer.execute("PRAGMA foreign_keys = ON")
            found = migrate(writer, self.path)
            if found != schema_version(writer):
                log.info(
                    "%s: schema upgraded from version %d to %d", self.path, found, schema_version(writer)
                )
            reader = self._connect()
            reader.execute("PRAGMA foreign_keys = ON")
            reader.execute("PRAGMA query_only = ON")
        except (sqlite3.Error, StoreError) as exc:
            for conn in (writer, reader):
                if conn is not None:
                    conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
                raise StoreError(f"{self.path}: not a SQLite database ({exc})") from exc
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from exc
        self._writer, self._reader = writer, reader
        return self

    def close(self) -> None:
        """Close the database; the write-ahead log is folded back into the main file."""
        with self._write_lock, self._read_lock:
            writer, reader = self._writer, self._reader
            self._writer = self._reader = None
            if reader is not None:
                reader.close()
            if writer is not None:
                try:
                    writer.execute("PRAGMA optimize")
                    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:  # the data is safe in the WAL; the next open checkpoints
                    log.warning("%s: checkpoint at close failed: %s", self.path, exc)
                writer.close()

    @property
    def is_open(self) -> bool:
        """Whether the store is open."""
        return self._writer is not None

    def __enter__(self) -> SQLiteStore:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self.reading() as conn:
            return schema_version(conn)

    # --------------------------------------------------------------- transactions
    def _require(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise StoreError(f"{self.path}: the store is not open")
        return conn

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction on the writer connection; committed on success, rolled back on error.

        SQLite errors come out as :class:`StoreError` naming the file.
        """
        with self._write_lock:
            conn = self._require(self._writer)
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot start a write: {exc}") from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: write failed: {exc}") from exc
                raise

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on the reader connection: one consistent snapshot of the data."""
        with self._read_lock:
            conn = self._require(self._reader)
            try:
                conn.execute("BEGIN")
                yield conn
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: read failed: {exc}") from exc
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    # ------------------------------------------------------------------- writing
    def write_batch(self, items: Sequence[BatchItem], *, series: bool = True) -> None:
        """Write property changes, saved entities and removals in order, in one transaction.

        With ``series=False`` property changes update only the last state: their history and
        statistics are kept by another :class:`~trilink.store.stats.SeriesStore`.
        Raises :class:`UnstorableValue` (before writing anything) for an item that cannot be
        encoded, and :class:`StoreError` if the write fails; then nothing of the batch is kept.
        """
        self._run_steps(encode_batch(self.path, items, series=series))

    def write_series(self, items: Sequence[object]) -> None:
        """History and statistics of the property changes among ``items``, and device removals'
        series deletions, in one transaction (the ``SeriesStore`` write; registry and last state
        are left alone)."""
        kept = [i for i in items if isinstance(i, PropertyChanged | Removal)]
        self._run_steps(encode_batch(self.path, kept, local=False))

    def append(self, samples: Sequence[Sample]) -> None:
        """Append samples to history and fold them into the statistics, in one transaction."""
        events = [PropertyChanged(s.did, s.siid, s.piid, s.value, None, s.ts, _NO_CONTEXT) for s in samples]
        self._run_steps(encode_batch(self.path, events, local=False))

    def _run_steps(self, steps: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        if not steps:
            return
        with self.writing() as conn:
            for sql, rows in steps:
                conn.executemany(sql, rows)

    def write_changes(self, events: Sequence[PropertyChanged]) -> None:
        """Upsert the last state of each property and append every change to history, atomically."""
        self.write_batch(events)

    def save_home(self, home: Home) -> None:
        """Add or replace a home."""
        self.write_batch([home])

    def save_floor(self, floor: Floor) -> None:
        """Add or replace a floor."""
        self.write_batch([floor])

    def save_room(self, room: Room) -> None:
        """Add or replace a room."""
        self.write_batch([room])

    def save_person(self, person: Person) -> None:
        """Add or replace a person."""
        self.write_batch([person])

    def save_device(self, device: Device) -> None:
        """Add or replace a device, its spec stored as MIoT-Spec-V2 JSON."""
        self.write_batch([device])

    def delete_home(self, home_id: str) -> None:
        """Forget a home (its rooms, people and devices are separate rows and stay)."""
        self.write_batch([Removal("home", home_id)])

    def delete_floor(self, floor_id: str) -> None:
        """Forget a floor (the rooms on it are separate rows and keep their ``floor_id``)."""
        self.write_batch([Removal("floor", floor_id)])

    def delete_room(self, room_id: str) -> None:
        """Forget a room."""
        self.write_batch([Removal("room", room_id)])

    def delete_person(self, person_id: str) -> None:
        """Forget a person."""
        self.write_batch([Removal("person", person_id)])

    def delete_device(self, did: str) -> None:
        """Forget a device with its last state and history."""
        self.write_batch([Removal("device", did)])

    def prune_history(self, now: float) -> int:
        """Delete history older than ``now - history_retention``; returns the number of rows deleted."""
        cutoff = now - self.history_retention
        total = 0
        while True:
            with self.writing() as conn:
                deleted = conn.execute(
                    "DELETE FROM history WHERE rowid IN (SELECT rowid FROM history WHERE ts < ? LIMIT ?)",
                    (cutoff, PRUNE_CHUNK),
                ).rowcount
            total += deleted
            if deleted < PRUNE_CHUNK:
                return total

    def prune_stats(self, now: float) -> dict[str, int]:
        """Delete buckets that ended before ``now`` minus their period's retention.

        Returns the rows deleted per period.
        """
        out: dict[str, int] = {}
        for name, seconds in PERIODS.items():
            table = _STATS_TABLES[name][0]
            # a bucket ends `seconds` after its start; keep it while any of it is within retention
            cutoff = now - self.stats_retention[name] - seconds
            out[name] = 0
            while True:
                with self.writing() as conn:
                    deleted = conn.execute(
                        f"DELETE FROM {table} WHERE (did, siid, piid, bucket) IN "
                        f"(SELECT did, siid, piid, bucket FROM {table} WHERE bucket < ? LIMIT ?)",
                        (cutoff, PRUNE_CHUNK),
                    ).rowcount
                out[name] += deleted
                if deleted < PRUNE_CHUNK:
                    break
        return out

    def backfill_stats(self, *, since: float | None = None, until: float | None = None) -> int:
        """Recompute, from raw history, every bucket that holds a raw sample in ``[since, until)``
        (widened to whole hours, so each bucket is recomputed whole); returns the samples read.

        A recomputed bucket replaces the stored one, so running it twice changes nothing.
        Buckets from before the oldest raw sample are left alone; a bucket that lost part of
        its samples to raw retention would be replaced by what is left, so keep ``since``
        within raw retention.
        """
        lo, hi = backfill_window(since, until)
        where, params = "1 = 1", []
        if lo is not None:
            where += " AND ts >= ?"
            params.append(lo)
        if hi is not None:
            where += " AND ts < ?"
            params.append(hi)
        with self.writing() as conn:
            rows = conn.execute(f"SELECT did, siid, piid, ts, value FROM history WHERE {where}", params)
            samples = [Sample(did, siid, piid, ts, _loads_number(text)) for did, siid, piid, ts, text in rows]
            for name, buckets in aggregate_all(samples).items():
                conn.executemany(_replace_stats(_STATS_TABLES[name][0]), bucket_rows(buckets))
        return len(samples)

    def backup(self, target: str | Path) -> None:
        """Write a consistent copy of the database to ``target`` while the hub keeps running.

        Uses SQLite's online backup in one step, so the copy is one committed snapshot;
        writes wait only for the time of the copy. An existing ``target`` is overwritten.
        """
        target = Path(target)
        with self._read_lock:
            source = self._require(self._reader)
            try:
                dest = sqlite3.connect(target)
            except sqlite3.Error as exc:
                raise StoreError(f"{target}: cannot open the backup file: {exc}") from exc
            try:
                source.backup(dest)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: backup to {target} failed: {exc}") from exc
            finally:
                dest.close()

    # ------------------------------------------------------------------- reading
    def last_state(self, did: str) -> dict[tuple[int, int], tuple[Any, float]]:
        """The last stored value and timestamp of every property of a device."""
        with self.reading() as conn:
            rows = conn.execute("SELECT siid, piid, value, ts FROM state WHERE did = ?", (did,)).fetchall()
        out: dict[tuple[int, int], tuple[Any, float]] = {}
        for siid, piid, value, ts in rows:
            try:
                out[(siid, piid)] = (orjson.loads(value), ts)
            except orjson.JSONDecodeError:
                log.warning(
                    "%s: %s siid %s piid %s: stored value %r is not JSON; ignored",
                    self.path,
                    did,
                    siid,
                    piid,
                    value,
                )
        return out

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
        """``(ts, value)`` of one property with ``since <= ts < until``, oldest first.

        When more than ``limit`` rows match, the newest ``limit`` are returned.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        where = "did = ? AND siid = ? AND piid = ?"
        params: list[Any] = [did, siid, piid]
        if since is not None:
            where += " AND ts >= ?"
            params.append(since)
        if until is not None:
            where += " AND ts < ?"
            params.append(until)
        params.append(limit)
        # newest `limit` through the (did, siid, piid, ts) index, then back to ascending order
        sql = (
            f"SELECT ts, value FROM (SELECT rowid AS n, ts, value FROM history WHERE {where} "
            "ORDER BY ts DESC, n DESC LIMIT ?) ORDER BY ts, n"
        )
        with self.reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        out: list[tuple[float, Any]] = []
        for ts, value in rows:
            try:
                out.append((ts, orjson.loads(value)))
            except orjson.JSONDecodeError:
                log.warning(
                    "%s: %s siid %s piid %s: history value %r is not JSON; ignored",
                    self.path,
                    did,
                    siid,
                    piid,
                    value,
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
        """Buckets of one property that overlap ``[since, until)``, oldest first.

        When more than ``limit`` buckets match, the newest ``limit`` are returned. Raises
        ``ValueError`` for an unknown period, a negative limit or ``since > until``.
        """
        seconds = period_seconds(period)
        check_range(since, until, limit)
        table = _STATS_TABLES[period][0]
        where = "did = ? AND siid = ? AND piid = ?"
        params: list[Any] = [did, siid, piid]
        if since is not None:
            where += " AND bucket > ?"
            params.append(since - seconds)
        if until is not None:
            where += " AND bucket < ?"
            params.append(until)
        params.append(limit)
        sql = (
            f"SELECT * FROM (SELECT bucket, vmin, vmax, vsum, n FROM {table} WHERE {where} "
            "ORDER BY bucket DESC LIMIT ?) ORDER BY bucket"
        )
        with self.reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [stat_row(*row) for row in rows]

    # ------------------------------------------------------------------- restart
    def load_into(self, kernel: Kernel) -> LoadStats:
        """Put the stored registry and last states into ``kernel`` (devices start offline).

        Floors are restored before rooms. A row that no longer makes sense (a spec that
        does not parse, a room whose home is gone, a value its property now refuses) is
        skipped with a warning and counted; a room whose floor is gone is kept on no floor,
        a device whose room is gone is kept, placed in no room.
        """
        with self.reading() as conn:
            homes = conn.execute("SELECT id, name, latitude, longitude, timezone FROM homes ORDER BY id")
            homes_rows = homes.fetchall()
            floor_rows = conn.execute(
                "SELECT id, home_id, name, aliases, level FROM floors ORDER BY id"
            ).fetchall()
            rooms_rows = conn.execute(
                "SELECT id, home_id, name, aliases, floor_id FROM rooms ORDER BY id"
            ).fetchall()
            people_rows = conn.execute(
                "SELECT id, home_id, name, phone_did, car_did, role FROM people ORDER BY id"
            ).fetchall()
            device_rows = conn.execute(
                "SELECT did, name, model, transport, home_id, room_id, owner_id, aliases, extra, spec "
                "FROM devices ORDER BY did"
            ).fetchall()
            state_rows = conn.execute("SELECT did, siid, piid, value, ts FROM state").fetchall()
        stats = LoadStats()
        for row in homes_rows:
            kernel.add_home(Home(row[0], row[1], row[2], row[3], row[4]))
            stats.homes += 1
        for row in floor_rows:
            try:
                level = row[4]
                if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
                    raise ValueError(f"level must be an integer, got {level!r}")
                kernel.add_floor(Floor(row[0], row[1], row[2], _str_tuple(row[3]), level))
                stats.floors += 1
            except (ValueError, KeyError) as exc:
                self._skip(stats, f"floor {row[0]}", exc)
        for row in rooms_rows:
            try:
                floor_id = row[4]
                if floor_id is not None and floor_id not in kernel.registry.floors:
                    log.warning(
                        "%s: room %s: floor %r is gone; the room is placed on no floor",
                        self.path,
                        row[0],
                        floor_id,
                    )
                    floor_id = None
                kernel.add_room(Room(row[0], row[1], row[2], _str_tuple(row[3]), floor_id))
                stats.rooms += 1
            except (ValueError, KeyError) as exc:
                self._skip(stats, f"room {row[0]}", exc)
        for row in people_rows:
            try:
                kernel.add_person(Person(*row))
                stats.people += 1
            except KeyError as exc:
                self._skip(stats, f"person {row[0]}", exc)
        # devices of one model share one spec text: parse it once and share the object
        specs: dict[str, DeviceSpec] = {}
        for row in device_rows:
            try:
                device = _device_from_row(row, specs)
            except (ValueError, TypeError) as exc:
                self._skip(stats, f"device {row[0]}", exc)
                continue
            if device.room_id is not None and device.room_id not in kernel.registry.rooms:
                log.warning(
                    "%s: device %s: room %r is gone; the device is placed in no room",
                    self.path,
                    device.did,
                    device.room_id,
                )
                device = device.with_place(device.home_id, None)
            kernel.add_device(device)
            stats.devices += 1
        self._restore_states(kernel, state_rows, stats)
        return stats

    def _skip(self, stats: LoadStats, what: str, exc: Exception) -> None:
        stats.skipped += 1
        log.warning("%s: %s skipped: %s", self.path, what, exc)

    def _restore_states(self, kernel: Kernel, rows: list[Any], stats: LoadStats) -> None:
        readings: dict[str, dict[tuple[int, int], tuple[Any, float]]] = {}
        for did, siid, piid, text, ts in rows:
            device = kernel.registry.devices.get(did)
            prop = None if device is None else device.spec.properties.get((siid, piid))
            if prop is None:
                stats.skipped_readings += 1
                continue
            try:
                value = validate_value(did, prop, orjson.loads(text))
            except (orjson.JSONDecodeError, InvalidValue) as exc:
                stats.skipped_readings += 1
                log.warning(
                    "%s: last state of %s siid %d piid %d skipped: %s", self.path, did, siid, piid, exc
                )
                continue
            readings.setdefault(did, {})[(siid, piid)] = (value, ts)
        for did, values in readings.items():
            kernel.restore(did, values)
            stats.readings += len(values)
        if stats.skipped_readings:
            log.warning(
                "%s: %d stored readings did not fit a known device property and were skipped",
                self.path,
                stats.skipped_readings,
            )


_NO_CONTEXT = Context.new("system", "store")


def _loads_number(text: str) -> Any:
    """A stored value for aggregation (``None`` for text that is not JSON, which is not aggregated)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def check_retentions(history: float, stats_5m: float, stats_1h: float) -> dict[str, float]:
    """Each period's retention in seconds by name; ``ValueError`` for one that is not positive."""
    for name, value in (
        ("history_retention", history),
        ("stats_5m_retention", stats_5m),
        ("stats_1h_retention", stats_1h),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    return {"5m": float(stats_5m), "1h": float(stats_1h)}


def _str_tuple(text: str) -> tuple[str, ...]:
    items = orjson.loads(text)
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"aliases must be a JSON list of strings, got {text!r}")
    return tuple(items)


def _device_from_row(row: Sequence[Any], specs: dict[str, DeviceSpec]) -> Device:
    did, name, model, transport, home_id, room_id, owner_id, aliases, extra, spec_text = row
    extra_value = orjson.loads(extra)
    if not isinstance(extra_value, dict):
        raise ValueError(f"extra must be a JSON object, got {extra!r}")
    spec = specs.get(spec_text)
    if spec is None:
        spec = specs[spec_text] = parse_spec(orjson.loads(spec_text))
    return Device(
        did,
        name,
        model,
        spec,
        transport,
        home_id=home_id,
        room_id=room_id,
        owner_id=owner_id,
        aliases=_str_tuple(aliases),
        extra=extra_value,
    )
