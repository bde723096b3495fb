"""The dashboard's front end: the static files the hub serves at ``/`` and ``/static/``.

The files live in this package's ``static/`` directory and are installed with it
(``[tool.setuptools.package-data]`` in pyproject.toml). The front end talks to the hub
only through the public API and its WebSocket.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def static_dir() -> Path:
    """The directory holding the dashboard's files; it may be missing or empty in a build without one.

    The hub serves files from the file system, so trilink must be installed as files
    (as pip does), not imported from a zip archive.
    """
    return Path(str(files(__name__) / "static"))


__all__ = ["static_dir"]
