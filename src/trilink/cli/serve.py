"""``trilink demo`` and ``trilink run``: start a hub in this process."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add the hub commands to ``group``."""
