"""Event → action latency over MQTT with 1,000 automations, under 1,000 reports/s of load.

A private Mosquitto (with `set_tcp_nodelay true`, see docs/benchmarks.md) on a free port.
The hub side runs in this process: a Kernel, the MQTT transport and the automation
engine with 1,000 automations — automation i fires when sensor `s{i}` reports a
temperature above 30 °C and switches on light `l{i % 10}`. A background process
publishes 1,000 sensor reports per second (all below 30, so they are matched but fire
nothing). The probe client publishes one report above 30 for a random sensor and times
until the light's `set` command arrives (device report in → command out); it answers
each command like a device. Then it resets the sensor below 30.

The baseline, measured in the same run under the same load, is the raw MQTT round trip
with the same shape: the probe publishes, an echo client republishes, the probe
receives (two hops through the broker, as report → hub → command).

    .venv/bin/python bench/automation_latency_bench.py [--samples 500] [--load 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from command_rtt_bench import ECHO
from common import median, percentile, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import PrivateMosquitto
from trilink.automation.engine import AutomationEngine
from trilink.automation.persist import MemoryAutomationStore
from trilink.kernel import Kernel
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport

N_AUTOMATIONS = 1000
N_LIGHTS = 10

LOAD = r"""
import sys, time, paho.mqtt.client as mqtt, orjson
port, rate, n = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-load")
c.connect("127.0.0.1", port)
c.loop_start()
i, start = 0, time.perf_counter()
while True:
    for _ in range(10):
        did = f"s{i % n}"
        value = round(20 + (i % 90) / 10, 1)
        payload = orjson.dumps({"properties": [{"siid": 2, "piid": 1, "value": value}]})
        c.publish(f"trilink/v1/dev/{did}/report", payload, qos=1)
        i += 1
    delay = start + i / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
"""


def nodelay(client: mqtt.Client) -> None:
    client.on_socket_open = lambda c, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def announce_all(port: int) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-announcer")
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = []
    for i in range(N_AUTOMATIONS):
        a = schema.Announce(f"s{i}", "trilink.sensor_ht.sim1", f"Sensor {i}")
        infos.append(c.publish(schema.topic(f"s{i}", "announce"), schema.encode_announce(a), 1, True))
        infos.append(c.publish(schema.topic(f"s{i}", "availability"), b"online", 1, True))
        infos.append(c.publish(schema.topic(f"s{i}", "report"), schema.encode_report([(2, 1, 20.0)]), 1))
    for i in range(N_LIGHTS):
        a = schema.Announce(f"l{i}", "trilink.light.sim1", f"Light {i}")
        infos.append(c.publish(schema.topic(f"l{i}", "announce"), schema.encode_announce(a), 1, True))
        infos.append(c.publish(schema.topic(f"l{i}", "availability"), b"online", 1, True))
    for info in infos:
        info.wait_for_publish(10)
    c.loop_stop()
    c.disconnect()


def automations() -> dict[str, object]:
    return {
        "automations": [
            {
                "id": f"a{i}",
                "name": f"warm {i}",
                "mode": "parallel",
                "triggers": [{"type": "property", "device": f"s{i}", "property": "2.1", "above": 30}],
                "actions": [{"set": {"device": f"l{i % N_LIGHTS}", "property": "2.1", "value": True}}],
            }
            for i in range(N_AUTOMATIONS)
        ]
    }


class Probe:
    """The measuring client: publishes triggers, answers commands like a device, times."""

    def __init__(self, port: int) -> None:
        self.got = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-probe")
        nodelay(self.client)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        for i in range(N_LIGHTS):
            self.client.subscribe(schema.topic(f"l{i}", "set"), qos=1)
        self.client.subscribe("bench/pong", qos=1)
        self.client.loop_start()
        time.sleep(0.5)  # setup only: let the SUBACKs arrive

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.got.set()
        if msg.topic.endswith("/set"):
            request = schema.parse_set(msg.payload)
            did = msg.topic.split("/")[3]
            client.publish(schema.topic(did, "result"), schema.encode_result(schema.Result(request.id)), 1)

    def time_trigger(self, sensor: int) -> float:
        self.got.clear()
        t0 = time.perf_counter()
        self.client.publish(schema.topic(f"s{sensor}", "report"), schema.encode_report([(2, 1, 35.0)]), 1)
        if not self.got.wait(5):
            raise RuntimeError(f"no command after triggering s{sensor}")
        dt = time.perf_counter() - t0
        self.client.publish(schema.topic(f"s{sensor}", "report"), schema.encode_report([(2, 1, 20.0)]), 1)
        return dt

    def time_echo(self) -> float:
        self.got.clear()
        t0 = time.perf_counter()
        self.client.publish("bench/ping", b"x" * 64, 1)
        if not self.got.wait(5):
            raise RuntimeError("no echo")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def summary(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"p50_ms": median(ms), "p99_ms": percentile(ms, 99), "max_ms": max(ms), "n": len(ms)}


async def run(port: int, samples: int, load: float) -> tuple[dict[str, float], dict[str, float], dict]:
    kernel = Kernel(command_timeout=5)
    transport = MqttTransport(kernel, MqttSettings(port=port, client_id="bench-hub"))
    engine = AutomationEngine(kernel, MemoryAutomationStore())
    await transport.start()
    await transport.wait_connected(10)
    await asyncio.to_thread(announce_all, port)
    deadline = time.monotonic() + 30
    while not all(kernel.state.is_online(f"s{i}") for i in range(N_AUTOMATIONS)) or not all(
        kernel.state.is_online(f"l{i}") for i in range(N_LIGHTS)
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("bench devices were not adopted")
        await asyncio.sleep(0.05)
    await engine.start()
    report = engine.load_data(automations(), "bench")
    assert not report.errors, report.errors[:3]
    # started once, before anything is timed
    echo = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", ECHO, str(port)], stdout=subprocess.PIPE, text=True
    )
    loader = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", LOAD, str(port), str(load), str(N_AUTOMATIONS)]
    )
    probe = await asyncio.to_thread(Probe, port)
    try:
        assert echo.stdout is not None and echo.stdout.readline().strip() == "READY"
        await asyncio.sleep(1.0)  # let the background load reach its rate
        hub_samples, raw_samples = [], []
        rng = random.Random(1)
        for _ in range(samples):
            hub_samples.append(await asyncio.to_thread(probe.time_trigger, rng.randrange(N_AUTOMATIONS)))
            raw_samples.append(await asyncio.to_thread(probe.time_echo))
            await asyncio.sleep(0.02)
        in_rate = transport.stats["messages_in"]
        return summary(hub_samples), summary(raw_samples), {"messages_in": in_rate, **engine.stats}
    finally:
        probe.close()
        loader.terminate()
        echo.terminate()
        loader.wait()
        echo.wait()
        await engine.stop()
        await transport.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--load", type=float, default=1000.0, help="background reports per second")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = PrivateMosquitto(Path(tmp))
        broker.conf.write_text(broker.conf.read_text() + "set_tcp_nodelay true\nmax_queued_messages 0\n")
        broker.start()
        try:
            hub, raw, stats = asyncio.run(run(broker.port, args.samples, args.load))
        finally:
            broker.stop()
    print(f"event → action over MQTT, {N_AUTOMATIONS} automations, {args.load:g} reports/s background:")
    print(
        f"  hub: p50 {hub['p50_ms']:.2f} ms, p99 {hub['p99_ms']:.2f} ms, max {hub['max_ms']:.2f} ms "
        f"(target p99 <= 5 ms)"
    )
    print(f"  raw MQTT two-hop round trip: p50 {raw['p50_ms']:.2f} ms, p99 {raw['p99_ms']:.2f} ms")
    print(f"  ratio hub/raw p99: {hub['p99_ms'] / raw['p99_ms']:.2f}")
    print(f"  stats: {stats}")
    save("automation_latency", {"samples": args.samples, "load": args.load, "hub": hub, "raw": raw})


if __name__ == "__main__":
    main()
