"""Browser sessions in the store: digests only, expiry by an explicit clock, revocation, limits."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.store import (
    SCHEMA_VERSION,
    SESSION_LIFETIME,
    SQLiteStore,
    close_session,
    issue_token,
    list_tokens,
    open_session,
    prune_sessions,
    revoke_token,
    verify_session,
)
from trilink.store.migrations import migrate
from trilink.store.sessions import MAX_SESSIONS_PER_TOKEN, count_sessions

T0 = 1_800_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "hub.db") as s:
        yield s


def token_id(store: SQLiteStore, name: str = "alice", role: str = "owner") -> int:
    issue_token(store, name, role, T0)
    return next(r.id for r in list_tokens(store) if r.name == name)


def test_a_session_is_found_by_its_id_with_its_tokens_name_and_role(store: SQLiteStore) -> None:
    tid = token_id(store, "alice", "member")
    session_id, expires = open_session(store, tid, T0)
    assert len(session_id) == 43 and expires == T0 + SESSION_LIFETIME == T0 + 30 * 86400
    record = verify_session(store, session_id, T0 + 1)
    assert record is not None
    assert (record.token_id, record.name, record.role) == (tid, "alice", "member")
    assert (record.created, record.expires) == (T0, expires)
    # every session gets its own id
    other, _ = open_session(store, tid, T0)
    assert other != session_id and verify_session(store, other, T0) is not None


def test_only_the_digest_of_a_session_id_is_stored(store: SQLiteStore, tmp_path: Path) -> None:
    session_id, _ = open_session(store, token_id(store), T0)
    with store.reading() as conn:
        rows = conn.execute("SELECT hash, token_id, created, expires FROM sessions").fetchall()
    assert rows == [(hashlib.sha256(session_id.encode()).hexdigest(), 1, T0, T0 + SESSION_LIFETIME)]
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("hub.db"))
    assert session_id.encode() not in raw


def test_a_session_expires_after_30_days(store: SQLiteStore) -> None:
    session_id, expires = open_session(store, token_id(store), T0)
    assert verify_session(store, session_id, expires - 0.001) is not None
    assert verify_session(store, session_id, expires) is None
    assert verify_session(store, session_id, expires + 86400) is None
    # it is not extended by use
    assert verify_session(store, session_id, T0 + 29 * 86400) is not None
    assert verify_session(store, session_id, expires) is None


def test_expired_sessions_are_pruned(store: SQLiteStore) -> None:
    tid = token_id(store)
    old, _ = open_session(store, tid, T0, lifetime=60)
    kept, _ = open_session(store, tid, T0)
    assert prune_sessions(store, T0 + 30) == 0
    assert prune_sessions(store, T0 + 60) == 1
    assert count_sessions(store) == 1
    assert verify_session(store, kept, T0 + 60) is not None
    # opening a session also clears out expired ones
    open_session(store, tid, T0 + 100, lifetime=10)
    open_session(store, tid, T0 + 200)
    assert count_sessions(store) == 2
    assert verify_session(store, old, T0) is None


def test_closing_a_session_ends_it(store: SQLiteStore) -> None:
    tid = token_id(store)
    session_id, _ = open_session(store, tid, T0)
    other, _ = open_session(store, tid, T0)
    assert close_session(store, session_id)
    assert verify_session(store, session_id, T0) is None
    assert not close_session(store, session_id)
    assert verify_session(store, other, T0) is not None


def test_revoking_the_token_ends_its_sessions(store: SQLiteStore) -> None:
    alice, bob = token_id(store, "alice"), token_id(store, "bob", "guest")
    a1, _ = open_session(store, alice, T0)
    a2, _ = open_session(store, alice, T0)
    b1, _ = open_session(store, bob, T0)
    assert revoke_token(store, alice)
    assert verify_session(store, a1, T0) is None and verify_session(store, a2, T0) is None
    assert count_sessions(store, alice) == 0
    assert verify_session(store, b1, T0) is not None


def test_a_token_revoked_by_another_process_ends_its_sessions_at_once(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """An older trilink (or a plain SQL update) may only set the flag: the join still sees it."""
    tid = token_id(store)
    session_id, _ = open_session(store, tid, T0)
    other = sqlite3.connect(tmp_path / "hub.db")
    with other:
        other.execute("UPDATE tokens SET revoked = 1 WHERE id = ?", (tid,))
    other.close()
    assert verify_session(store, session_id, T0) is None
    assert count_sessions(store, tid) == 1
    assert prune_sessions(store, T0) == 1
    assert count_sessions(store) == 0


def test_a_session_follows_its_tokens_current_name_and_role(store: SQLiteStore, tmp_path: Path) -> None:
    tid = token_id(store, "alice", "owner")
    session_id, _ = open_session(store, tid, T0)
    other = sqlite3.connect(tmp_path / "hub.db")
    with other:
        other.execute("UPDATE tokens SET role = 'guest', name = 'visitor' WHERE id = ?", (tid,))
    other.close()
    record = verify_session(store, session_id, T0)
    assert record is not None and (record.name, record.role) == ("visitor", "guest")


def test_one_token_keeps_at_most_its_newest_sessions(store: SQLiteStore) -> None:
    tid, other = token_id(store, "alice"), token_id(store, "bob")
    bobs, _ = open_session(store, other, T0)
    ids = [open_session(store, tid, T0 + i)[0] for i in range(MAX_SESSIONS_PER_TOKEN + 5)]
    assert count_sessions(store, tid) == MAX_SESSIONS_PER_TOKEN
    assert [verify_session(store, s, T0) is not None for s in ids[:5]] == [False] * 5
    assert all(verify_session(store, s, T0) is not None for s in ids[5:])
    assert verify_session(store, bobs, T0) is not None
    # with equal timestamps the newest session is still never the one dropped
    same = [open_session(store, tid, T0 + 1000)[0] for _ in range(MAX_SESSIONS_PER_TOKEN + 2)]
    assert count_sessions(store, tid) == MAX_SESSIONS_PER_TOKEN
    assert verify_session(store, same[-1], T0) is not None


def test_sessions_survive_closing_and_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    with SQLiteStore(path) as store:
        session_id, expires = open_session(store, token_id(store), T0)
    with SQLiteStore(path) as store:
        record = verify_session(store, session_id, T0 + 3600)
        assert record is not None and record.expires == expires


def test_an_older_database_gains_the_sessions_table(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=5)
    conn.execute("INSERT INTO tokens (name, role, hash, created) VALUES ('old', 'owner', 'x', 1)")
    conn.close()
    with SQLiteStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 6
        session_id, _ = open_session(store, 1, T0)
        assert verify_session(store, session_id, T0) is not None


def test_a_session_needs_a_positive_lifetime(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        open_session(store, token_id(store), T0, lifetime=0)


def test_malformed_ids_are_refused_without_touching_the_database(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "closed.db")  # never opened: any query would raise
    for bad in ["", "x", "a" * 42, "a" * 44, "a" * 42 + "!", "a" * 42 + "\x00", "é" * 43, None, 43]:
        assert verify_session(store, bad, T0) is None  # type: ignore[arg-type]
        assert close_session(store, bad) is False  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60) | st.text(alphabet="abcXYZ019-_", min_size=43, max_size=43))
def test_no_string_is_a_session_unless_it_was_issued(store: SQLiteStore, text: str) -> None:
    assert verify_session(store, text, T0) is None
