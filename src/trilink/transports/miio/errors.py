"""Errors of the miIO transport, and the MIoT result codes a device answers with.

Every error is a value a person can act on: it names the device's address, what went
wrong and, where it helps, what to check. None of them ever carries the token.
"""

from __future__ import annotations

from typing import Final, Literal

#: Why a datagram was dropped; the labels are the keys of the ``bad_packets`` counter.
BadPacketReason = Literal[
    "too-short",
    "too-long",
    "bad-magic",
    "bad-length",
    "bad-checksum",
    "decrypt",
    "not-json",
    "not-object",
    "bad-id",
]

#: What the codes in MIoT answers mean, for answers that carry a code but no message.
MIOT_CODES: Final[dict[int, str]] = {
    0: "ok",
    1: "accepted, the device is carrying it out",
    -4000: "the device refused the request",
    -4001: "the property is not readable",
    -4002: "the property is not writable",
    -4003: "the property, action or event does not exist",
    -4004: "the device failed for another reason",
    -4005: "the value is not accepted (value error)",
    -4006: "the action's input arguments are wrong",
    -4007: "the did in the request is wrong",
    -5001: "the command or its arguments are invalid",
    -9999: "the device did not acknowledge in time (user ack timeout)",
    -30001: "the device's answer was invalid",
    -32600: "invalid request",
    -32601: "the device does not know this method",
    -32602: "invalid parameters",
    -32700: "the device could not parse the request",
}

#: The code the transport uses for an answer it cannot read as a MIoT result.
UNREADABLE_ANSWER: Final = -4004


def describe_code(code: int) -> str:
    """A short explanation of a MIoT result code (``"error <code>"`` if unknown)."""
    return MIOT_CODES.get(code, f"error {code}")


class InvalidToken(ValueError):
    """A token is not 32 hexadecimal characters. The message never repeats the token."""


class BadPacket(ValueError):
    """A datagram that is not a valid miIO packet (or not a valid answer inside one).

    ``reason`` is one of :data:`BadPacketReason`, a short stable label for counters;
    the message says which rule was broken.
    """

    def __init__(self, reason: BadPacketReason, detail: str) -> None:
        self.reason: BadPacketReason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class MiioError(Exception):
    """A request to a device failed; the message names the device's address."""


class MiioTimeout(MiioError):
    """The device did not answer (after every retry)."""


class MiioUnreachable(MiioError):
    """The network said no one listens there (ICMP port or host unreachable)."""


class DeviceError(MiioError):
    """The device answered with an error object ``{"error": {"code", "message"}}``."""

    def __init__(self, where: str, method: str, code: int, message: str) -> None:
        self.code = code
        self.message = message or describe_code(code)
        super().__init__(f"{where}: {method} refused ({code}) {self.message}")
