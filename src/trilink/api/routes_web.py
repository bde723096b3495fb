"""The dashboard: ``GET /`` serves its ``index.html`` and ``GET /static/<path>`` its other files.

The files come from one directory (by default :func:`trilink.web.static_dir`). Every
answer carries a Content-Security-Policy that allows only the hub's own origin (no
inline scripts, no other hosts), ``nosniff`` and a same-origin referrer policy. Files
are revalidated on every use (``Cache-Control: no-cache``) against a strong ETag (a
digest of the content), so a reload costs a 304 per file. A path that leaves the
directory, names a hidden file or a directory, or does not exist is a plain 404; while
the directory has no ``index.html``, ``/`` answers 503 and the API works as usual.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections import OrderedDict
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import Headers
from starlette.types import Scope

from trilink.api.auth import is_secure

#: Content types by file suffix; anything else is guessed, then ``application/octet-stream``.
CONTENT_TYPES: Final[dict[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".wasm": "application/wasm",
}

#: Files at most this large are kept in memory with their ETag (the dashboard's are far smaller).
CACHE_FILE_LIMIT: Final = 4 * 1024 * 1024
CACHE_ENTRIES: Final = 256

_HOST: Final = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")

NOT_INSTALLED: Final = (
    "The trilink dashboard is not installed in this build (no index.html in its static "
    "directory). The hub itself is running: its API is under /api.\n"
)


def content_type(name: str) -> str:
    """The ``Content-Type`` of a file by its name."""
    suffix = Path(name).suffix.lower()
    known = CONTENT_TYPES.get(suffix)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(name)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def content_security_policy(scope: Scope) -> str:
    """Only the hub's own origin: scripts, styles, fonts, fetch and the WebSocket; images also ``data:``."""
    connect = "connect-src 'self'"
    host = Headers(scope=scope).get("host", "")
    if _HOST.fullmatch(host):
        # 'self' covers ws: of the same host in current browsers; older ones need it spelled out
        connect += f" {'wss' if is_secure(scope) else 'ws'}://{host}"
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            connect,
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(scope: Scope) -> dict[str, str]:
    """Headers every answer of the dashboard's routes carries."""
    return {
        "Content-Security-Policy": content_security_policy(scope),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


def safe_parts(relative: str) -> tuple[str, ...] | None:
    """The path's segments if it stays inside the directory and names no hidden file, else ``None``."""
    if not relative or relative.startswith("/"):
        return None
    parts = tuple(relative.split("/"))
    for part in parts:
        if (
            not part
            or part.startswith(".")
            or any(c in part for c in "\\:%")
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in part)
        ):
            return None
    return parts


def if_none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (weak comparison, as RFC 9110 asks)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


class StaticFiles:
    """Files of one directory, read on demand and kept in memory with their ETag until they change."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: OrderedDict[Path, tuple[int, int, str, bytes]] = OrderedDict()

    def find(self, parts: tuple[str, ...]) -> Path | None:
        """The regular file at ``parts`` under the directory, or ``None``."""
        try:
            root = self.root.resolve(strict=True)
            path = root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_relative_to(root) or path == root or not path.is_file():
            return None
        return path

    def load(self, path: Path) -> tuple[str, bytes] | None:
        """The file's ETag and content, or ``None`` if it cannot be read."""
        try:
            stat = path.stat()
            cached = self._cache.get(path)
            if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
                self._cache.move_to_end(path)
                return cached[2], cached[3]
            data = path.read_bytes()
        except OSError:
            return None
        etag = f'"{hashlib.sha256(data).hexdigest()[:40]}"'
        if len(data) <= CACHE_FILE_LIMIT:
            self._cache[path] = (stat.st_mtime_ns, stat.st_size, etag, data)
            self._cache.move_to_end(path)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return etag, data

    def answer(self, request: Request, parts: tuple[str, ...] | None) -> Response | None:
        """The file's answer (200, or 304 for a matching ``If-None-Match``), or ``None`` if there is none."""
        path = self.find(parts) if parts is not None else None
        loaded = self.load(path) if path is not None else None
        if path is None or loaded is None:
            return None
        etag, data = loaded
        headers = {**security_headers(request.scope), "Cache-Control": "no-cache", "ETag": etag}
        if if_none_match(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(data, headers=headers, media_type=content_type(path.name))


def _plain(request: Request, status: int, text: str) -> Response:
    headers = {**security_headers(request.scope), "Cache-Control": "no-store"}
    return Response(text, status_code=status, headers=headers, media_type="text/plain; charset=utf-8")


def web_router(root: Path) -> APIRouter:
    """``GET /`` (the dashboard's ``index.html``) and ``GET /static/{path}`` from ``root``."""
    files = StaticFiles(root)
    router = APIRouter(include_in_schema=False)

    @router.api_route("/", methods=["GET", "HEAD"])
    async def dashboard(request: Request) -> Response:
        """The dashboard page, or 503 while no front end is installed."""
        answer = files.answer(request, ("index.html",))
        return answer or _plain(request, 503, NOT_INSTALLED)

    @router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
    async def static(request: Request, path: str) -> Response:
        """A file of the dashboard."""
        answer = files.answer(request, safe_parts(path))
        return answer or _plain(request, 404, "not found\n")

    return router
