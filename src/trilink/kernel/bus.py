"""The event bus: synchronous fan-out of kernel events to subscribers.

Subscribers run inline and must not block; one that wants to do I/O queues the event
and does the work elsewhere (the store does this). A subscriber that raises is logged
and counted, and the others still get the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from trilink.kernel.events import Event

log = logging.getLogger(__name__)

Listener = Callable[[Any], None]


class EventBus:
    """Delivers each published event to the listeners of its type and to catch-all ones."""

    def __init__(self) -> None:
        self._by_type: dict[type, list[Listener]] = {}
        self._all: list[Listener] = []
        self._targets: dict[type, tuple[Listener, ...]] = {}
        self.listener_errors = 0

    def subscribe(self, listener: Listener, *types: type) -> Callable[[], None]:
        """Call ``listener(event)`` for events of ``types`` (every event if none given).

        Returns a function that unsubscribes.
        """
        if types:
            for t in types:
                self._by_type.setdefault(t, []).append(listener)
        else:
            self._all.append(listener)
        self._targets.clear()

        def unsubscribe() -> None:
            if types:
                for t in types:
                    if listener in self._by_type.get(t, []):
                        self._by_type[t].remove(listener)
            elif listener in self._all:
                self._all.remove(listener)
            self._targets.clear()

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to its listeners, in subscription order."""
        t = type(event)
        targets = self._targets.get(t)
        if targets is None:
            targets = self._targets[t] = (*self._by_type.get(t, ()), *self._all)
        for listener in targets:
            try:
                listener(event)
            except Exception:
                self.listener_errors += 1
                log.exception("event listener %r failed on %s", listener, event.kind)
