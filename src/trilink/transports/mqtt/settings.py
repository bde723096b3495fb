"""Connection settings for an MQTT broker (pure data, shared by the hub and devices)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Where a broker is and how to sign in. There is no default password."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    keepalive: int = 30
    #: first and largest wait between reconnection attempts, in seconds
    reconnect_min: float = 0.2
    reconnect_max: float = 30.0

    def describe(self) -> str:
        """``host:port`` with the user (never the password), for logs and the CLI."""
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"
