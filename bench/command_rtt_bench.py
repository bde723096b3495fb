"""Command round trip: hub → simulated device → result, over Mosquitto on loopback.

The simulated world runs in its own process (`python -m trilink.sim`, every device its
own MQTT client). The hub side — a Kernel with the MqttTransport — sends property writes
to the simulated living-room light at a steady 100 commands per second, alternating
on/off, and times each `kernel.set_property` from the call until the device's result is
back (validated, published, executed by the device, answered, matched).

Baseline, measured in the same run and at the same rate: the raw MQTT round trip
between two bare paho-mqtt clients (ping → echo process → pong), QoS 1 both ways, with
TCP_NODELAY on their sockets as the hub and the simulated devices have. Both are run
against Mosquitto with its defaults and with `set_tcp_nodelay true`.

    .venv/bin/python bench/command_rtt_bench.py [--commands 1000] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from common import median, percentile, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import PrivateMosquitto
from trilink.kernel import Context, Kernel
from trilink.transports.mqtt.settings import MqttSettings
from trilink.transports.mqtt.transport import MqttTransport

ECHO = r"""
import sys, paho.mqtt.client as mqtt
import socket
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-echo")
c.on_socket_open = lambda cl, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.on_message = lambda cl, u, m: cl.publish("bench/pong", m.payload, qos=1)
c.on_connect = lambda cl, u, f, rc, p: (cl.subscribe("bench/ping", qos=1), print("READY", flush=True))
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_forever()
"""


def summary(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"p50_ms": median(ms), "p99_ms": percentile(ms, 99), "max_ms": max(ms), "n": len(ms)}


def raw_round_trips(port: int, n: int, rate: float) -> list[float]:
    echo = subprocess.Popen([sys.executable, "-c", ECHO, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout is not None and echo.stdout.readline().strip() == "READY"
        got = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-ping")
        client.on_message = lambda c, u, m: got.set()
        # the same socket option the hub and the simulated devices use
        client.on_socket_open = lambda c, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.connect("127.0.0.1", port)
        client.subscribe("bench/pong", qos=1)
        client.loop_start()
        time.sleep(0.3)  # let the SUBACK arrive (setup only; not part of any measurement)
        samples = []
        start = time.perf_counter()
        for i in range(n):
            target = start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            got.clear()
            t0 = time.perf_counter()
            client.publish("bench/ping", b"x" * 64, qos=1)
            if not got.wait(5):
                raise RuntimeError("echo did not answer")
            samples.append(time.perf_counter() - t0)
        client.loop_stop()
        client.disconnect()
        return samples
    finally:
        echo.terminate()
        echo.wait()


async def hub_round_trips(port: int, n: int, rate: float) -> list[float]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sim = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is timed)
        [sys.executable, "-m", "trilink.sim", "--port", str(port), "--no-schedule", "--speed", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    kernel = Kernel(command_timeout=5)
    transport = MqttTransport(kernel, MqttSettings(port=port, client_id="bench-hub"))
    await transport.start()
    try:
        await transport.wait_connected(10)
        deadline = time.monotonic() + 20
        while not kernel.state.is_online("light-living"):
            if time.monotonic() > deadline:
                raise RuntimeError("the simulated light did not come online")
            await asyncio.sleep(0.05)
        ctx = Context.new("api", "bench")
        samples = []
        start = time.perf_counter()
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t0 = time.perf_counter()
            await kernel.set_property("light-living", 2, 1, i % 2 == 0, ctx)
            samples.append(time.perf_counter() - t0)
        return samples
    finally:
        await transport.stop()
        sim.terminate()
        sim.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commands", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0)
    args = ap.parse_args()
    results = {}
    for label, nodelay in (("set_tcp_nodelay true", True), ("Mosquitto defaults", False)):
        with tempfile.TemporaryDirectory() as tmp:
            broker = PrivateMosquitto(Path(tmp))
            if nodelay:
                broker.conf.write_text(broker.conf.read_text() + "set_tcp_nodelay true\n")
            broker.start()
            try:
                raw = summary(raw_round_trips(broker.port, args.commands, args.rate))
                hub = summary(asyncio.run(hub_round_trips(broker.port, args.commands, args.rate)))
            finally:
                broker.stop()
        results[label] = {"raw": raw, "hub": hub}
        print(f"[{label}]")
        print(
            f"  raw MQTT round trip ({args.commands} at {args.rate:g}/s): p50 {raw['p50_ms']:.2f} ms, "
            f"p99 {raw['p99_ms']:.2f} ms, max {raw['max_ms']:.2f} ms"
        )
        print(
            f"  hub → device → result              : p50 {hub['p50_ms']:.2f} ms, "
            f"p99 {hub['p99_ms']:.2f} ms, max {hub['max_ms']:.2f} ms (target p99 <= 5 ms)"
        )
        print(
            f"  ratio hub/raw: p50 {hub['p50_ms'] / raw['p50_ms']:.2f}, "
            f"p99 {hub['p99_ms'] / raw['p99_ms']:.2f}"
        )
    save("command_rtt", {"commands": args.commands, "rate": args.rate, "results": results})


if __name__ == "__main__":
    main()
