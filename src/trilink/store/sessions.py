"""Browser sessions: opened with an API token, kept in a cookie, stored only as a SHA-256 digest.

A session id is 32 random bytes in URL-safe base64 (43 characters), the value of the
browser's cookie. The store keeps its digest (as for tokens, see :mod:`trilink.store.tokens`
for why a fast hash is right for 256-bit secrets), the id of the token the session was
opened with, and when it was created and expires. A session lives until it expires,
is closed, or its token is revoked: :func:`verify_session` joins the live tokens on every
call, so a token revoked by another process (``trilink token revoke``) ends its sessions
at the next request.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from typing import Final

from trilink.store.sqlite import SQLiteStore

#: How long a session lasts from the moment it is opened (30 days); it is not extended by use.
SESSION_LIFETIME: Final = 30 * 86400

#: Sessions one token may have at once; opening one more ends the oldest.
MAX_SESSIONS_PER_TOKEN: Final = 50

_ID_LENGTH: Final = 43  # token_urlsafe(32): 32 bytes, base64 without padding
_ALPHABET: Final = frozenset(string.ascii_letters + string.digits + "-_")


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A live session as the store knows it, with its token's current name and role."""

    token_id: int
    name: str
    role: str
    created: float
    expires: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _well_formed(session_id: object) -> bool:
    return isinstance(session_id, str) and len(session_id) == _ID_LENGTH and _ALPHABET.issuperset(session_id)


def open_session(
    store: SQLiteStore, token_id: int, now: float, lifetime: float = SESSION_LIFETIME
) -> tuple[str, float]:
    """Start a session for a (verified) token; returns the session id and when it expires.

    The id is returned only here. Expired sessions are deleted on the way, and the
    token's oldest sessions beyond :data:`MAX_SESSIONS_PER_TOKEN`.
    """
    if not lifetime > 0:
        raise ValueError(f"a session's lifetime must be a positive number of seconds, got {lifetime}")
    session_id = secrets.token_urlsafe(32)
    expires = now + lifetime
    digest = _digest(session_id)
    with store.writing() as conn:
        conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
        # the token's newest others are kept, so the new session is never the one dropped
        conn.execute(
            "DELETE FROM sessions WHERE token_id = ? AND hash NOT IN "
            "(SELECT hash FROM sessions WHERE token_id = ? ORDER BY created DESC LIMIT ?)",
            (token_id, token_id, MAX_SESSIONS_PER_TOKEN - 1),
        )
        conn.execute(
            "INSERT INTO sessions (hash, token_id, created, expires) VALUES (?, ?, ?, ?)",
            (digest, token_id, now, expires),
        )
    return session_id, expires


def verify_session(store: SQLiteStore, session_id: str, now: float) -> SessionRecord | None:
    """The live session with this id, or ``None`` (unknown, closed, expired, or its token revoked).

    Any input is accepted: something that is not a well-formed id returns ``None``
    without touching the database.
    """
    if not _well_formed(session_id):
        return None
    with store.reading() as conn:
        row = conn.execute(
            "SELECT t.id, t.name, t.role, s.created, s.expires FROM sessions AS s "
            "JOIN tokens AS t ON t.id = s.token_id "
            "WHERE s.hash = ? AND s.expires > ? AND t.revoked = 0",
            (_digest(session_id), now),
        ).fetchone()
    if row is None:
        return None
    return SessionRecord(row[0], row[1], row[2], row[3], row[4])


def close_session(store: SQLiteStore, session_id: str) -> bool:
    """End a session; returns False if there was no such session (or it is no id at all)."""
    if not _well_formed(session_id):
        return False
    with store.writing() as conn:
        return conn.execute("DELETE FROM sessions WHERE hash = ?", (_digest(session_id),)).rowcount > 0


def prune_sessions(store: SQLiteStore, now: float) -> int:
    """Delete expired sessions and those of revoked tokens; returns how many were deleted."""
    with store.writing() as conn:
        return conn.execute(
            "DELETE FROM sessions WHERE expires <= ? "
            "OR token_id IN (SELECT id FROM tokens WHERE revoked = 1)",
            (now,),
        ).rowcount


def count_sessions(store: SQLiteStore, token_id: int | None = None) -> int:
    """How many sessions are stored (of one token, if given), expired ones included until pruned."""
    with store.reading() as conn:
        if token_id is None:
            row = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
        else:
            row = conn.execute("SELECT COUNT(*) FROM sessions WHERE token_id = ?", (token_id,)).fetchone()
    return int(row[0])
