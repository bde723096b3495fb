"""MQTT ingest: property reports per second from the broker into the kernel.

A private Mosquitto is started on a free port (no queue limits). For each round, a
stream of N report messages (QoS 1, four devices, two changing values each) is published
by Mosquitto's own C client (`mosquitto_pub -l`) and read by:

- **bare**: a bare paho-mqtt subscriber (`loop_start`) that only counts messages — the
  baseline, and
- **hub**: trilink's MqttTransport feeding a Kernel — every report parsed, validated
  against the device's spec, applied to state and published as an event.

Both subscribe with QoS 1 to the same topics on the same broker. So that the publisher
cannot be the bottleneck, the subscriber is connected and subscribed but does not read
while the stream is published (the broker queues it); then it reads, and the rate is N
divided by the time from resuming to the last message. Rounds alternate; medians.

    .venv/bin/python bench/mqtt_ingest_bench.py [--messages 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from common import median, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import PrivateMosquitto
from trilink.kernel import Kernel, PropertyChanged
from trilink.transports.mqtt import schema
from trilink.transports.mqtt.transport import MqttTransport

DEVICES = [f"bench-{i}" for i in range(4)]
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"


def make_stream(path: Path, n: int) -> None:
    """One payload per line; temperatures walk through the sensor's range on its 0.1 step."""
    with path.open("w") as f:
        for i in range(n):
            value = round(15 + (i % 200) / 10, 1)
            f.write(schema.encode_report([(2, 1, value), (2, 2, round(40 + (i % 300) / 10, 1))]).decode())
            f.write("\n")


def publish(broker: PrivateMosquitto, files: list[Path]) -> list[subprocess.Popen[bytes]]:
    procs = []
    for did, file in zip(DEVICES, files, strict=True):
        procs.append(
            subprocess.Popen(
                [
                    MOSQUITTO_PUB,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(broker.port),
                    "-q",
                    "1",
                    "-l",
                    "-t",
                    schema.topic(did, "report"),
                ],
                stdin=file.open("rb"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return procs


def announce(broker: PrivateMosquitto) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-announcer")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    for did in DEVICES:
        payload = schema.encode_announce(schema.Announce(did, "trilink.sensor_ht.sim1", did, room="lab"))
        client.publish(schema.topic(did, "announce"), payload, qos=1, retain=True).wait_for_publish(5)
        client.publish(schema.topic(did, "availability"), b"online", qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def run_bare(broker: PrivateMosquitto, files: list[Path], total: int) -> float:
    count = 0
    first = last = 0.0
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count, last
        if not msg.topic.endswith("/report"):
            return
        count += 1
        if count == total:
            last = time.perf_counter()
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", broker.port)
    client.subscribe(f"{schema.PREFIX}/dev/#", qos=1)
    client.loop_start()
    subscribed.wait(5)
    client.loop_stop()  # stop reading: the broker queues the stream for us
    procs = publish(broker, files)
    for p in procs:
        p.wait()
    first = time.perf_counter()
    client.loop_start()
    if not done.wait(300):
        raise RuntimeError(f"bare subscriber got {count}/{total}")
    for p in procs:
        p.wait()
    client.loop_stop()
    client.disconnect()
    return total / (last - first)


async def run_hub(broker: PrivateMosquitto, files: list[Path], total: int) -> float:
    kernel = Kernel()
    transport = MqttTransport(kernel, broker.settings)
    count = 0
    first = last = 0.0
    done = asyncio.Event()
    reports_per_message = 2

    def on_change(event: PropertyChanged) -> None:
        nonlocal count, last
        count += 1
        if count == total * reports_per_message:
            last = time.perf_counter()
            done.set()

    await transport.start()
    await transport.wait_connected(10)
    deadline = time.monotonic() + 10
    while not all(kernel.state.is_online(d) for d in DEVICES):
        if time.monotonic() > deadline:
            raise RuntimeError("bench devices were not adopted")
        await asyncio.sleep(0.01)
    kernel.bus.subscribe(on_change, PropertyChanged)
    # stop reading while the stream is published (bench-only use of the connection's
    # internals: the broker queues the stream for us), then resume and time the drain
    conn = transport._conn
    assert conn is not None
    loop = asyncio.get_running_loop()
    loop.remove_reader(conn._fd)
    procs = await asyncio.to_thread(publish, broker, files)
    for p in procs:
        await asyncio.to_thread(p.wait)
    first = time.perf_counter()
    loop.add_reader(conn._fd, conn._readable)
    try:
        await asyncio.wait_for(done.wait(), 300)
    except TimeoutError:
        raise RuntimeError(f"hub applied {count}/{total * reports_per_message}; {transport.stats}") from None
    stats = transport.stats
    await transport.stop()
    assert stats["values_rejected"] == 0, stats
    return total / (last - first)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="total messages per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    per_device = args.messages // len(DEVICES)
    total = per_device * len(DEVICES)
    with tempfile.TemporaryDirectory() as tmp:
        broker = PrivateMosquitto(Path(tmp))
        broker.conf.write_text(broker.conf.read_text() + "max_queued_messages 0\nmax_inflight_messages 0\n")
        broker.start()
        try:
            files = []
            for did in DEVICES:
                f = Path(tmp) / f"{did}.txt"
                make_stream(f, per_device)
                files.append(f)
            announce(broker)
            bare, hub = [], []
            for r in range(args.rounds):
                bare.append(run_bare(broker, files, total))
                hub.append(asyncio.run(run_hub(broker, files, total)))
                print(
                    f"round {r + 1}: bare paho {bare[-1]:,.0f} msg/s   hub {hub[-1]:,.0f} msg/s "
                    f"(ratio {hub[-1] / bare[-1]:.2f})"
                )
        finally:
            broker.stop()
    b, h = median(bare), median(hub)
    print(
        f"\nmedian: bare paho {b:,.0f} msg/s, hub {h:,.0f} msg/s ({2 * h:,.0f} property values/s); "
        f"hub/bare = {h / b:.2f} (target >= 0.7)"
    )
    save(
        "mqtt_ingest",
        {
            "messages": total,
            "rounds": args.rounds,
            "bare_median_msg_s": b,
            "hub_median_msg_s": h,
            "ratio": h / b,
            "values_per_message": 2,
        },
    )


if __name__ == "__main__":
    main()
