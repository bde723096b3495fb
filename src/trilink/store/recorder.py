"""The recorder: kernel events in, batched writes to the store out, on a thread of its own.

Bus listeners run inline in the kernel's hot path, so the listener only appends the
event to a deque (thread-safe and cheap). The writer thread wakes every
``flush_interval`` seconds, takes up to ``max_batch`` items and writes them in one
transaction. A batch that fails is kept and retried, with a growing pause, until it is
written: nothing is dropped because the disk was busy or full for a while.

Numeric property changes are folded into 5-minute and hourly statistics in the same
transaction as their history (see :mod:`trilink.store.stats`), so that work is done
here, on the writer thread, and never on the event loop. With a separate ``series``
store (PostgreSQL), the SQLite store gets the registry and last state and the series
store the history and statistics; a batch is retried whole until both took it (the
SQLite part is idempotent upserts and deletes, so writing it again is harmless).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final, Literal

from trilink.kernel import Kernel, PropertyChanged, RegistryChanged
from trilink.store.errors import StoreError, UnstorableValue
from trilink.store.sqlite import BatchItem, Removal, SQLiteStore
from trilink.store.stats import SeriesStore

log = logging.getLogger(__name__)

#: Seconds of kernel clock time between two history prunes.
PRUNE_INTERVAL: Final = 600.0

#: Longest pause, in real seconds, between two attempts to write a failing batch.
MAX_RETRY_DELAY: Final = 5.0

_ENTITIES: Final[dict[str, Literal["home", "floor", "room", "person", "device"]]] = {
    "home": "home",
    "floor": "floor",
    "room": "room",
    "person": "person",
    "device": "device",
}


class _FlushMark:
    """Put in the queue by :meth:`StoreRecorder.flush`; set once everything before it is written."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class StoreRecorder:
    """Records property changes and registry changes of a kernel into a store.

    Call :meth:`start` from the thread that runs the kernel (the event loop), after the
    store has been loaded into the kernel; call :meth:`stop` before closing the store.
    """

    def __init__(
        self,
        kernel: Kernel,
        store: SQLiteStore,
        *,
        series: SeriesStore | None = None,
        flush_interval: float = 0.25,
        max_batch: int = 5000,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.kernel = kernel
        self.store = store
        #: where history and statistics go: a separate store, or ``None`` for ``store`` itself
        self.series = series
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._queue: deque[BatchItem | _FlushMark] = deque()
        self._pending: list[BatchItem] = []
        self._marks: list[_FlushMark] = []
        # flush marks sitting in the queue, so that `queued` counts only changes
        self._marks_queued = 0
        self._marks_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._stop_deadline = 0.0
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._written = 0
        self._batches = 0
        self._errors = 0
        self._rejected = 0
        self._pruned = 0
        self._pruned_stats = 0
        self._lost = 0
        self._last_error: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Subscribe to the kernel and start the writer thread.

        The registry as it is now is queued first, so entities the kernel gained before
        the recorder started are saved too.
        """
        if self._thread is not None:
            raise RuntimeError("the store recorder is already running")
        registry = self.kernel.registry
        for table in (registry.homes, registry.floors, registry.rooms, registry.people, registry.devices):
            self._queue.extend(table.values())
        bus = self.kernel.bus
        self._unsubscribe = [
            bus.subscribe(self._queue.append, PropertyChanged),
            bus.subscribe(self._on_registry, RegistryChanged),
        ]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="trilink-store-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Unsubscribe, write everything queued and end the writer thread.

        If the store keeps failing for ``timeout`` seconds, the writer gives up: what is
        still queued is logged as lost (and counted in ``stats["lost"]``) and the thread ends.
        """
        thread = self._thread
        if thread is None:
            return
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop_deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake.set()
        thread.join()
        self._thread = None

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything queued before this call is written.

        Raises :class:`StoreError` if that does not happen within ``timeout`` seconds (the
        store keeps failing) or if the recorder is not running while changes are queued.
        """
        thread = self._thread
        if thread is None or not thread.is_alive():
            queued = self._count_queued()
            if queued:
                raise StoreError(
                    f"{self.store.path}: the store recorder is not running; {queued} changes queued"
                )
            return
        mark = _FlushMark()
        with self._marks_lock:
            self._marks_queued += 1
            self._queue.append(mark)
        self._wake.set()
        if not mark.done.wait(timeout):
            raise StoreError(
                f"{self.store.path}: queued changes were not written within {timeout:g} s "
                f"({self._count_queued()} waiting, {self._errors} write errors, last: {self._last_error})"
            )

    @property
    def stats(self) -> dict[str, int]:
        """Counters: ``written`` items, ``batches``, write ``errors``, ``queued`` items, ``rejected``
        items that could not be encoded, history rows ``pruned``, statistics buckets ``pruned_stats``
        and items ``lost`` at stop."""
        return {
            "written": self._written,
            "batches": self._batches,
            "errors": self._errors,
            "queued": self._count_queued(),
            "rejected": self._rejected,
            "pruned": self._pruned,
            "pruned_stats": self._pruned_stats,
            "lost": self._lost,
        }

    def _count_queued(self) -> int:
        with self._marks_lock:
            # may lag by one while the writer takes a mark; never below zero
            return max(0, len(self._queue) - self._marks_queued) + len(self._pending)

    # ------------------------------------------------------------ hot-path input
    def _on_registry(self, event: RegistryChanged) -> None:
        entity = _ENTITIES.get(event.entity)
        if entity is None:
            log.warning("registry change of unknown entity kind %r (%s) not recorded", event.entity, event.id)
            return
        if event.removed:
            self._queue.append(Removal(entity, event.id))
            return
        # the entity as it is now, taken on the kernel's thread so the writer never races it
        registry = self.kernel.registry
        tables: dict[str, dict[str, Any]] = {
            "home": registry.homes,
            "floor": registry.floors,
            "room": registry.rooms,
            "person": registry.people,
            "device": registry.devices,
        }
        current = tables[entity].get(event.id)
        if current is not None:
            self._queue.append(current)

    # --------------------------------------------------------------- writer thread
    def _run(self) -> None:
        next_prune = self.kernel.clock.now()
        failures = 0
        while True:
            if not self._pending:
                self._take()
            if self._pending:
                if self._write_pending():
                    failures = 0
                    continue
                failures += 1
                if self._stopping.is_set() and time.monotonic() >= self._stop_deadline:
                    self._give_up()
                    return
                self._wake.wait(min(self.flush_interval * 2 ** (failures - 1), MAX_RETRY_DELAY))
                self._wake.clear()
                continue
            self._release_marks()
            now = self.kernel.clock.now()
            if now >= next_prune:
                self._prune(now)
                next_prune = now + PRUNE_INTERVAL
            if self._stopping.is_set() and not self._queue:
                return
            self._wake.wait(self.flush_interval)
            # cleared before the queue is read again, so a flush that sets it now is not missed
            self._wake.clear()

    def _take(self) -> None:
        queue, batch = self._queue, self._pending
        while queue and len(batch) < self.max_batch:
            item = queue.popleft()
            if isinstance(item, _FlushMark):
                with self._marks_lock:
                    self._marks_queued -= 1
                self._marks.append(item)
            else:
                batch.append(item)

    def _write_pending(self) -> bool:
        """Write the pending batch; returns False (and keeps it) if the store failed."""
        while self._pending:
            try:
                if self.series is None:
                    self.store.write_batch(self._pending)
                else:
                    self.store.write_batch(self._pending, series=False)
                    self.series.write_series(self._pending)
            except UnstorableValue as exc:
                # one item can never be stored; set it aside so it does not block the rest forever
                del self._pending[exc.index]
                self._rejected += 1
                log.error("%s; it is not recorded", exc)
                continue
            except Exception as exc:
                self._errors += 1
                first = self._last_error is None
                self._last_error = str(exc)
                if first:
                    log.exception(
                        "store write of %d items failed; retrying the same batch", len(self._pending)
                    )
                else:
                    log.error("store write of %d items failed again: %s", len(self._pending), exc)
                return False
            self._written += len(self._pending)
            self._batches += 1
            self._pending = []
        if self._last_error is not None:
            log.info("store writes succeed again")
            self._last_error = None
        self._release_marks()
        return True

    def _release_marks(self) -> None:
        for mark in self._marks:
            mark.done.set()
        self._marks = []

    def _prune(self, now: float) -> None:
        series: SeriesStore = self.store if self.series is None else self.series
        try:
            self._pruned += series.prune_history(now)
            self._pruned_stats += sum(series.prune_stats(now).values())
        except Exception:
            self._errors += 1
            log.exception("pruning history failed; trying again in %g s of clock time", PRUNE_INTERVAL)

    def _give_up(self) -> None:
        lost = len(self._pending) + sum(1 for item in self._queue if not isinstance(item, _FlushMark))
        self._lost += lost
        self._pending = []
        self._queue.clear()
        log.error(
            "%s: the store recorder stopped with %d changes it could not write (last error: %s)",
            self.store.path,
            lost,
            self._last_error,
        )
