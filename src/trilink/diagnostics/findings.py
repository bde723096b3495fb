"""Findings as maintenance reminders: one open reminder per fault per unit, never a storm.

A detector's :class:`~trilink.diagnostics.base.Finding` becomes a :class:`Reminder`.
While a reminder for the same device and fault is open, acknowledged or snoozed, later
findings only update its numbers — the person is told once. A person can acknowledge a
reminder (seen), snooze it (asked again after a while, if the fault is still there) or
resolve it (the unit was serviced: the detector learns its baseline anew).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from trilink.diagnostics.base import Finding, fault_words

Status = Literal["open", "acknowledged", "snoozed", "resolved"]
#: statuses of a reminder that is still about a live fault
ACTIVE: tuple[Status, ...] = ("open", "acknowledged", "snoozed")


@dataclass(frozen=True, slots=True)
class Reminder:
    """A finding as the person sees it, with where it stands."""

    id: int
    did: str
    fault: str
    status: Status
    severity: float
    confidence: float
    first_seen: float
    detected_at: float
    updated_at: float
    evidence: str
    advice: str
    energy_kwh_per_day: float | None = None
    snoozed_until: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's), with the fault in words (``title``, ``severity_means``)."""
        words = fault_words(self.fault)
        return {
            "id": self.id,
            "did": self.did,
            "fault": self.fault,
            "title": words.title,
            "severity_means": words.severity,
            "status": self.status,
            "severity": round(self.severity, 4),
            "confidence": round(self.confidence, 3),
            "first_seen": self.first_seen,
            "detected_at": self.detected_at,
            "updated_at": self.updated_at,
            "evidence": self.evidence,
            "advice": self.advice,
            "energy_kwh_per_day": self.energy_kwh_per_day,
            "snoozed_until": self.snoozed_until,
            "details": dict(self.details),
        }


class ReminderStore(Protocol):
    """Where reminders live (the SQLite store's ``findings`` table, or memory in tests)."""

    def active(self) -> list[Reminder]:
        """Every reminder that is not resolved."""
        ...

    def all(self, limit: int) -> list[Reminder]:
        """The newest reminders of any status, newest first."""
        ...

    def insert(self, reminder: Reminder) -> int:
        """Store a new reminder; returns its id."""
        ...

    def update(self, reminder: Reminder) -> None:
        """Store a reminder's new state."""
        ...

    def get(self, reminder_id: int) -> Reminder | None:
        """One reminder."""
        ...


class MemoryReminders:
    """A :class:`ReminderStore` in memory."""

    def __init__(self) -> None:
        self._rows: dict[int, Reminder] = {}

    def active(self) -> list[Reminder]:
        """Every reminder that is not resolved."""
        return [r for r in self._rows.values() if r.status in ACTIVE]

    def all(self, limit: int) -> list[Reminder]:
        """The newest reminders, newest first."""
        return sorted(self._rows.values(), key=lambda r: r.id, reverse=True)[:limit]

    def insert(self, reminder: Reminder) -> int:
        """Store a new reminder; returns its id."""
        rid = len(self._rows) + 1
        self._rows[rid] = replace(reminder, id=rid)
        return rid

    def update(self, reminder: Reminder) -> None:
        """Store a reminder's new state."""
        self._rows[reminder.id] = reminder

    def get(self, reminder_id: int) -> Reminder | None:
        """One reminder."""
        return self._rows.get(reminder_id)


class UnknownReminder(KeyError):
    """No reminder with this id."""


class ReminderClosed(ValueError):
    """The reminder was resolved already: it can no longer be acknowledged, snoozed or resolved."""


class ReminderBook:
    """The reminders' rules: one per fault per unit, acknowledge, snooze, resolve."""

    def __init__(self, store: ReminderStore) -> None:
        self.store = store

    def report(self, finding: Finding, now: float) -> tuple[Reminder, bool]:
        """Record a detector's finding. Returns the reminder and whether the person must be told.

        A new reminder is told; an active one is updated silently — except a snoozed one
        whose time is up, which is opened and told again.
        """
        for current in self.store.active():
            if current.did == finding.did and current.fault == finding.fault:
                wake = current.status == "snoozed" and (current.snoozed_until or 0) <= now
                updated = replace(
                    current,
                    severity=finding.severity,
                    confidence=finding.confidence,
                    evidence=finding.evidence,
                    advice=finding.advice,
                    energy_kwh_per_day=finding.energy_kwh_per_day,
                    details=dict(finding.details),
                    updated_at=now,
                    status="open" if wake else current.status,
                    snoozed_until=None if wake else current.snoozed_until,
                )
                self.store.update(updated)
                return updated, wake
        reminder = Reminder(
            0,
            finding.did,
            finding.fault,
            "open",
            finding.severity,
            finding.confidence,
            finding.since,
            finding.detected_at,
            now,
            finding.evidence,
            finding.advice,
            finding.energy_kwh_per_day,
            None,
            dict(finding.details),
        )
        rid = self.store.insert(reminder)
        return replace(reminder, id=rid), True

    def _get(self, reminder_id: int) -> Reminder:
        reminder = self.store.get(reminder_id)
        if reminder is None:
            raise UnknownReminder(reminder_id)
        return reminder

    def _open(self, reminder_id: int) -> Reminder:
        reminder = self._get(reminder_id)
        if reminder.status == "resolved":
            raise ReminderClosed(f"reminder {reminder_id} was resolved already")
        return reminder

    def acknowledge(self, reminder_id: int, now: float) -> Reminder:
        """The person has seen it."""
        reminder = replace(self._open(reminder_id), status="acknowledged", updated_at=now)
        self.store.update(reminder)
        return reminder

    def snooze(self, reminder_id: int, until: float, now: float) -> Reminder:
        """Ask again at ``until`` if the fault is still there."""
        if until <= now:
            raise ValueError("a snooze must end in the future")
        reminder = replace(self._open(reminder_id), status="snoozed", snoozed_until=until, updated_at=now)
        self.store.update(reminder)
        return reminder

    def resolve(self, reminder_id: int, now: float) -> Reminder:
        """The unit was serviced; the caller resets the detector's baseline."""
        reminder = replace(self._open(reminder_id), status="resolved", updated_at=now, snoozed_until=None)
        self.store.update(reminder)
        return reminder

    def active(self) -> list[Reminder]:
        """Reminders about live faults."""
        return self.store.active()

    def recent(self, limit: int = 100) -> list[Reminder]:
        """The newest reminders of any status."""
        return self.store.all(limit)


def reminder_from_row(row: Iterable[Any]) -> Reminder:
    """A reminder from a ``findings`` table row (id, did, fault, status, severity, confidence,
    first_seen, detected_at, updated_at, snoozed_until, evidence, advice, energy_kwh_per_day, details)."""
    values = tuple(row)
    rid, did, fault, status, severity, confidence, first_seen, detected_at = values[:8]
    updated_at, snoozed, evidence, advice, energy, details = values[8:]
    return Reminder(
        int(rid),
        str(did),
        str(fault),
        status,
        float(severity or 0.0),
        float(confidence or 0.0),
        float(first_seen or detected_at),
        float(detected_at),
        float(updated_at),
        str(evidence),
        str(advice),
        None if energy is None else float(energy),
        None if snoozed is None else float(snoozed),
        json.loads(details or "{}"),
    )
