"""Counters of the MQTT transport (the rate-limited logger is in :mod:`trilink.transports.logs`).

The counters are plain integer attributes so the per-message path only adds one to an
attribute; :meth:`TransportStats.as_dict` builds the JSON-ready view on demand.
"""

from __future__ import annotations

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
