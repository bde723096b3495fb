"""trilink's own implementation of the Xiaomi miIO / MIoT LAN protocol (UDP port 54321).

Import the submodules directly, as for ``trilink.transports.mqtt`` (``packet`` has no
kernel dependency, so a test peer or a simulated device can speak the protocol without
importing the hub):

- ``packet``: framing, checksum, AES, JSON-RPC. Pure: no I/O.
- ``protocol``: :class:`MiioClient`, one device's UDP conversation (handshake, ids, retries).
- ``device``: :class:`MiioDevice`, first contact, polling and commands of one device.
- ``transport``: :class:`MiioTransport`, the kernel's link for miIO devices.
- ``settings``: :class:`MiioDeviceSettings`, what a user configures for a device.
- ``errors`` and ``stats``: the errors a caller can act on, and the counters.

See ``docs/miio.md``.
"""
