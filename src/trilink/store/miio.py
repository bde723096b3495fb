"""miIO devices a person adopted while the hub ran (from zeroconf), kept across restarts.

Devices written in the config file are not kept here: the config is their home. The
token is stored as the device needs it (it is the device's LAN key, not a password we
could hash), so the database file must be protected like a token file (docs/miio.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trilink.store.sqlite import SQLiteStore


@dataclass(frozen=True, slots=True)
class AdoptedMiio:
    """One adopted device: where it is, its token, and its MIoT-Spec-V2 instance (JSON)."""

    did: str
    host: str
    port: int
    token: str = field(repr=False)
    spec: dict[str, Any] = field(repr=False)
    name: str | None = None
    room: str | None = None
    model: str | None = None
    added_at: float = 0.0


def save_adopted_miio(store: SQLiteStore, device: AdoptedMiio) -> None:
    """Keep (or replace) an adopted device."""
    with store.writing() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO miio_devices (did, host, port, token, spec, name, room, model, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                device.did,
                device.host,
                device.port,
                device.token,
                json.dumps(device.spec, ensure_ascii=False),
                device.name,
                device.room,
                device.model,
                device.added_at,
            ),
        )


def load_adopted_miio(store: SQLiteStore) -> list[AdoptedMiio]:
    """Every adopted device, oldest first."""
    with store.reading() as conn:
        rows = conn.execute(
            "SELECT did, host, port, token, spec, name, room, model, added_at FROM miio_devices "
            "ORDER BY added_at, did"
        ).fetchall()
    return [
        AdoptedMiio(
            str(r[0]), str(r[1]), int(r[2]), str(r[3]), json.loads(r[4]), r[5], r[6], r[7], float(r[8])
        )
        for r in rows
    ]


def forget_adopted_miio(store: SQLiteStore, did: str) -> bool:
    """Forget a device (it was removed); whether it was kept."""
    with store.writing() as conn:
        return conn.execute("DELETE FROM miio_devices WHERE did = ?", (did,)).rowcount > 0
