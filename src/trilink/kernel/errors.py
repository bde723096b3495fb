"""Errors of the command path, each a value a caller can show to a person."""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """A command could not be carried out; ``code`` is a stable, documented string."""

    code = "command-failed"

    def __init__(self, did: str, message: str) -> None:
        self.did = did
        self.message = message
        super().__init__(f"{did}: {message}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the API returns it."""
        return {"code": self.code, "did": self.did, "message": str(self)}


class DeviceOffline(CommandError):
    """The device is offline, so the command was not sent."""

    code = "device-offline"


class CommandTimeout(CommandError):
    """The device did not answer in time."""

    code = "timeout"


class DeviceRefused(CommandError):
    """The device answered with an error code."""

    code = "device-refused"

    def __init__(self, did: str, message: str, device_code: int, device_message: str = "") -> None:
        super().__init__(did, message)
        self.device_code = device_code
        #: the device's own words, if it gave any
        self.device_message = device_message

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with the device's own code."""
        return {**super().to_dict(), "device_code": self.device_code}


class NoTransport(CommandError):
    """No transport is attached for the device."""

    code = "no-transport"
