"""Counters of the miIO transport, shared by its clients and devices.

Plain integer attributes, so the per-packet path only adds one to an attribute;
:meth:`MiioStats.as_dict` builds the JSON-ready view on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MiioStats:
    """What the transport has sent, received and dropped since it was created."""

    #: request packets sent (every attempt, retries included)
    requests: int = 0
    #: answers matched to a waiting request
    answers: int = 0
    #: attempts that got no answer within the per-attempt timeout
    timeouts: int = 0
    #: attempts after the first of a request
    retries: int = 0
    #: requests that failed after every attempt
    failures: int = 0
    #: answers carrying ``{"error": …}``
    device_errors: int = 0
    handshakes: int = 0
    handshake_timeouts: int = 0
    #: the network said nothing listens at the device's address
    unreachable: int = 0
    #: answers whose request had already ended (answered after its last timeout)
    late_answers: int = 0
    #: datagrams dropped because they broke the protocol, by reason (``bad-checksum``, …)
    bad_packets: dict[str, int] = field(default_factory=dict)
    polls: int = 0
    poll_failures: int = 0
    #: property values handed to the kernel
    values_reported: int = 0
    #: values the kernel refused because they break the device's spec
    values_rejected: int = 0
    #: per-property codes other than 0 in ``get_properties`` answers, by code
    property_errors: dict[str, int] = field(default_factory=dict)
    commands: int = 0
    #: commands the device answered with a code other than 0
    commands_refused: int = 0
    last_error: str | None = None

    def count_bad(self, reason: str) -> None:
        """Count one dropped datagram under ``reason``."""
        self.bad_packets[reason] = self.bad_packets.get(reason, 0) + 1

    def count_property_error(self, code: int) -> None:
        """Count one property a device could not read, under its code."""
        key = str(code)
        self.property_errors[key] = self.property_errors.get(key, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (the dicts are copies)."""
        return {
            "requests": self.requests,
            "answers": self.answers,
            "timeouts": self.timeouts,
            "retries": self.retries,
            "failures": self.failures,
            "device_errors": self.device_errors,
            "handshakes": self.handshakes,
            "handshake_timeouts": self.handshake_timeouts,
            "unreachable": self.unreachable,
            "late_answers": self.late_answers,
            "bad_packets": dict(self.bad_packets),
            "polls": self.polls,
            "poll_failures": self.poll_failures,
            "values_reported": self.values_reported,
            "values_rejected": self.values_rejected,
            "property_errors": dict(self.property_errors),
            "commands": self.commands,
            "commands_refused": self.commands_refused,
            "last_error": self.last_error,
        }
