"""Start-up to ready, and resident memory, with 1,000 and 10,000 devices in the store.

For each size a store is filled with that many devices (a mix of built-in models, each
with its last state), then a fresh process starts a hub on it — store loaded, MQTT
connected to Mosquitto on 127.0.0.1:1883, API listening — and prints READY. We time from
spawning the process to READY, and read the process's resident memory at READY. The
baselines, measured in the same run: the same hub with an empty store, and a bare
`python -c pass`.

    .venv/bin/python bench/startup_bench.py [--sizes 1000 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import median, save
from trilink.kernel import SYSTEM, Device, Home, PropertyChanged, Room
from trilink.model import builtin_spec
from trilink.store import SQLiteStore

MODELS = ["trilink.sensor_ht.sim1", "trilink.light.sim1", "trilink.plug.sim1", "trilink.aircondition.sim1"]

PROBE = r"""
import asyncio, sys, time
import psutil
from pathlib import Path
from trilink.config import ApiConfig, HubConfig, StoreConfig
from trilink.hub import Hub
from trilink.transports.mqtt.settings import MqttSettings

async def main():
    cfg = HubConfig(store=StoreConfig(path=Path(sys.argv[1])), api=ApiConfig(port=0))
    hub = Hub(cfg, mqtt=MqttSettings(client_id="bench-startup"))
    info = await hub.start()
    await hub.transport.wait_connected(10)
    rss = psutil.Process().memory_info().rss
    print(f"READY {len(hub.kernel.registry.devices)} {rss}", flush=True)
    await hub.stop()

asyncio.run(main())
"""


def fill(path: Path, n: int) -> None:
    with SQLiteStore(path) as store:
        store.save_home(Home("home", "Home"))
        for r in range(20):
            store.save_room(Room(f"room{r}", "home", f"Room {r}"))
        events = []
        for i in range(n):
            model = MODELS[i % len(MODELS)]
            spec = builtin_spec(model)
            store.save_device(Device(f"d{i}", f"Device {i}", model, spec, "mqtt", "home", f"room{i % 20}"))
            for prop in spec.iter_properties():
                if prop.format == "bool":
                    value: object = True
                elif prop.value_range is not None:
                    value = prop.value_range.min
                elif prop.value_list:
                    value = prop.value_list[0].value
                else:
                    continue
                events.append(PropertyChanged(f"d{i}", prop.siid, prop.iid, value, None, 1.8e9, SYSTEM))
            if len(events) > 20000:
                store.write_changes(events)
                events = []
        store.write_changes(events)


def probe(path: Path) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=120
    )
    elapsed = time.perf_counter() - t0
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("READY")), None)
    if line is None:
        raise RuntimeError(f"probe failed:\n{proc.stdout}\n{proc.stderr}")
    _, devices, rss = line.split()
    return elapsed, int(devices), int(rss)


def bare_python() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in [0, *args.sizes]:
            db = Path(tmp) / f"hub{n}.db"
            SQLiteStore(db).open().close() if n == 0 else fill(db, n)
            times, rss = [], []
            for _ in range(args.rounds):
                t, devices, r = probe(db)
                assert devices == n, (devices, n)
                times.append(t)
                rss.append(r)
            results[str(n)] = {"ready_s": median(times), "rss_mb": median(rss) / 2**20}
            print(f"{n:>6} devices: ready in {median(times):.2f} s, RSS {median(rss) / 2**20:.0f} MB")
    py = median([bare_python() for _ in range(args.rounds)])
    print(f"bare python start: {py:.3f} s")
    for n in args.sizes:
        r = results[str(n)]
        print(
            f"{n:>6}: ready {r['ready_s']:.2f} s (empty hub {results['0']['ready_s']:.2f} s, "
            f"ratio {r['ready_s'] / results['0']['ready_s']:.2f}); RSS {r['rss_mb']:.0f} MB "
            f"(empty hub {results['0']['rss_mb']:.0f} MB)"
        )
    save("startup", {"results": results, "bare_python_s": py, "rounds": args.rounds})


if __name__ == "__main__":
    main()
