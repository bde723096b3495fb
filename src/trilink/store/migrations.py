"""The schema of the trilink database, as an ordered list of migration steps.

The schema version lives in ``PRAGMA user_version`` (0 for a new file), and the file is
marked as trilink's with ``PRAGMA application_id``. Opening a database applies every
step above its version, each step in its own transaction together with the version
bump, so a crash mid-upgrade leaves the file at the last completed version. Steps are
never edited once released: a change to the schema is a new step at the end.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from trilink.store.errors import StoreError

#: ``PRAGMA application_id`` of a trilink database: "TLNK" in ASCII.
APPLICATION_ID: Final = 0x544C4E4B


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: the SQL that takes the database from ``version - 1`` to ``version``."""

    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "registry, last state and history",
        (
            f"PRAGMA application_id = {APPLICATION_ID}",
            """CREATE TABLE homes (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                latitude REAL,
                longitude REAL,
                timezone TEXT NOT NULL
            )""",
            """CREATE TABLE rooms (
                id TEXT PRIMARY KEY,
                home_id TEXT NOT NULL,
                name TEXT NOT NULL,
                aliases TEXT NOT NULL
            )""",
            """CREATE TABLE people (
                id TEXT PRIMARY KEY,
                home_id TEXT NOT NULL,
                name TEXT NOT NULL,
                phone_did TEXT,
                car_did TEXT,
                role TEXT NOT NULL
            )""",
            """CREATE TABLE devices (
                did TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                model TEXT NOT NULL,
                transport TEXT NOT NULL,
                home_id TEXT,
                room_id TEXT,
                owner_id TEXT,
                aliases TEXT NOT NULL,
                extra TEXT NOT NULL,
                spec TEXT NOT NULL
            )""",
            # the last value of each property: one row per (did, siid, piid)
            """CREATE TABLE state (
                did TEXT NOT NULL,
                siid INTEGER NOT NULL,
                piid INTEGER NOT NULL,
                value TEXT NOT NULL,
                ts REAL NOT NULL,
                PRIMARY KEY (did, siid, piid)
            ) WITHOUT ROWID""",
            # every change; the rowid keeps the order of changes with equal timestamps
            """CREATE TABLE history (
                did TEXT NOT NULL,
                siid INTEGER NOT NULL,
                piid INTEGER NOT NULL,
                ts REAL NOT NULL,
                value TEXT NOT NULL
            )""",
            "CREATE INDEX history_series ON history (did, siid, piid, ts)",
        ),
    ),
    Migration(
        2,
        "index history by time, so retention pruning does not scan the table",
        ("CREATE INDEX history_ts ON history (ts)",),
    ),
    Migration(
        3,
        "API tokens (only their SHA-256 digest is stored)",
        (
            """CREATE TABLE tokens (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('owner', 'member', 'guest')),
                hash TEXT NOT NULL UNIQUE,
                created REAL NOT NULL,
                last_used REAL,
                revoked INTEGER NOT NULL DEFAULT 0
            )""",
        ),
    ),
    Migration(
        4,
        "automations: definitions, pending timers and runs' traces",
        (
            # automations, scenes and zones as their JSON documents; (kind, id) is the identity
            """CREATE TABLE automation_documents (
                kind TEXT NOT NULL,
                id TEXT NOT NULL,
                source TEXT NOT NULL,
                data TEXT NOT NULL,
                updated REAL NOT NULL,
                PRIMARY KEY (kind, id)
            ) WITHOUT ROWID""",
            # timers and paused runs the engine must resume after a restart, by its own key
            """CREATE TABLE automation_pending (
                key TEXT PRIMARY KEY,
                data TEXT NOT NULL,
                updated REAL NOT NULL
            ) WITHOUT ROWID""",
            # seq numbers the traces of one automation in the order they were added
            """CREATE TABLE automation_traces (
                automation_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                ts REAL NOT NULL,
                data TEXT NOT NULL,
                PRIMARY KEY (automation_id, seq)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        5,
        "floors, and the floor each room is on",
        (
            """CREATE TABLE floors (
                id TEXT PRIMARY KEY,
                home_id TEXT NOT NULL,
                name TEXT NOT NULL,
                aliases TEXT NOT NULL,
                level INTEGER
            )""",
            "ALTER TABLE rooms ADD COLUMN floor_id TEXT",
        ),
    ),
    Migration(
        6,
        "browser sessions (only the SHA-256 digest of a session id is stored)",
        (
            """CREATE TABLE sessions (
                hash TEXT PRIMARY KEY,
                token_id INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
                created REAL NOT NULL,
                expires REAL NOT NULL
            ) WITHOUT ROWID""",
            "CREATE INDEX sessions_token ON sessions (token_id, created)",
            "CREATE INDEX sessions_expires ON sessions (expires)",
        ),
    ),
    Migration(
        7,
        "downsampled statistics (5-minute and hourly buckets) and the diagnostics' findings",
        (
            # one row per (property, bucket) of numeric values: bucket is the start of the
            # bucket in epoch seconds (a multiple of 300); the mean is vsum / n
            """CREATE TABLE stats_5m (
                did TEXT NOT NULL,
                siid INTEGER NOT NULL,
                piid INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                vmin REAL NOT NULL,
                vmax REAL NOT NULL,
                vsum REAL NOT NULL,
                n INTEGER NOT NULL,
                first_ts REAL NOT NULL,
                last_ts REAL NOT NULL,
                PRIMARY KEY (did, siid, piid, bucket)
            ) WITHOUT ROWID""",
            "CREATE INDEX stats_5m_bucket ON stats_5m (bucket)",
            # the same for hours (bucket is a multiple of 3600)
            """CREATE TABLE stats_1h (
                did TEXT NOT NULL,
                siid INTEGER NOT NULL,
                piid INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                vmin REAL NOT NULL,
                vmax REAL NOT NULL,
                vsum REAL NOT NULL,
                n INTEGER NOT NULL,
                first_ts REAL NOT NULL,
                last_ts REAL NOT NULL,
                PRIMARY KEY (did, siid, piid, bucket)
            ) WITHOUT ROWID""",
            "CREATE INDEX stats_1h_bucket ON stats_1h (bucket)",
            # what the diagnostics service found; evidence, advice and details are JSON text
            """CREATE TABLE findings (
                id INTEGER PRIMARY KEY,
                did TEXT NOT NULL,
                fault TEXT NOT NULL,
                status TEXT NOT NULL,
                severity REAL,
                confidence REAL,
                first_seen REAL,
                detected_at REAL NOT NULL,
                updated_at REAL NOT NULL,
                snoozed_until REAL,
                evidence TEXT NOT NULL,
                advice TEXT NOT NULL,
                energy_kwh_per_day REAL,
                details TEXT NOT NULL DEFAULT '{}'
            )""",
            "CREATE INDEX findings_device ON findings (did, fault, status)",
            # each detector's own state per device (JSON text), kept across restarts
            """CREATE TABLE detector_state (
                did TEXT NOT NULL,
                detector TEXT NOT NULL,
                state TEXT NOT NULL,
                updated_at REAL NOT NULL,
                PRIMARY KEY (did, detector)
            ) WITHOUT ROWID""",
        ),
    ),
    Migration(
        8,
        "miIO devices adopted at run time (from zeroconf), kept across restarts",
        (
            # the token is the device's LAN key: this file must be protected like the
            # config's token files (docs/miio.md); spec is the MIoT-Spec-V2 JSON text
            """CREATE TABLE miio_devices (
                did TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                port INTEGER NOT NULL,
                token TEXT NOT NULL,
                spec TEXT NOT NULL,
                name TEXT,
                room TEXT,
                model TEXT,
                added_at REAL NOT NULL
            ) WITHOUT ROWID""",
        ),
    ),
)

#: The schema version this trilink writes.
LATEST: Final = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """The schema version of the database (0 for a new, empty file)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def check_ownership(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that another program (or a newer trilink) wrote.

    A file is ours if it carries trilink's application id, or if it is empty (new).
    """
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = schema_version(conn)
    if app_id == 0 and version == 0:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if tables:
            raise StoreError(
                f"{path}: not a trilink database (it holds other tables: {', '.join(sorted(tables))}); "
                "choose another file"
            )
        return
    if app_id != APPLICATION_ID:
        raise StoreError(
            f"{path}: not a trilink database (application id {app_id:#x}, "
            f"trilink uses {APPLICATION_ID:#x}); choose another file"
        )
    if version > LATEST:
        raise StoreError(
            f"{path}: the database has schema version {version}, newer than this trilink supports "
            f"({LATEST}); it was written by a newer trilink. Upgrade trilink, or point it at another file"
        )


def migrate(conn: sqlite3.Connection, path: Path, target: int = LATEST) -> int:
    """Apply every step above the database's version up to ``target``; returns the version found.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each step runs in an
    ``IMMEDIATE`` transaction that re-reads the version first, so two processes opening
    the same new file do not both apply a step.
    """
    if not 0 <= target <= LATEST:
        raise ValueError(f"target schema version must be within 0..{LATEST}, got {target}")
    check_ownership(conn, path)
    found = schema_version(conn)
    for step in MIGRATIONS:
        if step.version > target:
            break
        try:
            conn.execute("BEGIN IMMEDIATE")
            if schema_version(conn) >= step.version:
                conn.execute("COMMIT")
                continue
            for sql in step.statements:
                conn.execute(sql)
            # PRAGMA takes no parameters; the version is our own integer
            conn.execute(f"PRAGMA user_version = {step.version:d}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(
                f"{path}: schema upgrade to version {step.version} ({step.description}) failed: {exc}"
            ) from exc
    return found
