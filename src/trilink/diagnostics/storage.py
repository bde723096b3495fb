"""Reminders and detector state in the hub's SQLite store (tables ``findings`` and ``detector_state``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trilink.diagnostics.findings import Reminder, reminder_from_row
from trilink.store.sqlite import SQLiteStore

_COLUMNS = (
    "id, did, fault, status, severity, confidence, first_seen, detected_at, updated_at, snoozed_until, "
    "evidence, advice, energy_kwh_per_day, details"
)


class SQLiteReminders:
    """A :class:`~trilink.diagnostics.findings.ReminderStore` on the hub's store."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def active(self) -> list[Reminder]:
        """Every reminder that is not resolved."""
        with self.store.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM findings WHERE status != 'resolved' ORDER BY id"
            ).fetchall()
        return [reminder_from_row(r) for r in rows]

    def all(self, limit: int) -> list[Reminder]:
        """The newest reminders, newest first."""
        with self.store.reading() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM findings ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [reminder_from_row(r) for r in rows]

    def insert(self, reminder: Reminder) -> int:
        """Store a new reminder; returns its id."""
        with self.store.writing() as conn:
            cursor = conn.execute(
                "INSERT INTO findings (did, fault, status, severity, confidence, first_seen, detected_at, "
                "updated_at, snoozed_until, evidence, advice, energy_kwh_per_day, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _values(reminder),
            )
            rid = cursor.lastrowid
        assert rid is not None
        return int(rid)

    def update(self, reminder: Reminder) -> None:
        """Store a reminder's new state."""
        with self.store.writing() as conn:
            conn.execute(
                "UPDATE findings SET did = ?, fault = ?, status = ?, severity = ?, confidence = ?, "
                "first_seen = ?, detected_at = ?, updated_at = ?, snoozed_until = ?, evidence = ?, "
                "advice = ?, energy_kwh_per_day = ?, details = ? WHERE id = ?",
                (*_values(reminder), reminder.id),
            )

    def get(self, reminder_id: int) -> Reminder | None:
        """One reminder."""
        with self.store.reading() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM findings WHERE id = ?", (reminder_id,)).fetchone()
        return None if row is None else reminder_from_row(row)


def _values(r: Reminder) -> tuple[Any, ...]:
    return (
        r.did,
        r.fault,
        r.status,
        r.severity,
        r.confidence,
        r.first_seen,
        r.detected_at,
        r.updated_at,
        r.snoozed_until,
        r.evidence,
        r.advice,
        r.energy_kwh_per_day,
        json.dumps(dict(r.details), default=str),
    )


def save_detector_state(
    store: SQLiteStore, did: str, detector: str, state: Mapping[str, Any], now: float
) -> None:
    """Keep what a detector has learned."""
    with store.writing() as conn:
        conn.execute(
            "INSERT INTO detector_state (did, detector, state, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (did, detector) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (did, detector, json.dumps(dict(state)), now),
        )


def load_detector_states(store: SQLiteStore) -> dict[tuple[str, str], dict[str, Any]]:
    """Everything detectors have learned, by (did, detector)."""
    with store.reading() as conn:
        rows = conn.execute("SELECT did, detector, state FROM detector_state").fetchall()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for did, detector, state in rows:
        try:
            out[(str(did), str(detector))] = json.loads(state)
        except ValueError:
            continue  # a damaged row: that detector learns anew
    return out
