"""Persistence: registry, last state, history, API tokens and browser sessions (SQLite by default)."""

from trilink.store.errors import StoreError, UnstorableValue
from trilink.store.migrations import LATEST as SCHEMA_VERSION
from trilink.store.recorder import StoreRecorder
from trilink.store.sessions import (
    SESSION_LIFETIME,
    SessionRecord,
    close_session,
    open_session,
    prune_sessions,
    verify_session,
)
from trilink.store.sqlite import BatchItem, LoadStats, Removal, SQLiteStore
from trilink.store.tokens import (
    ROLES,
    TokenRecord,
    has_tokens,
    issue_token,
    list_tokens,
    revoke_token,
    verify_token,
)

__all__ = [
    "ROLES",
    "SCHEMA_VERSION",
    "SESSION_LIFETIME",
    "BatchItem",
    "LoadStats",
    "Removal",
    "SQLiteStore",
    "SessionRecord",
    "StoreError",
    "StoreRecorder",
    "TokenRecord",
    "UnstorableValue",
    "close_session",
    "has_tokens",
    "issue_token",
    "list_tokens",
    "open_session",
    "prune_sessions",
    "revoke_token",
    "verify_session",
    "verify_token",
]
