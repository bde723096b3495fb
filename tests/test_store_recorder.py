"""The store recorder: kernel events reach the database in batches, survive failures and restarts."""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import wait_until
from trilink.clock import ManualClock
from trilink.kernel import SYSTEM, Device, Floor, Home, Kernel, PropertyChanged, Room
from trilink.model import builtin_spec
from trilink.store import SQLiteStore, StoreError, StoreRecorder
from trilink.store.recorder import PRUNE_INTERVAL

T0 = 1_800_000_000.0
LIGHT = builtin_spec("trilink.light.sim1")


def lamp(did: str, room: str | None = None) -> Device:
    return Device(did, did.title(), "trilink.light.sim1", LIGHT, "mqtt", home_id="home", room_id=room)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "trilink.db"


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(db) as s:
        yield s


@pytest.fixture
def kernel() -> Kernel:
    k = Kernel(clock=ManualClock(T0))
    k.add_home(Home("home", "Home"))
    return k


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "trilink-store-writer"]


def test_twenty_thousand_changes_are_all_readable_after_flush(kernel: Kernel, store: SQLiteStore) -> None:
    dids = [f"lamp-{n}" for n in range(50)]
    for did in dids:
        kernel.add_device(lamp(did))
    recorder = StoreRecorder(kernel, store, flush_interval=0.05, max_batch=5000)
    recorder.start()
    try:
        for i in range(400):
            for did in dids:
                assert kernel.report(did, 2, 2, i % 100 + 1, ts=T0 + i)
        recorder.flush(timeout=30)
        stats = recorder.stats
        assert stats["queued"] == 0 and stats["errors"] == 0
        assert stats["written"] >= 20_000 and stats["batches"] >= 4
        for did in dids:
            assert store.history(did, 2, 2) == [(T0 + i, i % 100 + 1) for i in range(400)]
            assert store.last_state(did) == kernel.state.of(did)
    finally:
        recorder.stop()


def test_registry_changes_survive_a_restart(kernel: Kernel, db: Path) -> None:
    store = SQLiteStore(db).open()
    kernel.add_room(Room("hall", "home", "Hall"))  # before the recorder starts: saved by its snapshot
    recorder = StoreRecorder(kernel, store, flush_interval=0.05)
    recorder.start()
    kernel.add_room(Room("kitchen", "home", "Kitchen", ("cuisine",)))
    kernel.add_floor(Floor("upper", "home", "Upstairs", level=1))
    kernel.add_floor(Floor("attic", "home", "Attic", level=2))
    kernel.add_room(Room("bedroom", "home", "Bedroom", floor_id="upper"))
    kernel.add_room(Room("loft", "home", "Loft", floor_id="attic"))
    kernel.remove_floor("attic")
    kernel.add_device(lamp("lamp-1", "kitchen"))
    kernel.add_device(lamp("lamp-2", "kitchen"))
    kernel.report("lamp-1", 2, 1, True)
    kernel.report("lamp-2", 2, 1, True)
    kernel.move_device("lamp-1", "bedroom")
    kernel.rename_device("lamp-1", "Bedside lamp")
    kernel.remove_device("lamp-2")
    kernel.adopt(
        "car-1", model="trilink.car.sim1", name="Car", spec=builtin_spec("trilink.car.sim1"),
        transport="mqtt", owner="ana", kind="car",
    )  # fmt: skip
    kernel.report("car-1", 5, 2, 21.5)
    recorder.flush()
    recorder.stop()
    store.close()

    fresh = Kernel()
    with SQLiteStore(db) as reopened:
        stats = reopened.load_into(fresh)
        assert reopened.history("lamp-2", 2, 1) == []
    assert stats.skipped == stats.skipped_readings == 0
    assert fresh.registry.homes == kernel.registry.homes
    assert fresh.registry.floors == kernel.registry.floors and set(fresh.registry.floors) == {"upper"}
    assert fresh.registry.rooms == kernel.registry.rooms
    assert (
        fresh.registry.rooms["bedroom"].floor_id == "upper" and fresh.registry.rooms["loft"].floor_id is None
    )
    assert fresh.registry.people == kernel.registry.people
    assert fresh.registry.devices == kernel.registry.devices
    assert set(fresh.registry.devices) == {"lamp-1", "car-1"}
    assert fresh.registry.devices["lamp-1"].room_id == "bedroom"
    assert fresh.registry.devices["lamp-1"].name == "Bedside lamp"
    assert fresh.registry.people["ana"].car_did == "car-1"
    assert fresh.state.values == kernel.state.values


def test_stop_ends_the_thread_and_unsubscribes(kernel: Kernel, store: SQLiteStore) -> None:
    kernel.add_device(lamp("lamp-1"))
    recorder = StoreRecorder(kernel, store)
    recorder.flush()  # not running and nothing queued: nothing to wait for
    recorder.stop()  # not running: nothing to do
    recorder.start()
    assert len(writer_threads()) == 1
    with pytest.raises(RuntimeError, match="already running"):
        recorder.start()
    kernel.report("lamp-1", 2, 2, 10)
    recorder.stop()
    assert writer_threads() == []
    assert store.last_state("lamp-1") == kernel.state.of("lamp-1")  # stop wrote what was queued

    kernel.report("lamp-1", 2, 2, 11)  # after stop: not recorded, not queued
    assert recorder.stats["queued"] == 0
    assert store.last_state("lamp-1")[(2, 2)][0] == 10

    recorder.start()  # a stopped recorder can start again
    kernel.report("lamp-1", 2, 2, 12)
    recorder.stop()
    assert writer_threads() == []
    assert store.last_state("lamp-1")[(2, 2)][0] == 12


async def test_locked_database_is_retried_until_it_is_free(kernel: Kernel, db: Path) -> None:
    kernel.add_device(lamp("lamp-1"))
    with SQLiteStore(db, busy_timeout=0.01) as store:
        recorder = StoreRecorder(kernel, store, flush_interval=0.01)
        recorder.start()
        # another process (a backup tool, the sqlite3 shell) holds the write lock
        blocker = sqlite3.connect(db, isolation_level=None)
        try:
            recorder.flush()
            blocker.execute("BEGIN IMMEDIATE")
            for i in range(1, 101):
                kernel.report("lamp-1", 2, 2, i, ts=T0 + i)
            await wait_until(lambda: recorder.stats["errors"] >= 2, what="failed writes")
            with pytest.raises(StoreError, match="not written within"):
                recorder.flush(timeout=0.05)
            assert recorder.stats["queued"] == 100
            blocker.execute("ROLLBACK")
            recorder.flush()
        finally:
            blocker.close()
            recorder.stop()
        assert recorder.stats["queued"] == 0 and recorder.stats["lost"] == 0
        assert store.history("lamp-1", 2, 2) == [(T0 + i, i) for i in range(1, 101)]


def test_failed_batch_is_retried_as_it_was(
    kernel: Kernel, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[Any]] = []
    real = store.write_batch

    def flaky(items: Any) -> None:
        calls.append(list(items))
        if len(calls) <= 3:
            raise StoreError(f"{store.path}: write failed: disk I/O error")
        real(items)

    monkeypatch.setattr(store, "write_batch", flaky)
    kernel.add_device(lamp("lamp-1"))
    recorder = StoreRecorder(kernel, store, flush_interval=0.01)
    recorder.start()
    try:
        for i in range(1, 11):
            kernel.report("lamp-1", 2, 2, i, ts=T0 + i)
        recorder.flush()
    finally:
        recorder.stop()
    assert recorder.stats["errors"] == 3
    assert calls[0] == calls[1] == calls[2] == calls[3]
    assert store.history("lamp-1", 2, 2) == [(T0 + i, i) for i in range(1, 11)]


def test_persistent_failure_is_reported_at_stop(
    kernel: Kernel, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(items: Any) -> None:
        raise StoreError(f"{store.path}: write failed: disk full")

    monkeypatch.setattr(store, "write_batch", broken)
    recorder = StoreRecorder(kernel, store, flush_interval=0.01)
    recorder.start()
    for i in range(10):
        kernel.bus.publish(PropertyChanged("d", 2, 2, i, None, T0 + i, SYSTEM))
    with pytest.raises(StoreError, match="disk full"):
        recorder.flush(timeout=0.05)
    with caplog.at_level(logging.ERROR):
        recorder.stop(timeout=0.05)
    assert writer_threads() == []
    assert recorder.stats["lost"] == 11  # the ten changes and the home of the snapshot
    assert recorder.stats["errors"] >= 1
    assert "could not write" in caplog.text


async def test_unstorable_change_is_set_aside_and_the_rest_written(
    kernel: Kernel, store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = StoreRecorder(kernel, store, flush_interval=0.01)
    recorder.start()
    try:
        kernel.bus.publish(PropertyChanged("d", 2, 2, 1.5, None, T0, SYSTEM))
        kernel.bus.publish(PropertyChanged("weird", 3, 4, math.nan, None, T0 + 1, SYSTEM))
        kernel.bus.publish(PropertyChanged("d", 2, 2, 2.5, None, T0 + 2, SYSTEM))
        recorder.flush()
    finally:
        recorder.stop()
    assert recorder.stats["rejected"] == 1 and recorder.stats["errors"] == 0
    assert store.history("d", 2, 2) == [(T0, 1.5), (T0 + 2, 2.5)]
    assert store.last_state("weird") == {}
    assert "weird siid 3 piid 4" in caplog.text


async def test_history_is_pruned_every_ten_minutes_of_clock_time(db: Path) -> None:
    clock = ManualClock(T0)
    kernel = Kernel(clock=clock)
    with SQLiteStore(db, history_retention=3600) as store:
        old = PropertyChanged("d", 2, 2, 1, None, T0 - 7200, SYSTEM)
        store.write_changes([old])
        recorder = StoreRecorder(kernel, store, flush_interval=0.01)
        recorder.start()
        try:
            await wait_until(lambda: recorder.stats["pruned"] == 1, what="the prune at start")
            store.write_changes([PropertyChanged("d", 2, 2, 2, None, T0 - 4000, SYSTEM)])
            # two flushes: the writer has passed its prune check at least once since the write
            recorder.flush()
            recorder.flush()
            assert recorder.stats["pruned"] == 1
            await clock.advance(PRUNE_INTERVAL)
            await wait_until(lambda: recorder.stats["pruned"] == 2, what="the prune ten minutes later")
            assert store.history("d", 2, 2) == []
        finally:
            recorder.stop()


def test_settings_are_checked(kernel: Kernel, store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        StoreRecorder(kernel, store, flush_interval=0)
    with pytest.raises(ValueError, match="max_batch"):
        StoreRecorder(kernel, store, max_batch=0)
