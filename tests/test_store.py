"""The SQLite store: restart, exact values, history, retention, schema upgrades, bad files, tokens."""

from __future__ import annotations

import hashlib
import math
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trilink.kernel import SYSTEM, Device, Floor, Home, Kernel, Person, PropertyChanged, Room
from trilink.model import builtin_spec
from trilink.store import (
    SCHEMA_VERSION,
    SQLiteStore,
    StoreError,
    TokenRecord,
    UnstorableValue,
    has_tokens,
    issue_token,
    list_tokens,
    revoke_token,
    verify_token,
)
from trilink.store import sqlite as store_sqlite
from trilink.store.migrations import APPLICATION_ID, migrate

T0 = 1_800_000_000.0


def change(did: str, siid: int, piid: int, value: Any, ts: float) -> PropertyChanged:
    return PropertyChanged(did, siid, piid, value, None, ts, SYSTEM)


def build_kernel() -> Kernel:
    """A small world: one home, a floor, two rooms, a person with a car and a phone, a lamp, a car."""
    kernel = Kernel()
    kernel.add_home(Home("home", "Home", 52.52, 13.405, "Europe/Berlin"))
    kernel.add_floor(Floor("ground", "home", "Ground floor", ("downstairs",), level=0))
    kernel.add_room(Room("living", "home", "Living room", ("lounge", "salon"), floor_id="ground"))
    kernel.add_room(Room("garage", "home", "Garage"))
    kernel.add_person(Person("ana", "home", "Ana", phone_did="phone-1", car_did="car-1", role="owner"))
    kernel.add_device(
        Device(
            "lamp-1",
            "Floor lamp",
            "trilink.light.sim1",
            builtin_spec("trilink.light.sim1"),
            "mqtt",
            home_id="home",
            room_id="living",
            aliases=("big lamp",),
        )
    )
    kernel.add_device(
        Device(
            "car-1",
            "Ana's car",
            "trilink.car.sim1",
            builtin_spec("trilink.car.sim1"),
            "mqtt",
            home_id="home",
            room_id="garage",
            owner_id="ana",
            extra={"vin": "WVW000", "nested": {"a": [1, 2.5, True]}},
        )
    )
    kernel.report("lamp-1", 2, 1, True, ts=T0)
    kernel.report("lamp-1", 2, 2, 80, ts=T0 + 1)
    kernel.report("car-1", 5, 2, 24.0, ts=T0 + 2)  # a float that looks whole
    kernel.report("car-1", 3, 3, 80, ts=T0 + 3)
    kernel.report("car-1", 6, 1, False, ts=T0 + 4)
    return kernel


def save_all(store: SQLiteStore, kernel: Kernel) -> None:
    reg = kernel.registry
    for home in reg.homes.values():
        store.save_home(home)
    for floor in reg.floors.values():
        store.save_floor(floor)
    for room in reg.rooms.values():
        store.save_room(room)
    for person in reg.people.values():
        store.save_person(person)
    for device in reg.devices.values():
        store.save_device(device)
    store.write_changes(
        [
            change(did, siid, piid, value, ts)
            for did, readings in kernel.state.values.items()
            for (siid, piid), (value, ts) in readings.items()
        ]
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "trilink.db"


@pytest.fixture
def store(db: Path) -> Any:
    with SQLiteStore(db) as s:
        yield s


# --------------------------------------------------------------------------- restart


def test_restart_brings_back_registry_and_last_state(db: Path) -> None:
    kernel = build_kernel()
    with SQLiteStore(db) as store:
        save_all(store, kernel)
    assert db.exists()

    fresh = Kernel()
    with SQLiteStore(db) as store:
        stats = store.load_into(fresh)

    assert (stats.homes, stats.floors, stats.rooms, stats.people, stats.devices, stats.readings) == (
        1,
        1,
        2,
        1,
        2,
        5,
    )
    assert stats.skipped == stats.skipped_readings == 0
    assert fresh.registry.homes == kernel.registry.homes
    assert fresh.registry.floors == kernel.registry.floors
    assert fresh.registry.rooms == kernel.registry.rooms
    assert fresh.registry.rooms["living"].floor_id == "ground"
    assert fresh.registry.people == kernel.registry.people
    assert fresh.registry.devices == kernel.registry.devices
    assert fresh.registry.devices["car-1"].spec == builtin_spec("trilink.car.sim1")
    assert fresh.state.values == kernel.state.values
    temp = fresh.state.get("car-1", 5, 2)
    assert temp is not None and type(temp[0]) is float
    # availability is not restored: devices wait for their transport to say they are there
    assert fresh.state.online == {}
    assert not fresh.state.is_online("lamp-1")
    # a restored device accepts reports as before
    assert fresh.report("lamp-1", 2, 2, 81)


def test_open_sets_wal_and_creates_parent_dirs(db: Path) -> None:
    assert not db.parent.exists()
    with SQLiteStore(db) as store:
        assert store.is_open
        assert store.schema_version() == SCHEMA_VERSION
        with store.reading() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert not store.is_open
    with pytest.raises(StoreError, match="not open"):
        store.last_state("lamp-1")


def test_reader_connection_cannot_write(store: SQLiteStore) -> None:
    with pytest.raises(StoreError, match="read failed"), store.reading() as conn:
        conn.execute("DELETE FROM homes")


def test_delete_entities(store: SQLiteStore) -> None:
    kernel = build_kernel()
    save_all(store, kernel)
    store.delete_device("lamp-1")
    store.delete_room("garage")
    store.delete_person("ana")
    assert store.last_state("lamp-1") == {}
    assert store.history("lamp-1", 2, 2) == []
    assert store.last_state("car-1") != {}

    fresh = Kernel()
    stats = store.load_into(fresh)
    assert set(fresh.registry.devices) == {"car-1"}
    assert set(fresh.registry.rooms) == {"living"}
    assert fresh.registry.people == {}
    # the car's room is gone: the car is kept, in no room
    assert fresh.registry.devices["car-1"].room_id is None
    assert stats.devices == 1 and stats.skipped == 0


def test_load_skips_rows_that_no_longer_make_sense(store: SQLiteStore, caplog: Any) -> None:
    kernel = build_kernel()
    save_all(store, kernel)
    with store.writing() as conn:
        conn.execute("UPDATE devices SET spec = ? WHERE did = 'lamp-1'", ('{"type": 42}',))
        conn.execute("INSERT INTO rooms VALUES ('attic', 'nowhere', 'Attic', '[]', NULL)")
        conn.execute("UPDATE state SET value = '\"hot\"' WHERE did = 'car-1' AND siid = 5 AND piid = 2")
        conn.execute("INSERT INTO state VALUES ('car-1', 99, 1, '1', 0)")
        conn.execute("UPDATE state SET value = 'not json' WHERE did = 'car-1' AND siid = 6 AND piid = 1")

    fresh = Kernel()
    stats = store.load_into(fresh)
    assert set(fresh.registry.devices) == {"car-1"}
    assert "attic" not in fresh.registry.rooms
    assert stats.skipped == 2  # the lamp (bad spec) and the attic (home gone)
    # car: target temperature refused by the spec, unknown (99, 1), bad JSON; lamp's two readings
    assert stats.skipped_readings == 5
    assert fresh.state.get("car-1", 3, 3) == (80, T0 + 3)
    assert fresh.state.get("car-1", 5, 2) is None
    assert "lamp-1" in caplog.text and "attic" in caplog.text


# ------------------------------------------------------------------------ exact values

VALUES = [24.0, 24, True, 1, False, 0, "24", "", "héllo ✓", -0.0, 0.1, 1e-300, 2**63 - 1, -(2**63), None]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_values_round_trip_with_their_type(store: SQLiteStore, value: Any) -> None:
    store.write_changes([change("d", 2, 1, value, T0)])
    stored, ts = store.last_state("d")[(2, 1)]
    assert type(stored) is type(value)
    assert stored == value or (stored is None and value is None)
    if isinstance(value, float):
        assert math.copysign(1, stored) == math.copysign(1, value)
    assert ts == T0
    [(hts, hvalue)] = store.history("d", 2, 1)
    assert hts == T0 and type(hvalue) is type(value) and hvalue == value


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(scalars, min_size=1, max_size=20))
def test_any_scalar_round_trips_exactly(store: SQLiteStore, values: list[Any]) -> None:
    with store.writing() as conn:
        conn.execute("DELETE FROM history")
    store.write_changes([change("h", 1, 1, v, T0 + i) for i, v in enumerate(values)])
    back = [v for _, v in store.history("h", 1, 1)]
    assert [(type(v), v) for v in back] == [(type(v), v) for v in values]
    assert store.last_state("h")[(1, 1)] == (values[-1], T0 + len(values) - 1)


@pytest.mark.parametrize(
    "bad", [math.nan, math.inf, -math.inf, 2**64, object(), b"bytes", [1, 2], {"a": 1}], ids=repr
)
def test_unstorable_value_is_refused_and_nothing_of_the_batch_is_written(
    store: SQLiteStore, bad: Any
) -> None:
    batch = [change("good", 2, 1, 1, T0), change("bad", 3, 4, bad, T0)]
    with pytest.raises(UnstorableValue, match="bad siid 3 piid 4") as info:
        store.write_changes(batch)
    assert info.value.index == 1 and info.value.item is batch[1]
    assert str(store.path) in str(info.value)
    assert store.last_state("good") == {}
    assert store.history("good", 2, 1) == []


def test_device_with_unencodable_extra_is_refused(store: SQLiteStore) -> None:
    spec = builtin_spec("trilink.light.sim1")
    device = Device("odd", "Odd", "trilink.light.sim1", spec, "mqtt", extra={"when": object()})
    with pytest.raises(UnstorableValue, match="device odd"):
        store.save_device(device)
    fresh = Kernel()
    assert store.load_into(fresh).devices == 0


def test_last_change_of_a_batch_wins(store: SQLiteStore) -> None:
    # the order of changes decides the last state, even when a device reports an older timestamp
    store.write_changes([change("d", 2, 2, v, T0 + v) for v in (1, 5, 3)])
    assert store.last_state("d") == {(2, 2): (3, T0 + 3)}
    assert store.history("d", 2, 2) == [(T0 + 1, 1), (T0 + 3, 3), (T0 + 5, 5)]  # history is by time


# ----------------------------------------------------------------------------- history


def test_history_ranges_and_limit(store: SQLiteStore) -> None:
    store.write_changes([change("d", 2, 2, i, T0 + i) for i in range(100)])
    store.write_changes([change("d", 2, 3, -i, T0 + i) for i in range(10)])  # another series
    store.write_changes([change("other", 2, 2, 7, T0 + i) for i in range(10)])

    everything = store.history("d", 2, 2)
    assert everything == [(T0 + i, i) for i in range(100)]
    assert store.history("d", 2, 2, since=T0 + 90) == [(T0 + i, i) for i in range(90, 100)]
    assert store.history("d", 2, 2, until=T0 + 3) == [(T0 + i, i) for i in range(3)]  # until is exclusive
    assert store.history("d", 2, 2, since=T0 + 10, until=T0 + 20) == [(T0 + i, i) for i in range(10, 20)]
    # more rows than the limit: the newest, still oldest first
    assert store.history("d", 2, 2, limit=5) == [(T0 + i, i) for i in range(95, 100)]
    assert store.history("d", 2, 2, since=T0 + 10, until=T0 + 20, limit=3) == [
        (T0 + i, i) for i in range(17, 20)
    ]
    assert store.history("d", 2, 2, limit=0) == []
    assert store.history("d", 2, 2, since=T0 + 1000) == []
    assert store.history("nobody", 2, 2) == []
    with pytest.raises(ValueError, match="limit"):
        store.history("d", 2, 2, limit=-1)


def test_history_keeps_the_order_of_equal_timestamps(store: SQLiteStore) -> None:
    store.write_changes([change("d", 2, 2, v, T0) for v in (3, 1, 2)])
    store.write_changes([change("d", 2, 2, 9, T0)])
    assert store.history("d", 2, 2) == [(T0, 3), (T0, 1), (T0, 2), (T0, 9)]
    assert store.history("d", 2, 2, limit=2) == [(T0, 2), (T0, 9)]


def test_prune_history_by_retention(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_sqlite, "PRUNE_CHUNK", 7)  # several chunks
    with SQLiteStore(db, history_retention=100) as store:
        store.write_changes([change("d", 2, 2, i, float(i)) for i in range(200)])
        assert store.prune_history(now=250.0) == 150
        assert [ts for ts, _ in store.history("d", 2, 2)] == [float(i) for i in range(150, 200)]
        assert store.prune_history(now=250.0) == 0
        # the last state is not history: it stays
        assert store.last_state("d") == {(2, 2): (199, 199.0)}


def test_retention_must_be_positive(db: Path) -> None:
    with pytest.raises(ValueError, match="history_retention"):
        SQLiteStore(db, history_retention=0)


# --------------------------------------------------------------------------- migrations


def test_upgrade_from_version_1_keeps_data(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, db, target=1) == 0
    spec_json = (Path(__file__).parents[1] / "src/trilink/model/specs/trilink.light.sim1.json").read_text()
    conn.execute("INSERT INTO homes VALUES ('home', 'Home', NULL, NULL, 'UTC')")
    conn.execute("INSERT INTO rooms VALUES ('hall', 'home', 'Hall', '[\"entry\"]')")
    conn.execute(
        "INSERT INTO devices VALUES ('lamp', 'Lamp', 'trilink.light.sim1', 'mqtt', 'home', 'hall', NULL, "
        "'[]', '{}', ?)",
        (spec_json,),
    )
    conn.execute("INSERT INTO state VALUES ('lamp', 2, 2, '42', ?)", (T0,))
    conn.execute("INSERT INTO history VALUES ('lamp', 2, 2, ?, '41'), ('lamp', 2, 2, ?, '42')", (T0 - 1, T0))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'tokens'").fetchone() is None
    conn.close()

    with SQLiteStore(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        with store.reading() as read:
            names = {r[0] for r in read.execute("SELECT name FROM sqlite_master")}
        assert {"history_ts", "tokens"} <= names
        fresh = Kernel()
        stats = store.load_into(fresh)
        assert stats.devices == 1 and stats.readings == 1
        assert fresh.registry.devices["lamp"].spec == builtin_spec("trilink.light.sim1")
        assert fresh.registry.rooms["hall"].aliases == ("entry",)
        assert fresh.state.get("lamp", 2, 2) == (42, T0)
        assert store.history("lamp", 2, 2) == [(T0 - 1, 41), (T0, 42)]
        issue_token(store, "cli", "owner", T0)  # the table added by a later step works

    # opening again applies nothing and loses nothing
    with SQLiteStore(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert len(list_tokens(store)) == 1


def test_upgrade_from_version_4_keeps_rooms_and_adds_floors(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, db, target=4)
    conn.execute("INSERT INTO homes VALUES ('home', 'Home', NULL, NULL, 'UTC')")
    conn.execute("INSERT INTO rooms VALUES ('hall', 'home', 'Hall', '[\"entry\"]')")
    conn.execute("INSERT INTO rooms VALUES ('loft', 'home', 'Loft', '[]')")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'floors'").fetchone() is None
    conn.close()

    with SQLiteStore(db) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 5
        fresh = Kernel()
        stats = store.load_into(fresh)
        assert (stats.floors, stats.rooms, stats.skipped) == (0, 2, 0)
        assert fresh.registry.rooms["hall"] == Room("hall", "home", "Hall", ("entry",))
        assert fresh.registry.rooms["loft"].floor_id is None
        # the upgraded file takes floors and rooms on them
        store.save_floor(Floor("upper", "home", "Upstairs", level=1))
        store.save_room(Room("loft", "home", "Loft", floor_id="upper"))
    with SQLiteStore(db) as store:
        fresh = Kernel()
        stats = store.load_into(fresh)
        assert stats.floors == 1 and fresh.registry.floors["upper"].level == 1
        assert fresh.registry.rooms["loft"].floor_id == "upper"
        assert [r.id for r in fresh.registry.rooms_on("upper")] == ["loft"]


def test_a_room_whose_floor_is_gone_is_kept_on_no_floor(db: Path) -> None:
    with SQLiteStore(db) as store:
        store.save_home(Home("home", "Home"))
        store.save_floor(Floor("f1", "home", "First"))
        store.save_room(Room("study", "home", "Study", floor_id="f1"))
        store.delete_floor("f1")
        with store.writing() as conn:  # a floor row another program broke
            conn.execute("INSERT INTO floors VALUES ('bad', 'home', 'Bad', '{}', NULL)")
            conn.execute("INSERT INTO floors VALUES ('lvl', 'home', 'Lvl', '[]', 'two')")
        fresh = Kernel()
        stats = store.load_into(fresh)
    assert fresh.registry.rooms["study"].floor_id is None
    assert fresh.registry.floors == {}
    assert (stats.floors, stats.rooms, stats.skipped) == (0, 1, 2)


def test_migrate_rejects_an_unknown_target(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        with pytest.raises(ValueError, match="target schema version"):
            migrate(conn, db, target=SCHEMA_VERSION + 1)
    finally:
        conn.close()


def test_newer_schema_is_refused_and_left_alone(db: Path) -> None:
    with SQLiteStore(db):
        pass
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(StoreError) as info:
        SQLiteStore(db).open()
    message = str(info.value)
    assert str(db) in message and "newer" in message and str(SCHEMA_VERSION + 1) in message
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


# ---------------------------------------------------------------------------- bad files


def test_garbage_file_is_a_clear_error(db: Path) -> None:
    db.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    store = SQLiteStore(db)
    with pytest.raises(StoreError) as info:
        store.open()
    assert str(db) in str(info.value) and "not a SQLite database" in str(info.value)
    assert not store.is_open
    assert db.read_bytes() == garbage  # nothing written over it
    with pytest.raises(StoreError, match="not open"):
        store.write_changes([change("d", 1, 1, 1, T0)])


def test_another_programs_database_is_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"not a trilink database .*invoices"):
        SQLiteStore(db).open()

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()
    with pytest.raises(StoreError, match="application id 0x4d2"):
        SQLiteStore(db).open()


def test_unusable_paths_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "a-dir").mkdir()
    with pytest.raises(StoreError, match=re.escape(str(tmp_path / "a-dir"))):
        SQLiteStore(tmp_path / "a-dir").open()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(StoreError, match="cannot create its directory"):
        SQLiteStore(tmp_path / "a-file" / "trilink.db").open()


# -------------------------------------------------------------------------- concurrency


def test_reads_run_while_another_thread_writes(store: SQLiteStore) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for batch in range(50):
                store.write_changes(
                    [change("d", 2, 2, batch * 100 + i, T0 + batch * 100 + i) for i in range(100)]
                )
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    writer = threading.Thread(target=write, name="test-writer")
    writer.start()
    seen = 0
    while writer.is_alive():
        rows = store.history("d", 2, 2)
        # a reader sees whole transactions only, and never goes back
        assert len(rows) % 100 == 0 and len(rows) >= seen
        seen = len(rows)
    writer.join()
    assert not errors
    assert len(store.history("d", 2, 2)) == 5000


def test_backup_while_open_is_a_complete_database(store: SQLiteStore, tmp_path: Path) -> None:
    kernel = build_kernel()
    save_all(store, kernel)
    copy = tmp_path / "backup" / "copy.db"
    copy.parent.mkdir()
    store.backup(copy)
    store.write_changes([change("lamp-1", 2, 2, 99, T0 + 50)])  # after the backup: not in it
    with SQLiteStore(copy) as restored:
        fresh = Kernel()
        restored.load_into(fresh)
        assert fresh.registry.devices == kernel.registry.devices
        assert fresh.state.values == kernel.state.values
    with pytest.raises(StoreError, match="cannot open the backup file"):
        store.backup(tmp_path / "missing-dir" / "copy.db")


# ------------------------------------------------------------------------------- tokens


def test_token_issue_verify_revoke(store: SQLiteStore, db: Path) -> None:
    assert not has_tokens(store)
    plaintext = issue_token(store, "phone app", "member", now=T0)
    assert plaintext.startswith("tl_") and len(plaintext) == 46
    assert has_tokens(store)

    with store.reading() as conn:
        (stored,) = conn.execute("SELECT hash FROM tokens").fetchone()
    assert stored == hashlib.sha256(plaintext.encode()).hexdigest()
    store.close()
    raw = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.name.startswith(db.name))
    assert plaintext.encode() not in raw  # only the digest ever reaches the disk
    store.open()

    record = verify_token(store, plaintext, now=T0 + 10)
    assert isinstance(record, TokenRecord)
    assert (record.name, record.role, record.created, record.last_used) == (
        "phone app",
        "member",
        T0,
        T0 + 10,
    )
    # last_used is written at most once a minute
    assert verify_token(store, plaintext, now=T0 + 20) == record
    later = verify_token(store, plaintext, now=T0 + 100)
    assert later is not None and later.last_used == T0 + 100
    assert list_tokens(store) == [later]

    assert revoke_token(store, record.id)
    assert not revoke_token(store, record.id)
    assert not revoke_token(store, 9999)
    assert not revoke_token(store, "not-an-id")
    assert verify_token(store, plaintext) is None
    assert list_tokens(store) == []
    assert [t.revoked for t in list_tokens(store, include_revoked=True)] == [True]
    assert not has_tokens(store)


def test_tokens_are_distinct_and_verify_to_their_own_record(store: SQLiteStore) -> None:
    owner = issue_token(store, "cli", "owner", T0)
    guest = issue_token(store, "visitor", "guest", T0)
    assert owner != guest
    a, b = verify_token(store, owner), verify_token(store, guest)
    assert a is not None and b is not None
    assert (a.role, b.role) == ("owner", "guest") and a.id != b.id
    assert revoke_token(store, str(b.id))  # ids typed on a command line work too
    assert verify_token(store, guest) is None and verify_token(store, owner) is not None


@pytest.mark.parametrize(
    "garbage",
    ["", "tl_", "x" * 46, "tl_" + "!" * 43, "tl_" + "é" * 43, "Bearer tl_abc", "tl_" + "A" * 43, "\x00" * 46],
)
def test_garbage_tokens_do_not_verify(store: SQLiteStore, garbage: str) -> None:
    issue_token(store, "cli", "owner", T0)
    assert verify_token(store, garbage) is None


def test_non_string_and_near_miss_tokens_do_not_verify(store: SQLiteStore) -> None:
    plaintext = issue_token(store, "cli", "owner", T0)
    flipped = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    for candidate in (None, 123, b"tl_", [plaintext], flipped, plaintext + " ", " " + plaintext[1:]):
        assert verify_token(store, candidate) is None  # type: ignore[arg-type]
    assert verify_token(store, plaintext) is not None


def test_token_roles_and_names_are_checked(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match=r"'admin'.*owner, member, guest"):
        issue_token(store, "x", "admin", T0)
    with pytest.raises(ValueError, match="name"):
        issue_token(store, "  ", "guest", T0)
    assert not has_tokens(store)


def test_devices_of_one_model_share_one_parsed_spec(tmp_path: Path) -> None:
    """Start-up with thousands of devices depends on parsing each distinct spec once."""
    from trilink.kernel import Device, Home, Kernel
    from trilink.model import builtin_spec

    with SQLiteStore(tmp_path / "shared.db") as store:
        store.save_home(Home("home", "Home"))
        for i in range(5):
            store.save_device(
                Device(f"l{i}", f"Lamp {i}", "trilink.light.sim1", builtin_spec("trilink.light.sim1"), "mqtt")
            )
        store.save_device(Device("car", "Car", "trilink.car.sim1", builtin_spec("trilink.car.sim1"), "mqtt"))
        kernel = Kernel()
        store.load_into(kernel)
    lamps = [kernel.registry.devices[f"l{i}"].spec for i in range(5)]
    assert all(spec is lamps[0] for spec in lamps)
    assert kernel.registry.devices["car"].spec is not lamps[0]
    assert lamps[0] == builtin_spec("trilink.light.sim1")
