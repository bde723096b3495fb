"""The PostgreSQL series store: schema, connection handling and the hub on ``store.backend: postgres``.

These tests need the PostgreSQL server at ``TRILINK_TEST_POSTGRES_DSN`` (default
``host=127.0.0.1 port=5432 dbname=test user=postgres``). When it is not reachable they
fail, naming the server and how to start it: CI starts it, so a skip would hide a gap.
Each test works in a schema of its own, dropped afterwards, so parallel runs never meet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from trilink.config import ConfigError, parse_config
from trilink.store import StoreError
from trilink.store.postgres import PostgresSeriesStore
from trilink.store.stats import Sample

DEFAULT_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
T0 = 1_800_000_000.0


def postgres_dsn() -> str:
    """The test server's DSN; fails the test (never skips) when the server does not answer."""
    dsn = os.environ.get("TRILINK_TEST_POSTGRES_DSN", DEFAULT_DSN)
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {dsn!r} ({exc}). Start it, e.g. "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
            "or point TRILINK_TEST_POSTGRES_DSN at a server",
            pytrace=False,
        )
    return dsn


@contextmanager
def postgres_store(**kwargs: Any) -> Iterator[PostgresSeriesStore]:
    """An open store in a new schema of its own, dropped afterwards."""
    store = PostgresSeriesStore(postgres_dsn(), schema=f"trilink_test_{uuid.uuid4().hex[:12]}", **kwargs)
    store.open()
    try:
        yield store
    finally:
        try:
            store.drop_schema()
        finally:
            store.close()


def test_schema_creation_is_idempotent_and_keeps_data() -> None:
    with postgres_store() as store:
        store.append([Sample("lamp", 2, 2, T0, 40), Sample("lamp", 2, 2, T0 + 1, 60)])
        again = PostgresSeriesStore(store.dsn, schema=store.schema).open()
        try:
            assert again.history("lamp", 2, 2) == [(T0, 40), (T0 + 1, 60)]
            assert again.stats("lamp", 2, 2, period="1h")[0].count == 2
        finally:
            again.close()


def test_values_read_back_with_their_exact_type() -> None:
    values: list[Any] = [24.0, 24, True, None, "auto", -(2**63), 0.1]
    with postgres_store() as store:
        store.append([Sample("ac", 2, 3, T0 + i, v) for i, v in enumerate(values)])
        got = [v for _, v in store.history("ac", 2, 3)]
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]


def test_an_unreachable_server_is_a_clear_store_error() -> None:
    store = PostgresSeriesStore(
        "host=127.0.0.1 port=1 dbname=nothing user=nobody password=s3cret", connect_timeout=1
    )
    with pytest.raises(StoreError) as info:
        store.open()
    message = str(info.value)
    assert "127.0.0.1:1/nothing" in message and "cannot connect" in message
    assert "s3cret" not in message


def test_a_closed_store_refuses_reads() -> None:
    with postgres_store() as store:
        pass
    with pytest.raises(StoreError, match="not open"):
        store.history("lamp", 2, 2)


def test_a_broken_connection_is_reopened() -> None:
    with postgres_store() as store:
        store.append([Sample("lamp", 2, 2, T0, 1)])
        assert store._reader is not None and store._writer is not None
        store._reader.close()
        store._writer.close()
        store.append([Sample("lamp", 2, 2, T0 + 1, 2)])
        assert store.history("lamp", 2, 2) == [(T0, 1), (T0 + 1, 2)]


def test_config_reads_the_dsn_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"store": {"backend": "postgres", "postgres_dsn_env": "TRILINK_TEST_DSN_X"}})
    monkeypatch.delenv("TRILINK_TEST_DSN_X", raising=False)
    with pytest.raises(ConfigError, match="TRILINK_TEST_DSN_X"):
        config.store.postgres_dsn()
    monkeypatch.setenv("TRILINK_TEST_DSN_X", DEFAULT_DSN)
    assert config.store.postgres_dsn() == DEFAULT_DSN
    with pytest.raises(ConfigError, match="postgres_dsn"):
        parse_config({"store": {"backend": "postgres", "postgres_dsn": "host=x password=y"}})
    with pytest.raises(ConfigError, match="backend"):
        parse_config({"store": {"backend": "mysql"}})


async def test_the_hub_keeps_history_and_statistics_in_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trilink.clock import ManualClock
    from trilink.hub import Hub
    from trilink.kernel import Device
    from trilink.model import builtin_spec
    from trilink.transports.mqtt.settings import MqttSettings

    schema = f"trilink_test_{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("TRILINK_TEST_HUB_DSN", postgres_dsn())
    config = parse_config(
        {
            "store": {
                "path": str(tmp_path / "hub.db"),
                "backend": "postgres",
                "postgres_dsn_env": "TRILINK_TEST_HUB_DSN",
                "postgres_schema": schema,
            }
        }
    )
    hub = Hub(config, mqtt=MqttSettings(host="127.0.0.1", port=1), clock=ManualClock(T0))
    hub.transport.start = _no_transport  # type: ignore[method-assign]
    hub.transport.stop = _no_transport  # type: ignore[method-assign]
    await hub.start(serve_api=False)
    try:
        spec = builtin_spec("trilink.light.sim1")
        hub.kernel.add_device(Device("lamp", "Lamp", "trilink.light.sim1", spec, "mqtt", home_id="home"))
        for i in range(10):
            hub.kernel.report("lamp", 2, 2, 10 + i, ts=T0 + 60 * i)
        hub.recorder.flush()
        assert [v for _, v in hub.history("lamp", 2, 2, None, None, 100)] == list(range(10, 20))
        rows = hub.stats("lamp", 2, 2, "1h", None, None, 10)
        assert [(r.min, r.max, r.count) for r in rows] == [(10.0, 19.0, 10)]
        # history went to PostgreSQL only; the last state stays in SQLite
        with hub.store.reading() as conn:
            assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == 0
        assert hub.store.last_state("lamp")[(2, 2)] == (19, T0 + 540)
    finally:
        await hub.stop()
        cleanup = PostgresSeriesStore(postgres_dsn(), schema=schema).open()
        cleanup.drop_schema()
        cleanup.close()


async def _no_transport() -> None:
    return None
