"""Counters of the MQTT transport, and a logger that a flood of bad messages cannot fill.

The counters are plain integer attributes so the per-message path only adds one to an
attribute; :meth:`TransportStats.as_dict` builds the JSON-ready view on demand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class TransportStats:
    """What the transport has seen and done since it was created."""

    connected: bool = False
    connects: int = 0
    #: connection attempts that failed (each outage logs once; this counts every attempt)
    connect_failures: int = 0
    disconnects: int = 0
    messages_in: int = 0
    reports: int = 0
    values_rejected: int = 0
    events: int = 0
    results: int = 0
    results_unmatched: int = 0
    commands_sent: int = 0
    unknown_devices: int = 0
    last_error: str | None = None
    #: messages dropped because they broke the schema, by reason (``not-json``, ``bad-topic``, …)
    malformed: dict[str, int] = field(default_factory=dict)

    def count_malformed(self, reason: str) -> None:
        """Count one dropped message under ``reason``."""
        self.malformed[reason] = self.malformed.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (the ``malformed`` dict is a copy)."""
        return {
            "connected": self.connected,
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "disconnects": self.disconnects,
            "messages_in": self.messages_in,
            "reports": self.reports,
            "values_rejected": self.values_rejected,
            "events": self.events,
            "results": self.results,
            "results_unmatched": self.results_unmatched,
            "commands_sent": self.commands_sent,
            "malformed": dict(self.malformed),
            "unknown_devices": self.unknown_devices,
            "last_error": self.last_error,
        }


class RateLimitedLog:
    """Log at most ``burst`` messages per key in each ``interval`` seconds.

    Messages over the limit are counted, and the count is logged when the key's next
    window opens, so a device sending a thousand bad messages a second costs a few lines
    of log, not a full disk.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        interval: float = 10.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._interval = interval
        self._now = now
        # key -> [window start, logged in window, suppressed in window]
        self._windows: dict[str, list[float]] = {}
        #: messages not logged because of the limit, over the whole lifetime
        self.suppressed = 0

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` under ``key`` unless the key is over its limit.

        Returns whether the message was logged.
        """
        if not self._logger.isEnabledFor(level):
            return False
        now = self._now()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self._interval:
            if window is not None and window[2]:
                self._logger.log(
                    level,
                    "%d more %r messages were not logged in the last %.0f s",
                    window[2],
                    key,
                    now - window[0],
                )
            if len(self._windows) >= 1024:
                # keys are a small fixed set in practice; a bound keeps a bug from leaking memory
                self._windows.clear()
            window = self._windows[key] = [now, 0, 0]
        if window[1] < self._burst:
            window[1] += 1
            self._logger.log(level, message, *args)
            return True
        window[2] += 1
        self.suppressed += 1
        return False

    def warning(self, key: str, message: str, *args: object) -> bool:
        """:meth:`log` at WARNING."""
        return self.log(logging.WARNING, key, message, *args)
