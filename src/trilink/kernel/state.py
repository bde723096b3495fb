"""Current state: the last known value of every device property, and availability."""

from __future__ import annotations

from typing import Any

#: (value, timestamp) of one property
Reading = tuple[Any, float]


class StateTable:
    """Last known values by did and ``(siid, piid)``, and which devices are online."""

    def __init__(self) -> None:
        self.values: dict[str, dict[tuple[int, int], Reading]] = {}
        self.online: dict[str, bool] = {}

    def of(self, did: str) -> dict[tuple[int, int], Reading]:
        """Every known reading of a device (empty if none)."""
        return self.values.get(did, {})

    def get(self, did: str, siid: int, piid: int) -> Reading | None:
        """One reading, or ``None`` if never reported."""
        return self.values.get(did, {}).get((siid, piid))

    def is_online(self, did: str) -> bool:
        """Whether the device is online now."""
        return self.online.get(did, False)
