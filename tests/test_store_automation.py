"""The automation store: documents, pending entries and traces in the hub's SQLite file."""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import wait_until
from trilink.store import SCHEMA_VERSION, SQLiteStore, StoreError, UnstorableValue, issue_token, list_tokens
from trilink.store.automation import MAX_DEPTH, DocumentRow, SQLiteAutomationStore
from trilink.store.migrations import migrate

T0 = 1_800_000_000.0

AUTOMATION = {
    "id": "cool-before-arrival",
    "name": "Cool the living room",
    "mode": "single",
    "enabled": True,
    "triggers": [{"type": "proximity", "who": "car", "zone": "home", "within": 3000.0}],
    "conditions": [{"type": "numeric", "device": "sensor-living", "property": "2.1", "above": 26}],
    "actions": [{"set": {"device": "ac-living", "property": "2.3", "value": 24.0}}],
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "trilink.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(db) as s:
        yield s


@pytest.fixture
def autos(store: SQLiteStore) -> SQLiteAutomationStore:
    return SQLiteAutomationStore(store, clock=Clock())


def raw(store: SQLiteStore, sql: str, *params: Any) -> list[Any]:
    with store.reading() as conn:
        return conn.execute(sql, params).fetchall()


# --------------------------------------------------------------------------- documents
def test_documents_round_trip(autos: SQLiteAutomationStore) -> None:
    assert autos.load_documents() == []
    autos.save_document(DocumentRow("automation", "cool-before-arrival", "automations.yaml", AUTOMATION))
    autos.save_document(DocumentRow("zone", "work", "api", {"id": "work", "radius": 200.0}))
    autos.save_document(DocumentRow("scene", "evening", "api", {"id": "evening", "states": []}))
    docs = autos.load_documents()
    # ordered by kind, then id
    assert [(d.kind, d.id) for d in docs] == [
        ("automation", "cool-before-arrival"),
        ("scene", "evening"),
        ("zone", "work"),
    ]
    assert docs[0] == DocumentRow("automation", "cool-before-arrival", "automations.yaml", AUTOMATION)


def test_saving_again_replaces_and_updates_the_stamp(store: SQLiteStore) -> None:
    clock = Clock()
    autos = SQLiteAutomationStore(store, clock=clock)
    autos.save_document(DocumentRow("automation", "a", "automations.yaml", {"name": "first"}))
    clock.now += 60
    autos.save_document(DocumentRow("automation", "a", "api", {"name": "second"}))
    assert autos.load_documents() == [DocumentRow("automation", "a", "api", {"name": "second"})]
    assert raw(store, "SELECT updated FROM automation_documents") == [(T0 + 60,)]


def test_same_id_in_two_kinds_are_two_documents(autos: SQLiteAutomationStore) -> None:
    autos.save_document(DocumentRow("scene", "home", "api", {"k": "scene"}))
    autos.save_document(DocumentRow("zone", "home", "api", {"k": "zone"}))
    autos.delete_document("scene", "home")
    assert autos.load_documents() == [DocumentRow("zone", "home", "api", {"k": "zone"})]
    autos.delete_document("scene", "never-there")  # not an error


def test_any_object_with_the_fields_can_be_saved(autos: SQLiteAutomationStore) -> None:
    class Stored:  # the engine's own document type, as far as the store can tell
        kind = "automation"
        id = "x"
        source = "api"
        data: dict[str, Any] = {"id": "x"}  # noqa: RUF012

    autos.save_document(Stored())
    assert autos.load_documents() == [DocumentRow("automation", "x", "api", {"id": "x"})]


def test_documents_can_be_built_as_the_callers_own_type(store: SQLiteStore) -> None:
    from trilink.automation.persist import StoredDocument

    autos = SQLiteAutomationStore(store, document=StoredDocument)
    autos.save_document(StoredDocument("zone", "work", "api", {"radius": 200}))
    assert autos.load_documents() == [StoredDocument("zone", "work", "api", {"radius": 200})]
    assert type(autos.load_documents()[0]) is StoredDocument


# --------------------------------------------------------------------------- JSON fidelity
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_any_json_document_reads_back_with_exact_types(autos: SQLiteAutomationStore, data: Any) -> None:
    autos.save_document(DocumentRow("automation", "a", "api", data))
    autos.save_pending("timer", data)
    autos.add_trace("a", data, keep=1)
    loaded = autos.load_documents()[0].data
    for back in (loaded, autos.load_pending()["timer"], autos.traces("a")[0]):
        assert back == data
        assert repr(back) == repr(data)  # 24.0 stays a float, True stays a bool, -0.0 keeps its sign


def test_types_are_kept_exactly(autos: SQLiteAutomationStore) -> None:
    data = {"f": 24.0, "i": 24, "b": True, "n": None, "big": 2**63 - 1, "s": "Café ☕", "l": [1, 1.0, False]}
    autos.save_pending("k", data)
    back = autos.load_pending()["k"]
    assert [type(v) for v in back.values()] == [float, int, bool, type(None), int, str, list]
    assert [type(v) for v in back["l"]] == [int, float, bool]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"v": math.nan}, "data.v: nan cannot be stored"),
        ({"v": [1, math.inf]}, r"data.v\[1\]: inf cannot be stored"),
        ({"v": 2**64}, "does not fit in 64 bits"),
        ({"v": {1: "one"}}, "the key 1 is not a string"),
        ({"v": {"a", "b"}}, "a set cannot be stored"),
        ({"v": "\ud800"}, "cannot store"),
        ([1, 2], "must be a dict"),
    ],
)
def test_data_that_would_not_read_back_is_refused(
    autos: SQLiteAutomationStore, store: SQLiteStore, data: Any, reason: str
) -> None:
    for write in (
        lambda: autos.save_document(DocumentRow("automation", "a", "api", data)),
        lambda: autos.save_pending("k", data),
        lambda: autos.add_trace("a", data),
    ):
        with pytest.raises(UnstorableValue, match=reason):
            write()
    assert raw(store, "SELECT COUNT(*) FROM automation_documents") == [(0,)]
    assert raw(store, "SELECT COUNT(*) FROM automation_pending") == [(0,)]
    assert raw(store, "SELECT COUNT(*) FROM automation_traces") == [(0,)]


def test_too_deep_and_unstorable_keys_are_refused(autos: SQLiteAutomationStore) -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(UnstorableValue, match="nested more than"):
        autos.save_pending("deep", {"v": deep})
    with pytest.raises(UnstorableValue, match="not valid Unicode"):
        autos.save_document(DocumentRow("automation", "bad\ud800id", "api", {}))
    with pytest.raises(UnstorableValue, match="not valid Unicode"):
        autos.save_pending("\udfff", {})
    with pytest.raises(UnstorableValue, match="not valid Unicode"):
        autos.add_trace("\ud800", {})


# --------------------------------------------------------------------------- pending
def test_pending_round_trip(autos: SQLiteAutomationStore) -> None:
    autos.save_pending("for:a:0", {"deadline": T0 + 240.0, "automation": "a"})
    autos.save_pending("delay:b:run-1", {"deadline": T0 + 60.0, "step": 2, "variables": {"x": 1}})
    autos.save_pending("for:a:0", {"deadline": T0 + 300.0, "automation": "a"})  # replaced
    assert autos.load_pending() == {
        "delay:b:run-1": {"deadline": T0 + 60.0, "step": 2, "variables": {"x": 1}},
        "for:a:0": {"deadline": T0 + 300.0, "automation": "a"},
    }
    autos.delete_pending("delay:b:run-1")
    autos.delete_pending("unknown")
    assert list(autos.load_pending()) == ["for:a:0"]


# --------------------------------------------------------------------------- traces
def test_traces_are_newest_first_and_limited(autos: SQLiteAutomationStore) -> None:
    for n in range(5):
        autos.add_trace("a", {"n": n, "ts": T0 + n})
    autos.add_trace("b", {"n": 99})
    assert [t["n"] for t in autos.traces("a")] == [4, 3, 2, 1, 0]
    assert [t["n"] for t in autos.traces("a", limit=2)] == [4, 3]
    assert autos.traces("a", limit=0) == []
    assert autos.traces("nobody") == []
    assert [t["n"] for t in autos.traces("b")] == [99]
    with pytest.raises(ValueError, match="limit"):
        autos.traces("a", limit=-1)


def test_traces_are_pruned_to_the_newest_keep_per_automation(
    autos: SQLiteAutomationStore, store: SQLiteStore
) -> None:
    for n in range(60):
        autos.add_trace("a", {"n": n})
    autos.add_trace("b", {"n": 0})
    assert raw(store, "SELECT COUNT(*) FROM automation_traces WHERE automation_id = 'a'") == [(50,)]
    assert [t["n"] for t in autos.traces("a", limit=100)] == list(range(59, 9, -1))
    autos.add_trace("a", {"n": 60}, keep=3)
    assert [t["n"] for t in autos.traces("a", limit=100)] == [60, 59, 58]
    # another automation's traces are not touched
    assert [t["n"] for t in autos.traces("b")] == [0]
    with pytest.raises(ValueError, match="keep"):
        autos.add_trace("a", {"n": 61}, keep=0)
    assert autos.delete_traces("a") == 3
    assert autos.traces("a") == []


def test_trace_rows_carry_the_traces_own_time(store: SQLiteStore) -> None:
    clock = Clock()
    autos = SQLiteAutomationStore(store, clock=clock)
    autos.add_trace("a", {"started": T0 - 9, "ended": T0 - 8})
    autos.add_trace("a", {"ts": T0 - 5})
    autos.add_trace("a", {"ts": "not a time"})
    autos.add_trace("a", {"started": True})
    rows = raw(store, "SELECT ts FROM automation_traces ORDER BY seq")
    assert rows == [(T0 - 9,), (T0 - 5,), (T0,), (T0,)]


def test_removing_a_document_keeps_its_traces(autos: SQLiteAutomationStore) -> None:
    autos.save_document(DocumentRow("automation", "a", "api", {}))
    autos.add_trace("a", {"n": 1})
    autos.delete_document("automation", "a")
    assert autos.traces("a") == [{"n": 1}]


# --------------------------------------------------------------------------- durability
def test_everything_survives_a_reopen(db: Path) -> None:
    with SQLiteStore(db) as store:
        autos = SQLiteAutomationStore(store)
        autos.save_document(DocumentRow("automation", "a", "automations.yaml", AUTOMATION))
        autos.save_pending("for:a:0", {"deadline": T0})
        for n in range(3):
            autos.add_trace("a", {"n": n}, keep=2)
    with SQLiteStore(db) as store:
        autos = SQLiteAutomationStore(store)
        assert autos.load_documents() == [DocumentRow("automation", "a", "automations.yaml", AUTOMATION)]
        assert autos.load_pending() == {"for:a:0": {"deadline": T0}}
        assert autos.traces("a") == [{"n": 2}, {"n": 1}]
        autos.add_trace("a", {"n": 3}, keep=2)  # numbering continues after the reopen
        assert autos.traces("a") == [{"n": 3}, {"n": 2}]


def test_a_closed_store_is_a_store_error(db: Path) -> None:
    store = SQLiteStore(db)
    autos = SQLiteAutomationStore(store)
    with pytest.raises(StoreError, match="not open"):
        autos.load_documents()
    with pytest.raises(StoreError, match="not open"):
        autos.save_pending("k", {})


def test_upgrade_from_version_3_keeps_data(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, db, target=3)
    conn.execute("INSERT INTO homes VALUES ('home', 'Home', NULL, NULL, 'UTC')")
    conn.execute("INSERT INTO tokens (name, role, hash, created) VALUES ('cli', 'owner', 'abc', ?)", (T0,))
    conn.execute("INSERT INTO history VALUES ('lamp', 2, 2, ?, '41')", (T0,))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not any(t.startswith("automation_") for t in tables)
    conn.close()

    with SQLiteStore(db) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 4
        assert raw(store, "SELECT id, name FROM homes") == [("home", "Home")]
        assert store.history("lamp", 2, 2) == [(T0, 41)]
        assert [t.name for t in list_tokens(store)] == ["cli"]
        issue_token(store, "another", "guest", T0)
        autos = SQLiteAutomationStore(store)
        autos.save_document(DocumentRow("zone", "work", "api", {"radius": 200}))
        autos.add_trace("a", {"n": 1})
        autos.save_pending("k", {})
    with SQLiteStore(db) as store:
        autos = SQLiteAutomationStore(store)
        assert autos.load_documents() == [DocumentRow("zone", "work", "api", {"radius": 200})]
        assert autos.traces("a") == [{"n": 1}]
        assert len(list_tokens(store)) == 2


# --------------------------------------------------------------------------- damaged rows
def test_rows_that_are_not_json_objects_are_skipped_with_a_warning(
    autos: SQLiteAutomationStore, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    autos.save_document(DocumentRow("automation", "good", "api", {"ok": True}))
    autos.save_pending("good", {"ok": True})
    autos.add_trace("a", {"n": 1})
    with store.writing() as conn:
        conn.execute(
            "INSERT INTO automation_documents VALUES ('automation', 'broken', 'api', '{\"id\": ', ?), "
            "('scene', 'listed', 'api', '[1, 2]', ?)",
            (T0, T0),
        )
        conn.execute("INSERT INTO automation_pending VALUES ('broken', 'not json', ?)", (T0,))
        conn.execute("INSERT INTO automation_traces VALUES ('a', 2, ?, '{\"n\": 2')", (T0,))
        conn.execute("INSERT INTO automation_traces VALUES ('a', 3, ?, '{\"n\": 3}')", (T0,))

    with caplog.at_level(logging.WARNING, logger="trilink.store.automation"):
        assert autos.load_documents() == [DocumentRow("automation", "good", "api", {"ok": True})]
        assert autos.load_pending() == {"good": {"ok": True}}
        assert autos.traces("a") == [{"n": 3}, {"n": 1}]
    messages = [r.getMessage() for r in caplog.records]
    assert any("automation 'broken' is not JSON" in m and "skipped" in m for m in messages)
    assert any("scene 'listed' is not a JSON object" in m for m in messages)
    assert any("pending 'broken' is not JSON" in m for m in messages)
    assert any("trace 2 of 'a' is not JSON" in m for m in messages)
    assert all(str(store.path) in m for m in messages)
    # the next trace still numbers after the damaged one
    autos.add_trace("a", {"n": 4})
    assert autos.traces("a", limit=1) == [{"n": 4}]


# --------------------------------------------------------------------------- with the engine
async def test_the_engine_keeps_its_automations_and_traces_across_a_restart(db: Path) -> None:
    from test_api import build_world
    from trilink.automation.engine import AutomationEngine
    from trilink.automation.persist import StoredDocument

    text = (
        "automations:\n"
        "  - id: cool\n"
        "    triggers: [{type: webhook, id: cool-hook-0123456789}]\n"
        "    actions: [{set: {device: ac-living, property: 2.3, value: 23}}]\n"
    )
    world = build_world()
    with SQLiteStore(db) as store:
        engine = AutomationEngine(world.kernel, SQLiteAutomationStore(store, document=StoredDocument))
        await engine.start()
        try:
            assert engine.load_yaml(text, "automations.yaml").loaded == ["cool"]
            engine.set_enabled("cool", False)
            engine.set_enabled("cool", True)
            assert engine.webhook("cool-hook-0123456789", {"n": 1}) == 1
            await wait_until(lambda: bool(engine.traces("cool")), what="the run's trace")
            await wait_until(
                lambda: engine.traces("cool")[0].get("outcome") is not None, what="the run's end"
            )
        finally:
            await engine.stop()

    world = build_world()
    with SQLiteStore(db) as store:
        engine = AutomationEngine(world.kernel, SQLiteAutomationStore(store, document=StoredDocument))
        await engine.start()
        try:
            [info] = engine.automations()
            assert (info.id, info.source, info.enabled) == ("cool", "automations.yaml", True)
            assert engine.definition("cool")["triggers"] == [
                {"type": "webhook", "id": "cool-hook-0123456789"}
            ]
            [trace] = engine.traces("cool")
            assert trace["outcome"] == "finished" and trace["trigger"]["values"]["payload"] == {"n": 1}
            assert engine.webhook("cool-hook-0123456789", {}) == 1
        finally:
            await engine.stop()
