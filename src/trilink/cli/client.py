"""API client commands: devices, get, set, call, events."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add the client commands to ``group``."""
