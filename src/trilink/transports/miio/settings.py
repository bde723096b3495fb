"""What the hub needs to know about one miIO device (pure data, checked on creation).

The token is a secret: it is kept out of ``repr`` and every message, and a config file
names where to read it (an environment variable or a file, see :func:`read_token`),
never the token itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from trilink.model import DeviceSpec
from trilink.transports.miio.errors import InvalidToken
from trilink.transports.miio.packet import PORT, parse_token

#: dids follow the same rule as everywhere in trilink (they appear in MQTT topics and URLs)
_DID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
#: real devices refuse ``get_properties`` with more than about 16 properties
MAX_BATCH: Final = 16


@dataclass(frozen=True, slots=True)
class MiioDeviceSettings:
    """One configured device. Raises :class:`ValueError` naming the field that is wrong.

    ``spec`` is the device's MIoT-Spec-V2 instance: parsed, or the path of its JSON file.
    ``did`` defaults to ``miio-<device id>`` (the id the device gives in the handshake).
    Times are seconds. A poll that fails is retried after ``backoff_min``, doubling up to
    ``backoff_max``; after ``offline_after`` failed polls in a row the device is offline.
    """

    host: str
    token: str = field(repr=False)
    spec: DeviceSpec | Path | str = field(repr=False)
    did: str | None = None
    name: str | None = None
    room: str | None = None
    model: str | None = None
    port: int = PORT
    poll_interval: float = 30.0
    batch_size: int = 15
    timeout: float = 2.5
    retries: int = 2
    max_in_flight: int = 1
    offline_after: int = 3
    backoff_min: float = 2.0
    backoff_max: float = 300.0

    def __post_init__(self) -> None:
        where = f"miio device {self.host!r}"
        if not isinstance(self.host, str) or not self.host.strip():
            raise ValueError("miio device: host must be a host name or an IP address")
        try:
            parse_token(self.token)
        except InvalidToken as exc:
            raise InvalidToken(f"{where}: token: {exc}") from None
        if self.did is not None and not _DID.match(self.did):
            raise ValueError(f"{where}: did {self.did!r} must be 1-64 of A-Z a-z 0-9 . _ : -")
        if not 0 < self.port < 65536:
            raise ValueError(f"{where}: port must be 1-65535, got {self.port}")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"{where}: batch_size must be 1-{MAX_BATCH}, got {self.batch_size}")
        for name in ("poll_interval", "timeout", "backoff_min", "backoff_max"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{where}: {name} must be a positive number of seconds, got {value}")
        if self.backoff_max < self.backoff_min:
            raise ValueError(f"{where}: backoff_max ({self.backoff_max}) is below backoff_min")
        for name in ("retries", "offline_after", "max_in_flight"):
            value = getattr(self, name)
            if value < (0 if name == "retries" else 1):
                raise ValueError(f"{where}: {name} cannot be {value}")

    @property
    def token_bytes(self) -> bytes:
        """The 16 bytes of the token."""
        return parse_token(self.token)

    def describe(self) -> str:
        """``miio://host:port`` (never the token), for logs and the CLI."""
        return f"miio://{self.host}:{self.port}"


def read_token(token_env: str | None = None, token_file: str | Path | None = None) -> str:
    """Read a token from an environment variable or a file (exactly one of them).

    Raises :class:`InvalidToken` saying which source is missing or malformed.
    """
    if (token_env is None) == (token_file is None):
        raise InvalidToken("give the token's source as either token_env or token_file")
    if token_env is not None:
        text = os.environ.get(token_env, "")
        where = f"environment variable {token_env}"
        if not text.strip():
            raise InvalidToken(f"{where} (token_env) holding the device token is not set")
    else:
        assert token_file is not None
        where = f"token_file {token_file}"
        try:
            text = Path(token_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidToken(f"cannot read {where}: {exc}") from None
    try:
        parse_token(text)
    except InvalidToken as exc:
        raise InvalidToken(f"{where}: {exc}") from None
    return text.strip()
