"""An MQTT broker inside the hub process (amqtt), for a home that runs no broker of its own.

It always requires a username and password: there is no anonymous access and no default
password (give it users, e.g. from :func:`generate_users`). It binds to loopback unless
told otherwise. For more than one home, or devices on other machines, run Mosquitto.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

from trilink.transports.logs import RateLimitedLog
from trilink.transports.mqtt.settings import MqttSettings

log = logging.getLogger(__name__)

#: amqtt logs every connection and packet at INFO/DEBUG; the hub keeps its own counters
_NOISY_LOGGERS = ("amqtt", "transitions")


def generate_users(*names: str) -> dict[str, str]:
    """A fresh random password (32 URL-safe characters) for each user name."""
    if not names:
        raise ValueError("name at least one user")
    return {name: secrets.token_urlsafe(24) for name in names}


class CredentialsAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """amqtt auth plugin: accept a CONNECT only with a known username and its password."""

    @dataclass
    class Config:
        """The plugin's configuration as amqtt hands it over."""

        users: dict[str, str] = field(default_factory=dict)

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._refusals = RateLimitedLog(log)

    async def authenticate(self, *, session: Session) -> bool | None:
        """Whether the session's username and password match (anonymous is refused)."""
        users: dict[str, str] = self.context.config.users
        username = session.username
        expected = users.get(username) if username else None
        given = (session.password or "").encode()
        # compare even for an unknown user, so the answer takes the same time
        ok = hmac.compare_digest(given, (expected or "\0").encode()) and expected is not None
        if not ok:
            who = f"user {username!r}" if username else "an anonymous client"
            self._refusals.warning("refused", "embedded MQTT broker: refused %s (wrong credentials)", who)
        return ok


class EmbeddedBroker:
    """An amqtt broker on ``host:port`` (``port`` 0 picks a free one) that requires credentials."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, users: Mapping[str, str]) -> None:
        if not users:
            raise ValueError("the embedded broker needs at least one user; there is no default password")
        for name, password in users.items():
            if not name or not password:
                raise ValueError(f"user {name!r}: username and password must not be empty")
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._users = dict(users)
        self._broker: Broker | None = None

    @property
    def port(self) -> int:
        """The port the broker listens on (known once started)."""
        if self._port is None:
            raise RuntimeError("the embedded broker is not started")
        return self._port

    @property
    def running(self) -> bool:
        """Whether the broker is accepting connections."""
        return self._broker is not None

    def settings(self, username: str, password: str) -> MqttSettings:
        """Settings for a client of this broker."""
        return MqttSettings(host=self.host, port=self.port, username=username, password=password)

    async def start(self) -> None:
        """Start listening; raises if the port is taken."""
        if self._broker is not None:
            return
        for name in _NOISY_LOGGERS:
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"}},
            # only our plugin: amqtt's defaults would add anonymous access and $SYS topics
            "plugins": {f"{__name__}.CredentialsAuthPlugin": {"users": self._users}},
        }
        broker = Broker(config)
        await broker.start()
        # amqtt has no public way to ask which port a listener got (needed for port 0)
        server = broker._servers["default"].instance
        self._port = int(server.sockets[0].getsockname()[1])
        self._broker = broker
        log.info("embedded MQTT broker listening on %s:%d", self.host, self._port)

    async def stop(self) -> None:
        """Close every session and the listener; idempotent."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
            log.info("embedded MQTT broker on %s:%s stopped", self.host, self._port)
