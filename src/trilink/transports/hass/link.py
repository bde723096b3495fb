"""The kernel's link to devices adopted from Home Assistant discovery: commands as MQTT publications.

A write or call is published to the entity's command topic in its component's format and
answered ``Outcome(0)`` once published. Home Assistant's MQTT is fire and forget: the
device's new state arrives later on its state topic. Optimistic features (a command
topic but no state topic, or ``optimistic: true``) report the commanded value at once,
as Home Assistant shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from trilink.kernel import DeviceOffline, Kernel, Outcome
from trilink.transports.hass.entity import CommandUnsupported, Entity, Publish
from trilink.transports.hass.stats import HassStats
from trilink.transports.hass.template import TemplateError

#: MIoT-style codes of the outcomes returned without publishing anything
CODE_BAD_REQUEST: Final = -4000
CODE_NOT_WRITABLE: Final = -4001
CODE_NO_SUCH: Final = -4004


class HassLink:
    """A :class:`~trilink.kernel.DeviceLink` named ``name`` (``hass`` by default)."""

    def __init__(
        self,
        name: str,
        kernel: Kernel,
        stats: HassStats,
        *,
        entity_at: Callable[[str, int], Entity | None],
        publish: Callable[[Publish], bool],
    ) -> None:
        self.name = name
        self.kernel = kernel
        self.stats = stats
        self._entity_at = entity_at
        self._publish = publish

    def _send(self, did: str, publications: list[Publish]) -> None:
        for publication in publications:
            if not self._publish(publication):
                raise DeviceOffline(did, "not connected to the MQTT broker; the command was not sent")
        self.stats.commands_sent += 1

    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        """Publish a write to the entity's command topic; ``Outcome(0)`` once published."""
        entity = self._entity_at(did, siid)
        if entity is None:
            return Outcome(CODE_NO_SUCH, f"no Home Assistant entity at siid {siid}")
        try:
            publications = entity.command(piid, value)
        except CommandUnsupported as exc:
            return Outcome(CODE_NOT_WRITABLE, str(exc))
        except TemplateError as exc:
            return Outcome(CODE_BAD_REQUEST, f"command template failed: {exc}")
        self._send(did, publications)
        if piid in entity.echo:
            self.kernel.report(did, siid, piid, value)
        return Outcome()

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        """Publish an action (a button press, lock, unlock …); ``Outcome(0)`` once published."""
        entity = self._entity_at(did, siid)
        if entity is None:
            return Outcome(CODE_NO_SUCH, f"no Home Assistant entity at siid {siid}")
        try:
            publications = entity.call(aiid)
        except CommandUnsupported as exc:
            return Outcome(CODE_NO_SUCH, str(exc))
        except TemplateError as exc:
            return Outcome(CODE_BAD_REQUEST, f"command template failed: {exc}")
        self._send(did, publications)
        for piid, value in entity.call_echo.get(aiid, []):
            self.kernel.report(did, siid, piid, value)
        return Outcome()
