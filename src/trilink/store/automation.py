"""What the automation engine must not forget: definitions, pending timers and traces.

:class:`SQLiteAutomationStore` keeps them in the hub's SQLite file, next to the registry.
It satisfies the engine's ``AutomationStore`` protocol structurally: the store is a
lower layer than the engine and imports nothing from ``trilink.automation``. Hand it
the engine's document class to get the engine's own objects back:
``SQLiteAutomationStore(store, document=StoredDocument)``.

The engine calls these methods from the event loop. Each write is one small
transaction (one row, or one row and a prune), which WAL mode with
``synchronous=NORMAL`` commits without waiting for the disk; see docs/store.md for
what that costs and why it is not handed to a thread.

Data is stored as JSON and reads back equal to what was written: dicts with string
keys, lists (a tuple comes back as a list), strings, booleans, 64-bit integers, finite
floats and ``None``, at most ``MAX_DEPTH`` levels deep. Anything else is refused with
:class:`UnstorableValue` before a row is touched. A row whose text is not JSON any more
(edited by hand, a disk error) is skipped with a warning when read, never fatal.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar, overload

import orjson

from trilink.store.errors import UnstorableValue
from trilink.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

#: How many traces of one automation are kept unless the caller says otherwise.
DEFAULT_KEEP: Final = 50

#: Deepest nesting stored; the JSON encoder stops at 255 levels, and no definition comes near.
MAX_DEPTH: Final = 200

_INT64: Final = range(-(2**63), 2**63)


class Document(Protocol):
    """What :meth:`SQLiteAutomationStore.save_document` reads from a document (the engine's or ours)."""

    @property
    def kind(self) -> str:
        """``automation``, ``scene`` or ``zone``."""
        ...

    @property
    def id(self) -> str:
        """The document's id, unique within its kind."""
        ...

    @property
    def source(self) -> str:
        """Where it came from: a file name or ``api``."""
        ...

    @property
    def data(self) -> dict[str, Any]:
        """The definition as JSON-ready data."""
        ...


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A stored definition: ``kind`` (automation, scene, zone), ``id``, ``source`` and ``data``.

    It has the fields of the engine's ``StoredDocument``, so it can stand in for one
    wherever the engine only reads them.
    """

    kind: str
    id: str
    source: str
    data: dict[str, Any]


def _check(value: Any, where: str, depth: int = 0) -> None:
    """Raise ``ValueError`` naming ``where`` for the first part of ``value`` that JSON would not keep."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if value not in _INT64:
            raise ValueError(f"{where}: the integer {value} does not fit in 64 bits")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} cannot be stored (JSON has no NaN or infinity)")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: the key {key!r} is not a string")
            _check(item, f"{where}.{key}", depth + 1)
        return
    raise ValueError(f"{where}: a {type(value).__name__} cannot be stored as JSON")


def _key(value: str, what: str) -> str:
    """A key column's text; a string SQLite cannot store (a lone surrogate) is refused like bad data."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnstorableValue(f"cannot store {what}: {text!r} is not valid Unicode text", 0, value) from None
    return text


def _encode(data: Any, what: str) -> str:
    """The JSON text of a document, pending entry or trace; refuses what would not read back equal."""
    if not isinstance(data, dict):
        raise UnstorableValue(
            f"cannot store {what}: its data must be a dict, got {type(data).__name__}", 0, data
        )
    try:
        _check(data, "data")
    except ValueError as exc:
        raise UnstorableValue(f"cannot store {what}: {exc}", 0, data) from None
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate in a string
        raise UnstorableValue(f"cannot store {what}: {exc}", 0, data) from None


D = TypeVar("D")

#: Builds a loaded document from ``(kind, id, source, data)``.
DocumentFactory = Callable[[str, str, str, dict[str, Any]], D]


class SQLiteAutomationStore(Generic[D]):
    """The engine's persistence in the hub's :class:`SQLiteStore` (which must be open).

    ``load_documents`` returns :class:`DocumentRow` objects, or whatever ``document``
    builds from ``(kind, id, source, data)``: the hub passes the engine's
    ``StoredDocument`` there, so this store is an ``AutomationStore`` to the type
    checker too, without the store importing the engine. ``clock`` stamps the
    ``updated`` columns and traces without a time of their own; it defaults to
    wall-clock time.
    """

    @overload
    def __init__(
        self: SQLiteAutomationStore[DocumentRow],
        store: SQLiteStore,
        *,
        clock: Callable[[], float] = ...,
    ) -> None: ...

    @overload
    def __init__(
        self,
        store: SQLiteStore,
        *,
        clock: Callable[[], float] = ...,
        document: DocumentFactory[D],
    ) -> None: ...

    def __init__(
        self,
        store: SQLiteStore,
        *,
        clock: Callable[[], float] = time.time,
        document: DocumentFactory[Any] = DocumentRow,
    ) -> None:
        self.store = store
        self.clock = clock
        self._document = document

    def _decode(self, text: str, what: str) -> dict[str, Any] | None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            log.warning("%s: %s is not JSON (%s); skipped", self.store.path, what, exc)
            return None
        if not isinstance(value, dict):
            log.warning("%s: %s is not a JSON object; skipped", self.store.path, what)
            return None
        return value

    # ---------------------------------------------------------------- documents
    def load_documents(self) -> list[D]:
        """Every stored automation, scene and zone, ordered by kind and id; unreadable rows are skipped."""
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT kind, id, source, data FROM automation_documents ORDER BY kind, id"
            ).fetchall()
        out: list[D] = []
        for kind, ident, source, text in rows:
            data = self._decode(text, f"{kind} {ident!r}")
            if data is not None:
                out.append(self._document(kind, ident, source, data))
        return out

    def save_document(self, doc: Document) -> None:
        """Add or replace a document (the engine's ``StoredDocument`` or a :class:`DocumentRow`)."""
        what = f"{doc.kind} {doc.id!r}"
        kind, ident, source = _key(doc.kind, what), _key(doc.id, what), _key(doc.source, what)
        text = _encode(doc.data, what)
        with self.store.writing() as conn:
            conn.execute(
                "INSERT INTO automation_documents (kind, id, source, data, updated) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET source = excluded.source, data = excluded.data, "
                "updated = excluded.updated",
                (kind, ident, source, text, self.clock()),
            )

    def delete_document(self, kind: str, id: str) -> None:
        """Forget a document (nothing happens if there is none); an automation's traces stay."""
        with self.store.writing() as conn:
            conn.execute("DELETE FROM automation_documents WHERE kind = ? AND id = ?", (kind, id))

    # ------------------------------------------------------------------ pending
    def load_pending(self) -> dict[str, dict[str, Any]]:
        """Every pending timer or paused run by its key; unreadable rows are skipped."""
        with self.store.reading() as conn:
            rows = conn.execute("SELECT key, data FROM automation_pending ORDER BY key").fetchall()
        out = {}
        for key, text in rows:
            data = self._decode(text, f"pending {key!r}")
            if data is not None:
                out[key] = data
        return out

    def save_pending(self, key: str, data: dict[str, Any]) -> None:
        """Add or replace the pending entry ``key``."""
        key = _key(key, f"pending {key!r}")
        text = _encode(data, f"pending {key!r}")
        with self.store.writing() as conn:
            conn.execute(
                "INSERT INTO automation_pending (key, data, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated = excluded.updated",
                (key, text, self.clock()),
            )

    def delete_pending(self, key: str) -> None:
        """Forget the pending entry ``key`` (nothing happens if there is none)."""
        with self.store.writing() as conn:
            conn.execute("DELETE FROM automation_pending WHERE key = ?", (key,))

    # ------------------------------------------------------------------- traces
    def add_trace(self, automation_id: str, trace: dict[str, Any], keep: int = DEFAULT_KEEP) -> None:
        """Append a trace and drop all but the ``keep`` newest of this automation, in one transaction.

        The row's ``ts`` is when the trace says its run started (``started``, or ``ts``),
        else the clock's time.
        """
        if keep < 1:
            raise ValueError(f"keep must be 1 or more, got {keep}")
        automation_id = _key(automation_id, f"a trace of {automation_id!r}")
        text = _encode(trace, f"a trace of {automation_id!r}")
        ts = trace.get("started", trace.get("ts"))
        if isinstance(ts, bool) or not isinstance(ts, int | float):
            ts = self.clock()
        with self.store.writing() as conn:
            conn.execute(
                "INSERT INTO automation_traces (automation_id, seq, ts, data) VALUES (?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM automation_traces WHERE automation_id = ?), ?, ?)",
                (automation_id, automation_id, ts, text),
            )
            # everything at or below the keep-th newest seq goes; the primary key makes this a range scan
            conn.execute(
                "DELETE FROM automation_traces WHERE automation_id = ? AND seq <= (SELECT seq "
                "FROM automation_traces WHERE automation_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (automation_id, automation_id, keep),
            )

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` traces of an automation, newest first; unreadable rows are skipped."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT seq, data FROM automation_traces WHERE automation_id = ? ORDER BY seq DESC LIMIT ?",
                (automation_id, limit),
            ).fetchall()
        out = []
        for seq, text in rows:
            data = self._decode(text, f"trace {seq} of {automation_id!r}")
            if data is not None:
                out.append(data)
        return out

    def delete_traces(self, automation_id: str) -> int:
        """Forget every trace of an automation; returns how many there were."""
        with self.store.writing() as conn:
            cursor = conn.execute("DELETE FROM automation_traces WHERE automation_id = ?", (automation_id,))
            return cursor.rowcount
