"""Home Assistant discovery in: 1,000 retained discovery configs into kernel devices.

A private Mosquitto is started on a free port and 250 Zigbee2MQTT-like devices are
announced on it, four entities each (a switch, power and energy sensors, link quality:
1,000 retained configs, each with the device block, origin and a two-topic availability
list, ~1 KiB). Each round then measures, from the moment the client starts connecting:

- **bare**: a bare paho-mqtt subscriber (``loop_start``) to the discovery filters,
  until it has received the 1,000 retained configs — the baseline, and
- **hub**: trilink's HassTransport into a Kernel, until all 1,000 entities are
  registered: every config parsed (abbreviations, ``~``, templates compiled), grouped
  into 250 devices, their specs derived and validated, and the devices adopted. This
  includes the bridge's settle time (a batch is applied once no config came for
  ``settle`` seconds; 0.1 s by default), reported separately with ``--settle``.

Rounds alternate; medians. Target: hub ≤ 5 s.

    .venv/bin/python bench/ha_discovery_bench.py [--devices 250] [--rounds 5] [--settle 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from common import median, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import PrivateMosquitto
from trilink.kernel import Kernel, RegistryChanged
from trilink.transports.hass import HassSettings, HassTransport

PREFIX = "homeassistant"
BASE = "zigbee2mqtt"
ENTITIES_PER_DEVICE = 4


def _sensor(
    key: str, name: str, device_class: str | None, unit: str, state_class: str = "measurement"
) -> dict[str, Any]:
    out = {
        "name": name,
        "state_class": state_class,
        "unit_of_measurement": unit,
        "value_template": "{{ value_json.%s }}" % key,  # noqa: UP031
    }
    if device_class is None:
        out |= {"entity_category": "diagnostic", "icon": "mdi:signal"}
    else:
        out["device_class"] = device_class
    return out


def configs(devices: int) -> list[tuple[str, bytes]]:
    """Zigbee2MQTT-style configs: a metering plug per device, four entities each."""
    out = []
    for i in range(devices):
        ieee = f"0xa4c1380c{i:08x}"
        name = f"Plug {i:03d}"
        device = {
            "identifiers": [f"zigbee2mqtt_{ieee}"],
            "manufacturer": "Tuya",
            "model": "Smart plug (with power monitoring)",
            "model_id": "TS011F_plug_1",
            "name": name,
            "via_device": "zigbee2mqtt_bridge_0x00124b0024c1ab01",
        }
        common = {
            "availability": [
                {"topic": f"{BASE}/bridge/state", "value_template": "{{ value_json.state }}"},
                {"topic": f"{BASE}/{name}/availability", "value_template": "{{ value_json.state }}"},
            ],
            "availability_mode": "all",
            "device": device,
            "origin": {"name": "Zigbee2MQTT", "sw": "1.42.0", "url": "https://www.zigbee2mqtt.io"},
            "state_topic": f"{BASE}/{name}",
        }
        entities: list[tuple[str, str, dict[str, Any]]] = [
            (
                "switch",
                "switch",
                {
                    "command_topic": f"{BASE}/{name}/set",
                    "name": None,
                    "payload_on": "ON",
                    "payload_off": "OFF",
                    "value_template": "{{ value_json.state }}",
                },
            ),
            ("sensor", "power", _sensor("power", "Power", "power", "W")),
            ("sensor", "energy", _sensor("energy", "Energy", "energy", "kWh", "total_increasing")),
            ("sensor", "linkquality", _sensor("linkquality", "Linkquality", None, "lqi")),
        ]
        for component, obj, body in entities:
            payload = {
                **common,
                **body,
                "unique_id": f"{ieee}_{obj}_zigbee2mqtt",
                "object_id": f"plug_{i:03d}_{obj}",
            }
            out.append((f"{PREFIX}/{component}/{ieee}/{obj}/config", json.dumps(payload).encode()))
    return out


def publish_retained(broker: PrivateMosquitto, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-z2m")
    client.max_inflight_messages_set(0)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1, retain=True) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def run_bare(broker: PrivateMosquitto, total: int) -> float:
    count = 0
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        nonlocal count
        count += 1
        if count == total:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")
    client.on_message = on_message
    started = time.perf_counter()
    client.connect("127.0.0.1", broker.port)
    client.subscribe([(f"{PREFIX}/+/+/config", 1), (f"{PREFIX}/+/+/+/config", 1)])
    client.loop_start()
    if not done.wait(60):
        raise RuntimeError(f"bare subscriber got {count}/{total}")
    elapsed = time.perf_counter() - started
    client.loop_stop()
    client.disconnect()
    return elapsed


async def run_hub(broker: PrivateMosquitto, total: int, settle: float) -> float:
    kernel = Kernel()
    registered = asyncio.Event()

    def on_registry(event: RegistryChanged) -> None:
        entities = sum(len(d.spec.services) - 1 for d in kernel.registry.devices.values())
        if entities == total:
            registered.set()

    kernel.bus.subscribe(on_registry, RegistryChanged)
    settings = HassSettings(
        enabled_in=True, discovery_prefix=PREFIX, settle=settle, settle_max=max(1.0, settle)
    )
    bridge = HassTransport(kernel, broker.settings, settings)
    started = time.perf_counter()
    await bridge.start()
    try:
        await asyncio.wait_for(registered.wait(), 60)
    except TimeoutError:
        raise RuntimeError(f"hub registered {bridge.stats['entities']}/{total}: {bridge.stats}") from None
    elapsed = time.perf_counter() - started
    stats = bridge.stats
    await bridge.stop()
    assert stats["malformed"] == {} and stats["devices"] == total // ENTITIES_PER_DEVICE, stats
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=250)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--settle", type=float, default=HassSettings().settle, help="the bridge's settle time (s)"
    )
    args = ap.parse_args()
    messages = configs(args.devices)
    total = len(messages)
    size = sum(len(p) for _, p in messages)
    with tempfile.TemporaryDirectory() as tmp:
        broker = PrivateMosquitto(Path(tmp))
        broker.conf.write_text(broker.conf.read_text() + "max_queued_messages 0\nmax_inflight_messages 0\n")
        broker.start()
        try:
            publish_retained(broker, messages)
            bare, hub = [], []
            for r in range(args.rounds):
                bare.append(run_bare(broker, total))
                hub.append(asyncio.run(run_hub(broker, total, args.settle)))
                print(f"round {r + 1}: bare paho {bare[-1] * 1000:7.1f} ms   hub {hub[-1] * 1000:7.1f} ms")
        finally:
            broker.stop()
    b, h = median(bare), median(hub)
    print(
        f"\n{total} retained configs ({size / 1024:.0f} KiB), {args.devices} devices, {args.rounds} rounds:"
    )
    print(f"  bare paho receives them all:      {b * 1000:7.1f} ms (median)")
    print(f"  hub registers all in the kernel:  {h * 1000:7.1f} ms (median, target <= 5000 ms)")
    print(f"    of which the settle time:       {args.settle * 1000:7.1f} ms")
    work = h - args.settle
    print(f"  hub work without the settle time: {work * 1000:7.1f} ms ({work / b:.1f}x bare)")
    save(
        "ha_discovery",
        {
            "entities": total,
            "devices": args.devices,
            "payload_bytes": size,
            "rounds": args.rounds,
            "settle_s": args.settle,
            "bare_median_s": b,
            "hub_median_s": h,
            "bare_rounds_s": bare,
            "hub_rounds_s": hub,
        },
    )


if __name__ == "__main__":
    main()
