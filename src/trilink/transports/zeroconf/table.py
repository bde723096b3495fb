"""The table of discovered candidates: an in-memory state machine with no I/O.

The service feeds it what the network said (a candidate was resolved, a name was
removed, an announcement was rejected) and asks it which entries have not answered for
too long. Times come in as arguments: ``now`` is the hub's clock (shown to people) and
``mono`` a monotonic clock (used for expiry, so a simulated clock cannot expire entries).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Final, Literal

from trilink.transports.zeroconf.candidates import Candidate, Rejected

#: how many rejected announcements are remembered for the API (the counters keep the rest)
KEEP_SKIPPED: Final = 20
#: service names longer than this are cut when remembered (they come from the network)
_NAME_SHOWN: Final = 120

Change = Literal["added", "updated", "unchanged", "full"]


@dataclass(slots=True)
class Entry:
    """One candidate and when it was seen."""

    candidate: Candidate
    #: hub-clock time of the first and latest announcement or answer
    first_seen: float
    last_seen: float
    #: monotonic time of the latest answer (for expiry)
    confirmed: float

    def to_dict(self) -> dict[str, Any]:
        """The candidate's JSON form with its times."""
        return {**self.candidate.to_dict(), "first_seen": self.first_seen, "last_seen": self.last_seen}


@dataclass(frozen=True, slots=True)
class Skipped:
    """An announcement that was not taken, and why."""

    service: str
    reason: str
    message: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"service": self.service, "reason": self.reason, "message": self.message, "at": self.at}


class CandidateTable:
    """Candidates by id, with counters of what happened to announcements."""

    def __init__(self, max_candidates: int) -> None:
        self.max_candidates = max_candidates
        self._entries: dict[str, Entry] = {}
        #: lower-cased service name → candidate id
        self._ids: dict[str, str] = {}
        self.counters: Counter[str] = Counter()
        self.skipped_by_reason: Counter[str] = Counter()
        self.recent_skips: deque[Skipped] = deque(maxlen=KEEP_SKIPPED)

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        """Every entry, ordered by kind then id."""
        return sorted(self._entries.values(), key=lambda e: (e.candidate.kind, e.candidate.id))

    def get(self, candidate_id: str) -> Entry:
        """The entry with this id; ``KeyError`` if there is none."""
        return self._entries[candidate_id]

    def by_service(self, service: str) -> Entry | None:
        """The entry announced under this service name, if any."""
        candidate_id = self._ids.get(service.lower())
        return self._entries.get(candidate_id) if candidate_id is not None else None

    def upsert(self, candidate: Candidate, now: float, mono: float) -> Change:
        """Take a freshly resolved candidate: add it, update it, or refuse it when full."""
        entry = self._entries.get(candidate.id)
        if entry is None:
            if len(self._entries) >= self.max_candidates:
                full = f"already {self.max_candidates} candidates (zeroconf.max_candidates)"
                self.skip(candidate.service, Rejected("table-full", full), now)
                return "full"
            self._entries[candidate.id] = Entry(candidate, now, now, mono)
            self._ids[candidate.service.lower()] = candidate.id
            self.counters["added"] += 1
            return "added"
        if entry.candidate.service.lower() != candidate.service.lower():
            # the same device under another name: the newer name wins
            self._ids.pop(entry.candidate.service.lower(), None)
            self._ids[candidate.service.lower()] = candidate.id
        entry.last_seen, entry.confirmed = now, mono
        if entry.candidate == candidate:
            return "unchanged"
        entry.candidate = candidate
        self.counters["updated"] += 1
        return "updated"

    def confirm(self, service: str, now: float, mono: float) -> bool:
        """Note that a known service answered; ``False`` if the name is not in the table."""
        entry = self.by_service(service)
        if entry is None:
            return False
        entry.last_seen, entry.confirmed = now, mono
        return True

    def remove(self, service: str, why: Literal["removed", "expired"] = "removed") -> Candidate | None:
        """Drop the candidate announced under ``service`` (a goodbye, or expiry)."""
        candidate_id = self._ids.pop(service.lower(), None)
        if candidate_id is None:
            return None
        entry = self._entries.pop(candidate_id, None)
        if entry is None:
            return None
        self.counters[why] += 1
        return entry.candidate

    def stale(self, mono: float, max_age: float) -> list[Candidate]:
        """Candidates that have not answered for more than ``max_age`` seconds."""
        return [e.candidate for e in self._entries.values() if mono - e.confirmed > max_age]

    def skip(self, service: str, rejected: Rejected, now: float) -> None:
        """Count and remember an announcement that was not taken."""
        shown = service if len(service) <= _NAME_SHOWN else service[:_NAME_SHOWN] + "…"
        self.counters["skipped"] += 1
        self.skipped_by_reason[rejected.reason] += 1
        self.recent_skips.append(Skipped(shown, rejected.reason, str(rejected), now))

    def stats(self) -> dict[str, Any]:
        """Counters for the hub's status: sizes, and skipped announcements by reason."""
        return {
            "candidates": len(self._entries),
            **{k: self.counters[k] for k in ("added", "updated", "removed", "expired", "skipped")},
            "skipped_by_reason": dict(self.skipped_by_reason),
        }
