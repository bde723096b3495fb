"""Persistence: registry, last state, history and API tokens (SQLite by default)."""

from trilink.store.errors import StoreError, UnstorableValue
from trilink.store.migrations import LATEST as SCHEMA_VERSION
from trilink.store.recorder import StoreRecorder
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
    "BatchItem",
    "LoadStats",
    "Removal",
    "SQLiteStore",
    "StoreError",
    "StoreRecorder",
    "TokenRecord",
    "UnstorableValue",
    "has_tokens",
    "issue_token",
    "list_tokens",
    "revoke_token",
    "verify_token",
]
