"""Persistence: registry, last state, history and API tokens (SQLite by default)."""
