"""Zeroconf (mDNS/DNS-SD) on the LAN: find miIO devices and MQTT brokers, announce the hub.

:class:`~trilink.transports.zeroconf.service.ZeroconfDiscovery` browses
``_miio._udp.local.`` and ``_mqtt._tcp.local.``, keeps a table of candidates the user
may adopt, and announces the hub as ``_trilink._tcp.local.`` when it serves beyond
loopback. Adoption goes through the small interfaces of ``adoption.py``, which the hub
provides, so this package never imports another transport. See ``docs/zeroconf.md``.

Import the submodules directly: ``settings``, ``names``, ``candidates``, ``table``,
``adoption`` and ``announce`` are pure (no sockets, no zeroconf import); only
``service`` opens sockets.
"""
