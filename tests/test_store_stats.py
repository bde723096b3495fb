"""Downsampled statistics: exact against a brute-force computation, on SQLite and PostgreSQL alike.

Every test taking ``series`` runs against both backends of :class:`SeriesStore`; the
PostgreSQL ones fail (never skip) when the server is not reachable, see
tests/test_store_postgres.py.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_store_postgres import postgres_store
from trilink.clock import ManualClock
from trilink.kernel import SYSTEM, Device, Home, Kernel, PropertyChanged
from trilink.model import builtin_spec
from trilink.store import SCHEMA_VERSION, SQLiteStore, StoreRecorder
from trilink.store.migrations import migrate
from trilink.store.postgres import PostgresSeriesStore
from trilink.store.sqlite import Removal
from trilink.store.stats import PERIODS, Sample, SeriesStore, StatRow, bucket_start

T0 = 1_800_000_000.0  # a multiple of 3600
DAY = 86400.0
Factory = Callable[..., SeriesStore]


@pytest.fixture(params=["sqlite", "postgres"])
def make_series(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Opens a fresh store of the parametrised backend with the given retentions."""
    stack: list[AbstractContextManager[Any]] = []
    counter = itertools.count()

    def make(**kwargs: Any) -> SeriesStore:
        cm: AbstractContextManager[Any]
        if request.param == "sqlite":
            cm = SQLiteStore(tmp_path / f"s{next(counter)}.db", **kwargs)
        else:
            cm = postgres_store(**kwargs)
        store = cm.__enter__()
        stack.append(cm)
        return store  # type: ignore[no-any-return]

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def series(make_series: Factory) -> SeriesStore:
    return make_series()


def clear_stats(store: SeriesStore) -> None:
    """Forget every bucket (raw history stays)."""
    assert isinstance(store, SQLiteStore | PostgresSeriesStore)
    with store.writing() as conn:
        for name in PERIODS:
            if isinstance(store, SQLiteStore):
                conn.execute(f"DELETE FROM stats_{name}")
            else:
                conn.execute(f'DELETE FROM "{store.schema}".stats_{name}')


def brute_force(samples: list[Sample], period: str) -> dict[tuple[str, int, int], list[StatRow]]:
    """Statistics computed the slow, obvious way."""
    seconds = PERIODS[period]
    groups: dict[tuple[str, int, int, int], list[float]] = {}
    for s in samples:
        if type(s.value) not in (int, float):
            continue
        start = int(s.ts // seconds) * seconds  # the definition: floor(ts / period) * period
        groups.setdefault((s.did, s.siid, s.piid, start), []).append(float(s.value))
    out: dict[tuple[str, int, int], list[StatRow]] = {}
    for (did, siid, piid, start), values in sorted(groups.items()):
        row = StatRow(start, min(values), math.fsum(values) / len(values), max(values), len(values))
        out.setdefault((did, siid, piid), []).append(row)
    return out


def assert_rows_match(got: list[StatRow], want: list[StatRow]) -> None:
    assert [(r.bucket_start, r.min, r.max, r.count) for r in got] == [
        (r.bucket_start, r.min, r.max, r.count) for r in want
    ]
    for g, w in zip(got, want, strict=True):
        assert math.isclose(g.mean, w.mean, rel_tol=1e-9, abs_tol=1e-6)


def assert_store_matches(store: SeriesStore, samples: list[Sample]) -> None:
    for period in PERIODS:
        want = brute_force(samples, period)
        keys = {(s.did, s.siid, s.piid) for s in samples}
        for key in keys:
            assert_rows_match(store.stats(*key, period=period), want.get(key, []))


values = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
samples_strategy = st.lists(
    st.tuples(
        st.sampled_from([("a", 2, 1), ("a", 2, 2), ("b", 3, 1)]),
        st.floats(T0 - 2 * 3600, T0 + 2 * 3600, allow_nan=False),
        values,
    ),
    max_size=80,
)


# -------------------------------------------------------------------- correctness
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=samples_strategy, cuts=st.lists(st.integers(0, 80), max_size=4))
def test_statistics_match_a_brute_force_computation(
    series: SeriesStore, raw: list[tuple[tuple[str, int, int], float, Any]], cuts: list[int]
) -> None:
    tag = uuid.uuid4().hex[:8]  # one store serves every example: keep their devices apart
    samples = [Sample(f"{did}-{tag}", siid, piid, ts, value) for (did, siid, piid), ts, value in raw]
    # written in several batches, so buckets are merged across transactions
    bounds = sorted({0, len(samples), *(c for c in cuts if c <= len(samples))})
    for lo, hi in itertools.pairwise(bounds):
        series.append(samples[lo:hi])
    assert_store_matches(series, samples)


def test_bucket_boundaries(series: SeriesStore) -> None:
    times = [T0 - 0.001, T0, T0 + 299.999, T0 + 300, T0 + 3599.999, T0 + 3600]
    series.append([Sample("m", 2, 1, ts, i) for i, ts in enumerate(times)])
    five = series.stats("m", 2, 1, period="5m")
    assert [(r.bucket_start, r.count, r.min, r.max) for r in five] == [
        (T0 - 300, 1, 0.0, 0.0),
        (T0, 2, 1.0, 2.0),
        (T0 + 300, 1, 3.0, 3.0),
        (T0 + 3300, 1, 4.0, 4.0),
        (T0 + 3600, 1, 5.0, 5.0),
    ]
    hourly = series.stats("m", 2, 1, period="1h")
    assert [(r.bucket_start, r.count, r.mean) for r in hourly] == [
        (T0 - 3600, 1, 0.0),
        (T0, 4, 2.5),
        (T0 + 3600, 1, 5.0),
    ]
    assert all(r.bucket_start == bucket_start(r.bucket_start, 3600) for r in hourly)


def test_non_numeric_values_are_ignored(series: SeriesStore) -> None:
    series.append(
        [
            Sample("x", 2, 1, T0, True),
            Sample("x", 2, 1, T0 + 1, "on"),
            Sample("x", 2, 1, T0 + 2, None),
            Sample("x", 2, 1, T0 + 3, 7),
            Sample("x", 2, 1, T0 + 4, 2.5),
            Sample("y", 2, 1, T0, False),
        ]
    )
    assert series.stats("x", 2, 1) == [StatRow(int(T0), 2.5, 4.75, 7.0, 2)]
    assert series.stats("y", 2, 1) == []
    assert len(series.history("x", 2, 1)) == 5  # the raw history keeps every value


def test_query_range_limit_and_errors(series: SeriesStore) -> None:
    series.append([Sample("q", 2, 1, T0 + 300 * i + 10, i) for i in range(10)])
    starts = [r.bucket_start for r in series.stats("q", 2, 1)]
    assert starts == [int(T0) + 300 * i for i in range(10)]
    # buckets overlapping [since, until): the one holding `since` is included, `until`'s start is not
    assert [r.bucket_start - T0 for r in series.stats("q", 2, 1, since=T0 + 650, until=T0 + 1500)] == [
        600,
        900,
        1200,
    ]
    assert [r.bucket_start - T0 for r in series.stats("q", 2, 1, limit=2)] == [2400, 2700]
    assert series.stats("q", 2, 1, limit=0) == []
    assert series.stats("q", 2, 2) == [] and series.stats("nobody", 2, 1) == []
    with pytest.raises(ValueError, match="period"):
        series.stats("q", 2, 1, period="1d")
    with pytest.raises(ValueError, match="after until"):
        series.stats("q", 2, 1, since=T0 + 10, until=T0)
    with pytest.raises(ValueError, match="limit"):
        series.stats("q", 2, 1, limit=-1)


# ---------------------------------------------------------------------- retention
def test_each_tier_has_its_own_retention(make_series: Factory) -> None:
    store = make_series(history_retention=DAY, stats_5m_retention=3 * DAY, stats_1h_retention=10 * DAY)
    ages = [0.5, 2, 5, 20]  # days
    now = T0 + 30 * DAY
    store.append([Sample("r", 2, 1, now - a * DAY, a) for a in ages])
    assert store.prune_history(now) == 3
    assert [v for _, v in store.history("r", 2, 1)] == [0.5]
    assert store.prune_stats(now) == {"5m": 2, "1h": 1}
    assert [r.min for r in store.stats("r", 2, 1, period="5m")] == [2, 0.5]
    assert [r.min for r in store.stats("r", 2, 1, period="1h")] == [5, 2, 0.5]
    assert store.prune_stats(now) == {"5m": 0, "1h": 0}


def test_a_bucket_is_kept_while_any_of_it_is_within_retention(make_series: Factory) -> None:
    store = make_series(stats_5m_retention=DAY, stats_1h_retention=DAY)
    store.append([Sample("r", 2, 1, T0, 1)])
    # the 5-minute bucket [T0, T0+300) ends at T0+300; the hourly one at T0+3600
    assert store.prune_stats(T0 + DAY + 299) == {"5m": 0, "1h": 0}
    assert store.prune_stats(T0 + DAY + 301) == {"5m": 1, "1h": 0}
    assert store.prune_stats(T0 + DAY + 3601) == {"5m": 0, "1h": 1}


def test_retentions_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stats_5m_retention"):
        SQLiteStore(tmp_path / "x.db", stats_5m_retention=0)
    with pytest.raises(ValueError, match="stats_1h_retention"):
        PostgresSeriesStore("host=127.0.0.1", stats_1h_retention=-1)


# ------------------------------------------------------------------------ backfill
def test_backfill_rebuilds_the_statistics_from_raw_history(series: SeriesStore) -> None:
    samples = [Sample("bf", 2, 1, T0 + 37.5 * i, (i * 7) % 23 - 5) for i in range(400)]
    samples += [Sample("bf", 2, 2, T0 + 11 * i, i % 2 == 0) for i in range(50)]
    series.append(samples)
    clear_stats(series)
    assert series.stats("bf", 2, 1) == []
    assert series.backfill_stats() == 450
    assert_store_matches(series, samples)
    # running it again (or over a part) replaces whole buckets: nothing is counted twice
    assert series.backfill_stats(since=T0 + 1000, until=T0 + 5000) > 0
    assert series.backfill_stats() == 450
    assert_store_matches(series, samples)


def test_backfill_of_a_range_leaves_other_buckets_alone(series: SeriesStore) -> None:
    samples = [Sample("bf", 2, 1, T0 + 600 * i, i) for i in range(24)]  # four hours
    series.append(samples)
    clear_stats(series)
    # [T0+3700, T0+7000) widens to whole hours: [T0+3600, T0+7200)
    assert series.backfill_stats(since=T0 + 3700, until=T0 + 7000) == 6
    hourly = series.stats("bf", 2, 1, period="1h")
    assert [(r.bucket_start - T0, r.count, r.min, r.max) for r in hourly] == [(3600, 6, 6.0, 11.0)]
    assert len(series.stats("bf", 2, 1, period="5m")) == 6


# -------------------------------------------------------------------- writes & forgetting
def test_write_series_takes_changes_and_forgets_removed_devices(series: SeriesStore) -> None:
    def change(did: str, value: Any, ts: float) -> PropertyChanged:
        return PropertyChanged(did, 2, 2, value, None, ts, SYSTEM)

    series.write_series([change("gone", 5, T0), change("kept", 6, T0), Home("home", "Home")])
    series.write_series([Removal("device", "gone"), Removal("room", "kept"), change("gone", 9, T0 + 1)])
    assert series.history("gone", 2, 2) == [(T0 + 1, 9)]
    assert [r.count for r in series.stats("gone", 2, 2)] == [1]
    assert series.history("kept", 2, 2) == [(T0, 6)]


def test_the_recorder_maintains_statistics_as_it_writes(make_series: Factory, tmp_path: Path) -> None:
    series = make_series()
    kernel = Kernel(clock=ManualClock(T0))
    kernel.add_home(Home("home", "Home"))
    spec = builtin_spec("trilink.light.sim1")
    kernel.add_device(Device("lamp", "Lamp", "trilink.light.sim1", spec, "mqtt", home_id="home"))
    if isinstance(series, SQLiteStore):
        store, recorder = series, StoreRecorder(kernel, series, flush_interval=0.02, max_batch=7)
    else:
        store = SQLiteStore(tmp_path / "local.db").open()
        recorder = StoreRecorder(kernel, store, series=series, flush_interval=0.02, max_batch=7)
    recorder.start()
    try:
        for i in range(100):
            kernel.report("lamp", 2, 2, 1 + (i * 37) % 100, ts=T0 + 29 * i)
            kernel.report("lamp", 2, 1, i % 2 == 0, ts=T0 + 29 * i)
        recorder.flush(timeout=30)
    finally:
        recorder.stop()
        if store is not series:
            store.close()
    samples = [Sample("lamp", 2, 2, ts, v) for ts, v in series.history("lamp", 2, 2)]
    assert len(samples) == 100
    assert_store_matches(series, samples)
    assert series.stats("lamp", 2, 1) == []  # on/off is not numeric


# ---------------------------------------------------------------------- migration 7
def test_upgrade_from_version_6_adds_the_statistics_and_diagnostics_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=6)
    conn.execute("INSERT INTO history VALUES ('lamp', 2, 2, ?, '41'), ('lamp', 2, 2, ?, '42')", (T0, T0 + 1))
    conn.close()
    with SQLiteStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 7
        with store.reading() as read:
            names = {r[0] for r in read.execute("SELECT name FROM sqlite_master")}
            columns = [r[1] for r in read.execute("PRAGMA table_info(findings)")]
        assert {"stats_5m", "stats_1h", "findings", "detector_state", "findings_device"} <= names
        assert columns[-1] == "details" and "energy_kwh_per_day" in columns
        # the history from before the upgrade is aggregated by a backfill
        assert store.stats("lamp", 2, 2) == []
        assert store.backfill_stats() == 2
        assert store.stats("lamp", 2, 2) == [StatRow(int(T0), 41.0, 41.5, 42.0, 2)]
        with store.writing() as write:
            write.execute(
                "INSERT INTO findings (did, fault, status, detected_at, updated_at, evidence, advice) "
                "VALUES ('ac', 'low-refrigerant', 'open', 1, 1, '[]', '[]')"
            )
            write.execute("INSERT INTO detector_state VALUES ('ac', 'cop', '{}', 1)")
        with store.reading() as read:
            assert read.execute("SELECT details FROM findings").fetchone()[0] == "{}"
