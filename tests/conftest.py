"""Shared test fixtures: real brokers, bounded waiting, and a leak check.

Tests talk to real parts: the Mosquitto on 127.0.0.1:1883 and private Mosquitto
instances this file starts on free ports (for outage tests and for credentials).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import psutil
import pytest

from trilink.config import ZeroconfConfig
from trilink.transports.mqtt.settings import MqttSettings

#: test hubs browse and announce with zeroconf on loopback only (no network beyond it)
LOOPBACK_ONLY = ZeroconfConfig.model_validate({"interfaces": ["127.0.0.1"]})

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
SYSTEM_BROKER = MqttSettings(host="127.0.0.1", port=int(os.environ.get("TRILINK_TEST_MQTT_PORT", "1883")))


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_for_async(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Like :func:`wait_until` for an async predicate."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


class PrivateMosquitto:
    """A Mosquitto process of the test's own, on a free port, that can be stopped and restarted."""

    def __init__(self, workdir: Path, username: str | None = None, password: str | None = None) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.username = username
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        conf = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if username:
            pwfile = workdir / "passwd"
            pwfile.write_text(f"{username}:{password}\n")
            subprocess.run(["mosquitto_passwd", "-U", str(pwfile)], check=True, capture_output=True)
            conf += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            conf += ["allow_anonymous true"]
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(conf) + "\n")

    @property
    def settings(self) -> MqttSettings:
        """Connection settings for this broker."""
        return MqttSettings(
            host="127.0.0.1",
            port=self.port,
            username=self.username,
            password=self.password,
            reconnect_min=0.05,
            reconnect_max=0.5,
        )

    def start(self) -> None:
        """Start (or restart) the broker and wait until it accepts connections."""
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"private mosquitto did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the broker (as an outage would) and wait for it to exit."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


@pytest.fixture
def private_broker() -> Iterator[Callable[..., PrivateMosquitto]]:
    """Factory for private Mosquitto instances; all are stopped at teardown."""
    started: list[PrivateMosquitto] = []
    dirs: list[tempfile.TemporaryDirectory[str]] = []

    def make(
        username: str | None = None, password: str | None = None, start: bool = True
    ) -> PrivateMosquitto:
        d = tempfile.TemporaryDirectory(prefix="trilink-mosq-")
        dirs.append(d)
        broker = PrivateMosquitto(Path(d.name), username, password)
        started.append(broker)
        if start:
            broker.start()
        return broker

    yield make
    for broker in started:
        broker.stop()
    for d in dirs:
        d.cleanup()


@pytest.fixture
def system_broker() -> MqttSettings:
    """The Mosquitto on this machine; fails clearly if it is not running."""
    if not port_open(SYSTEM_BROKER.host, SYSTEM_BROKER.port):
        pytest.fail(
            f"Mosquitto is not running on {SYSTEM_BROKER.host}:{SYSTEM_BROKER.port} "
            "(start it with: mosquitto -d -c /etc/mosquitto/mosquitto.conf)"
        )
    return SYSTEM_BROKER


@pytest.fixture
def unique() -> str:
    """A short unique prefix for dids and topics, so tests sharing a broker do not collide."""
    return "t" + uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
async def no_task_leaks() -> AsyncIterator[None]:
    """Fail a test that leaves asyncio tasks running on its loop (after its fixtures end)."""
    yield
    current = asyncio.current_task()
    deadline = time.monotonic() + 3
    while True:
        left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not left or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    assert not left, f"tasks left behind: {[t.get_name() for t in left]}"


@pytest.fixture(autouse=True)
def no_process_leaks() -> Iterator[None]:
    """Fail a test that leaves child processes (brokers, demos, simulators) running."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            p
            for p in me.children(recursive=True)
            if p.pid not in before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"processes left behind: {[p.cmdline() for p in extra]}"


@pytest.fixture(autouse=True)
def no_thread_leaks() -> Iterator[None]:
    """Fail a test that leaves non-daemon or trilink threads running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        # asyncio's default executor threads are owned by the closed loop and exit on their own
        extra = [t for t in extra if not t.name.startswith("asyncio_")]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left behind: {[t.name for t in extra]}"
