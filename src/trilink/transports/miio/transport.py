"""The hub's miIO transport: configured Xiaomi devices on the LAN, polled, commanded.

:class:`MiioTransport` is the kernel's :class:`~trilink.kernel.DeviceLink` for devices
adopted with ``transport=name``. Devices are added one by one from their settings
(host, token, spec): :meth:`MiioTransport.add` makes first contact and adopts the
device, then a task per device polls it (see :mod:`trilink.transports.miio.device`).
Nothing a device sends can stop the transport: bad datagrams are counted by reason in
:attr:`MiioTransport.stats` and dropped. See ``docs/miio.md``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from trilink.kernel import Context, DeviceOffline, Kernel, Outcome
from trilink.model import DeviceSpec, load_spec_file
from trilink.transports.logs import RateLimitedLog
from trilink.transports.miio.device import MiioDevice
from trilink.transports.miio.settings import MiioDeviceSettings
from trilink.transports.miio.stats import MiioStats

log = logging.getLogger("trilink.transports.miio")


class MiioTransport:
    """Configured miIO devices, attached to ``kernel`` as link ``name``."""

    def __init__(self, kernel: Kernel, *, name: str = "miio") -> None:
        self.name = name
        self.kernel = kernel
        self._stats = MiioStats()
        self._limited = RateLimitedLog(log)
        self._context = Context("system", f"transport:{name}", f"transport:{name}")
        self._devices: list[MiioDevice] = []

    # ------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Attach to the kernel (devices are added with :meth:`add`)."""
        self.kernel.attach(self)

    async def add(self, settings: MiioDeviceSettings, *, wait: bool = True) -> MiioDevice:
        """Add a device and start polling it.

        With ``wait`` (adding a device by hand), first contact happens now: the device is
        adopted and polled once before this returns, and if it cannot be reached this
        raises :class:`~trilink.transports.miio.errors.MiioError` and nothing is kept.
        Without ``wait`` (devices from the config at start-up) it returns at once and the
        device's task keeps trying, with backoff, until the device answers.
        Raises :class:`ValueError` if the address or did is already in use, and
        :class:`~trilink.model.SpecError` for a bad spec file.
        """
        for other in self._devices:
            same = other.settings.host == settings.host and other.settings.port == settings.port
            if same or (settings.did is not None and other.did == settings.did):
                raise ValueError(
                    f"{settings.describe()}: already added as {other.did or other.settings.host}"
                )
        spec = await _load_spec(settings.spec)
        device = MiioDevice(
            self.kernel, settings, spec, link_name=self.name, stats=self._stats, limited_log=self._limited
        )
        if wait:
            try:
                await device.connect()
                if any(other.did == device.did for other in self._devices):
                    raise ValueError(f"{settings.describe()}: did {device.did} is already in use")
            except BaseException:
                await device.stop()
                raise
            log.info("miio: added %s as %s (%s)", settings.describe(), device.did, device.model)
        self._devices.append(device)
        device.start()
        return device

    async def remove(self, did: str) -> None:
        """Stop polling a device and mark it offline (the kernel keeps it and its history)."""
        device = self._find(did)
        if device is None:
            raise KeyError(f"no miio device {did!r}")
        self._devices.remove(device)
        await device.stop()
        self._mark_offline(device)

    async def stop(self) -> None:
        """Stop every device's task, close the sockets, mark the devices offline; idempotent."""
        devices, self._devices = self._devices, []
        await asyncio.gather(*(device.stop() for device in devices))
        for device in devices:
            self._mark_offline(device)
        self.kernel.detach(self.name)

    def _mark_offline(self, device: MiioDevice) -> None:
        if device.adopted and device.did is not None and device.did in self.kernel.registry.devices:
            self.kernel.set_online(device.did, False, self._context)

    # --------------------------------------------------------------- queries
    @property
    def devices(self) -> list[MiioDevice]:
        """The devices added, reached or not."""
        return list(self._devices)

    @property
    def stats(self) -> dict[str, Any]:
        """Counters of the transport and a line per device (never its token)."""
        out = self._stats.as_dict()
        out["devices"] = [
            {
                "did": d.did,
                "address": d.settings.describe(),
                "device_id": d.client.device_id,
                "model": d.model,
                "online": bool(d.did and self.kernel.state.online.get(d.did)),
                "failures": d.failures,
                "next_poll_s": round(d.next_delay, 3),
                "last_error": d.last_error,
            }
            for d in self._devices
        ]
        return out

    def _find(self, did: str) -> MiioDevice | None:
        for device in self._devices:
            if device.did == did:
                return device
        return None

    # -------------------------------------------------------------- commands
    async def send_set(self, did: str, siid: int, piid: int, value: Any) -> Outcome:
        """Ask the device to set one property; its per-property code is the outcome's code."""
        return await self._device(did).set_property(siid, piid, value)

    async def send_call(self, did: str, siid: int, aiid: int, args: list[Any]) -> Outcome:
        """Ask the device to run an action; the outcome carries its ``out`` values."""
        return await self._device(did).call_action(siid, aiid, args)

    def _device(self, did: str) -> MiioDevice:
        device = self._find(did)
        if device is None:
            raise DeviceOffline(did, "no miio device with this did is configured; the command was not sent")
        return device


async def _load_spec(spec: DeviceSpec | Path | str) -> DeviceSpec:
    if isinstance(spec, DeviceSpec):
        return spec
    # a spec file can be large (a vacuum's is ~200 KB): read it off the event loop
    return await asyncio.to_thread(load_spec_file, spec)
