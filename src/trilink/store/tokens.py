"""API tokens: issued once in plaintext, stored only as a SHA-256 digest.

A token is ``tl_`` followed by 32 random bytes in URL-safe base64 (43 characters). Why
a plain, fast SHA-256 is the right digest here, unlike for passwords: slow hashes
(bcrypt, scrypt, argon2) exist to make guessing low-entropy secrets expensive. These
tokens carry 256 bits from ``secrets``; nobody can enumerate that space however fast
the hash is, so a stolen digest is as useless as a stolen salted password hash, while
verifying a request costs microseconds instead of tens of milliseconds per API call.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
import time
from dataclasses import dataclass, replace
from typing import Any, Final

from trilink.store.errors import StoreError
from trilink.store.sqlite import SQLiteStore

log = logging.getLogger(__name__)

#: The roles a token may carry, from most to least trusted.
ROLES: Final = ("owner", "member", "guest")

PREFIX: Final = "tl_"
_TOKEN_LENGTH: Final = len(PREFIX) + 43  # token_urlsafe(32): 32 bytes, base64 without padding
_ALPHABET: Final = frozenset(string.ascii_letters + string.digits + "-_")

#: ``last_used`` is written at most this often per token, so verifying is usually a pure read.
LAST_USED_GRANULARITY: Final = 60.0


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token as the store knows it (never its plaintext)."""

    id: int
    name: str
    role: str
    created: float
    last_used: float | None
    revoked: bool = False


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("ascii")).hexdigest()


def _record(row: Any) -> TokenRecord:
    return TokenRecord(row[0], row[1], row[2], row[3], row[4], bool(row[5]))


def issue_token(store: SQLiteStore, name: str, role: str, now: float) -> str:
    """Create a token and return its plaintext; this is the only time it can be seen.

    Raises ``ValueError`` for an empty name or a role other than owner, member or guest.
    """
    if role not in ROLES:
        raise ValueError(f"unknown token role {role!r}: allowed roles are {', '.join(ROLES)}")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a token needs a name (who or what will use it), got an empty one")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    with store.writing() as conn:
        conn.execute(
            "INSERT INTO tokens (name, role, hash, created) VALUES (?, ?, ?, ?)",
            (name.strip(), role, _digest(plaintext), now),
        )
    return plaintext


def verify_token(store: SQLiteStore, plaintext: str, now: float | None = None) -> TokenRecord | None:
    """The live token whose plaintext this is, or ``None`` (unknown, revoked or malformed).

    Any input is accepted: something that is not a well-formed token returns ``None``
    without touching the database. ``now`` (default: wall-clock time) updates
    ``last_used``, at most once a minute per token.
    """
    if (
        not isinstance(plaintext, str)
        or len(plaintext) != _TOKEN_LENGTH
        or not plaintext.startswith(PREFIX)
        or not _ALPHABET.issuperset(plaintext[len(PREFIX) :])
    ):
        return None
    # looking up by digest is not a timing oracle: an attacker cannot steer the digest's prefix
    with store.reading() as conn:
        row = conn.execute(
            "SELECT id, name, role, created, last_used, revoked FROM tokens WHERE hash = ? AND revoked = 0",
            (_digest(plaintext),),
        ).fetchone()
    if row is None:
        return None
    record = _record(row)
    used = time.time() if now is None else now
    if record.last_used is None or used - record.last_used >= LAST_USED_GRANULARITY:
        try:
            with store.writing() as conn:
                conn.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (used, record.id))
            record = replace(record, last_used=used)
        except StoreError as exc:  # a busy disk must not turn a valid token away
            log.warning("token %d: could not record its use: %s", record.id, exc)
    return record


def list_tokens(store: SQLiteStore, *, include_revoked: bool = False) -> list[TokenRecord]:
    """Every live token (and revoked ones if asked), oldest first."""
    sql = "SELECT id, name, role, created, last_used, revoked FROM tokens"
    if not include_revoked:
        sql += " WHERE revoked = 0"
    with store.reading() as conn:
        rows = conn.execute(sql + " ORDER BY id").fetchall()
    return [_record(row) for row in rows]


def revoke_token(store: SQLiteStore, token_id: int | str) -> bool:
    """Revoke a token and end the browser sessions opened with it.

    Returns False if there is no live token with this id (or it is no id at all).
    """
    if isinstance(token_id, str):
        if not token_id.isascii() or not token_id.isdigit():
            return False
        token_id = int(token_id)
    with store.writing() as conn:
        cursor = conn.execute("UPDATE tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id,))
        conn.execute("DELETE FROM sessions WHERE token_id = ?", (token_id,))
        return cursor.rowcount > 0


def has_tokens(store: SQLiteStore) -> bool:
    """Whether any live (not revoked) token exists, e.g. to know whether the hub was set up."""
    with store.reading() as conn:
        return conn.execute("SELECT 1 FROM tokens WHERE revoked = 0 LIMIT 1").fetchone() is not None
