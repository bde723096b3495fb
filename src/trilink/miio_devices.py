"""The hub's miIO devices: those its config names and those a person adopted at run time.

Adopted devices (found by zeroconf, added with their token through the API) are kept in
the store with their address, token and spec, so the hub reaches them again after a
restart; a device the config also names is reached as the config says.
:class:`MiioDevices` is zeroconf's ``Adopter`` for miIO devices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from trilink.model import SpecError, parse_spec
from trilink.store import SQLiteStore
from trilink.store.miio import AdoptedMiio, load_adopted_miio, save_adopted_miio
from trilink.transports.miio.errors import MiioError, MiioTimeout, MiioUnreachable
from trilink.transports.miio.settings import MiioDeviceSettings
from trilink.transports.miio.transport import MiioTransport
from trilink.transports.zeroconf.adoption import AdoptionError, KnownMiio, MiioAdoption

log = logging.getLogger(__name__)


class MiioDevices:
    """Starts the configured and the kept devices on ``transport``; adopts new ones."""

    def __init__(
        self,
        transport: MiioTransport,
        store: SQLiteStore,
        configured: Sequence[MiioDeviceSettings],
        clock: Callable[[], float],
    ) -> None:
        self.transport = transport
        self.store = store
        self.configured = list(configured)
        self.clock = clock

    async def start(self) -> None:
        """Add every configured device, then every kept one the config does not name.

        Devices are added without waiting for them, so one that is off does not hold up
        the hub's start; the transport keeps trying with backoff.
        """
        for settings in self.configured:
            await self.transport.add(settings, wait=False)
        dids = {s.did for s in self.configured if s.did is not None}
        addresses = {(s.host, s.port) for s in self.configured}
        for kept in load_adopted_miio(self.store):
            if kept.did in dids or (kept.host, kept.port) in addresses:
                continue  # the config file now says how to reach it
            try:
                settings = MiioDeviceSettings(
                    host=kept.host,
                    port=kept.port,
                    token=kept.token,
                    spec=parse_spec(kept.spec),
                    did=kept.did,
                    name=kept.name,
                    room=kept.room,
                    model=kept.model,
                )
                await self.transport.add(settings, wait=False)
            except (ValueError, SpecError) as exc:
                log.error("miio: cannot resume adopted device %s: %s", kept.did, exc)

    def known(self) -> list[KnownMiio]:
        """The devices the transport has, for zeroconf's adopted-check."""
        return [KnownMiio(d.settings.host, d.client.device_id) for d in self.transport.devices]

    async def adopt_miio(self, device: MiioAdoption) -> str:
        """First contact with the device, then it is the kernel's and kept; returns its did."""
        if device.spec is None:
            raise AdoptionError(
                f"the miIO transport needs the MIoT-Spec-V2 file of {device.model}: "
                "give its path on the hub as spec (docs/miio.md)",
                "invalid",
            )
        try:
            settings = MiioDeviceSettings(
                host=device.host,
                port=device.port,
                token=device.token,
                spec=Path(device.spec),
                name=device.name,
                room=device.room,
                model=device.model,
            )
            added = await self.transport.add(settings)
        except (MiioTimeout, MiioUnreachable) as exc:
            raise AdoptionError(str(exc), "unreachable") from None
        except MiioError as exc:
            raise AdoptionError(str(exc), "failed") from None
        except (SpecError, OSError) as exc:
            raise AdoptionError(f"spec {device.spec}: {exc}", "invalid") from None
        except ValueError as exc:  # already added (same address or did), or a bad setting
            raise AdoptionError(str(exc), "conflict" if "already" in str(exc) else "invalid") from None
        if added.did is None:
            raise AdoptionError("the device answered but was not adopted", "failed")
        self._keep(settings, added.did)
        return added.did

    def _keep(self, settings: MiioDeviceSettings, did: str) -> None:
        adopted = self.transport.kernel.registry.devices[did]
        save_adopted_miio(
            self.store,
            AdoptedMiio(
                did,
                settings.host,
                settings.port,
                settings.token,
                adopted.spec.to_dict(),
                adopted.name,
                settings.room,
                adopted.model,
                self.clock(),
            ),
        )
