"""What the automation engine keeps across restarts, behind a narrow store interface.

Three kinds of records: the definitions (automations, scenes, zones) as the plain data a
person wrote, the pending runtime state (a trigger's ``for`` timer, a run waiting in a
``delay`` or ``wait``) with absolute deadlines on the hub's clock, and the traces of
recent runs. The hub stores them in SQLite; :class:`MemoryAutomationStore` keeps them in
memory for tests and for a hub running without a store.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredDocument:
    """One stored definition: ``kind`` is ``automation``, ``scene`` or ``zone``.

    ``source`` is the file name it came from or ``"api"``; ``data`` is the definition as
    plain, JSON-ready data (the parsed YAML mapping).
    """

    kind: str
    id: str
    source: str
    data: dict[str, Any]


class AutomationStore(Protocol):
    """Persistence of definitions, pending timers and traces."""

    def load_documents(self) -> list[StoredDocument]:
        """Every stored definition."""
        ...

    def save_document(self, doc: StoredDocument) -> None:
        """Store a definition, replacing one of the same kind and id."""
        ...

    def delete_document(self, kind: str, id: str) -> None:
        """Forget a definition (no error if it is not there)."""
        ...

    def load_pending(self) -> dict[str, dict[str, Any]]:
        """Every pending runtime record by key."""
        ...

    def save_pending(self, key: str, data: dict[str, Any]) -> None:
        """Store (or replace) a pending runtime record."""
        ...

    def delete_pending(self, key: str) -> None:
        """Forget a pending runtime record (no error if it is not there)."""
        ...

    def add_trace(self, automation_id: str, trace: dict[str, Any], keep: int = 50) -> None:
        """Append a trace, keeping only the newest ``keep`` of the automation."""
        ...

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest traces of an automation, newest first."""
        ...


class MemoryAutomationStore:
    """An :class:`AutomationStore` in memory. Records are copied in and out, as a database would."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], StoredDocument] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self._traces: dict[str, deque[dict[str, Any]]] = {}

    def load_documents(self) -> list[StoredDocument]:
        """Every stored definition, in the order they were first saved."""
        return [
            StoredDocument(d.kind, d.id, d.source, copy.deepcopy(d.data)) for d in self.documents.values()
        ]

    def save_document(self, doc: StoredDocument) -> None:
        """Store a definition, replacing one of the same kind and id."""
        self.documents[(doc.kind, doc.id)] = StoredDocument(
            doc.kind, doc.id, doc.source, copy.deepcopy(doc.data)
        )

    def delete_document(self, kind: str, id: str) -> None:
        """Forget a definition."""
        self.documents.pop((kind, id), None)

    def load_pending(self) -> dict[str, dict[str, Any]]:
        """Every pending runtime record by key."""
        return copy.deepcopy(self.pending)

    def save_pending(self, key: str, data: dict[str, Any]) -> None:
        """Store (or replace) a pending runtime record."""
        self.pending[key] = copy.deepcopy(data)

    def delete_pending(self, key: str) -> None:
        """Forget a pending runtime record."""
        self.pending.pop(key, None)

    def add_trace(self, automation_id: str, trace: dict[str, Any], keep: int = 50) -> None:
        """Append a trace, keeping the newest ``keep``."""
        kept = self._traces.setdefault(automation_id, deque())
        kept.append(copy.deepcopy(trace))
        while len(kept) > keep:
            kept.popleft()

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest traces of an automation, newest first."""
        kept = self._traces.get(automation_id, deque())
        return [copy.deepcopy(t) for t in list(reversed(kept))[:limit]]
