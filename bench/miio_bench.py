"""miIO: request round trip and requests per second against python-miio's MIoT simulator.

The simulator (python-miio's ``miiocli devtools miot-simulator``, serving the real
zhimi.airp.rmb1 air purifier spec) runs in its own process from its own virtualenv
(``tests/miio_peer.py`` creates it if missing) on 127.0.0.1:54321. Measured:

- **trilink**: ``MiioClient.request("get_properties", [one property])`` — encrypt,
  checksum, send, wait, verify, decrypt, parse, match by id — one at a time (round trip
  p50/p95 and requests per second), then with N requests in flight (``max_in_flight=N``);
  and one full poll of the device (22 properties, two requests).
- **baseline, same run**: a bare UDP echo on loopback (a separate Python process that
  sends every datagram back), driven by the same asyncio loop with a datagram of the
  same size: the floor that the network path and the event loop set.
- **python-miio's own client** (``miio.Device.send``, its own process, blocking
  socket): the same request to the same simulator, for reference.

Rounds alternate; the figures are medians over the rounds.

    .venv/bin/python bench/miio_bench.py [--requests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import median, percentile, save

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from miio_peer import SIM_TOKEN, MiotSimulator, miio_venv
from trilink.model import load_spec_file
from trilink.transports.miio import packet
from trilink.transports.miio.protocol import MiioClient

PARAMS = [{"did": "bench", "siid": 9, "piid": 11}]
CONCURRENCY = (4, 16)

ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(65535)
    s.sendto(data, addr)
"""

PYTHON_MIIO = r"""
import json, statistics, sys, time
from miio import Device
n = int(sys.argv[1])
d = Device("127.0.0.1", "0" * 32, lazy_discover=True, timeout=2)
params = [{"did": "bench", "siid": 9, "piid": 11}]
d.send("get_properties", params)
samples = []
start = time.perf_counter()
for _ in range(n):
    t0 = time.perf_counter()
    d.send("get_properties", params)
    samples.append(time.perf_counter() - t0)
elapsed = time.perf_counter() - start
print(json.dumps({"samples": samples, "elapsed": elapsed}))
"""


def summary(samples: list[float], elapsed: float) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {"p50_ms": median(ms), "p95_ms": percentile(ms, 95), "per_s": len(samples) / elapsed}


class _Echo(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: asyncio.Future[bytes] | None = None

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(data)


async def echo_round_trips(port: int, n: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Echo, remote_addr=("127.0.0.1", port))
    cipher = packet.TokenCipher(bytes(16))
    datagram = packet.build_packet(cipher, 1, 2, packet.encode_request(1, "get_properties", PARAMS))
    samples = []
    try:
        start = time.perf_counter()
        for _ in range(n):
            proto.waiting = loop.create_future()
            t0 = time.perf_counter()
            transport.sendto(datagram)
            await asyncio.wait_for(proto.waiting, 2)
            samples.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    finally:
        transport.close()
    return summary(samples, elapsed)


async def trilink_sequential(n: int) -> dict[str, float]:
    client = MiioClient("127.0.0.1", bytes.fromhex(SIM_TOKEN), timeout=2)
    await client.open()
    try:
        await client.request("get_properties", PARAMS)  # handshake, outside the timing
        samples = []
        start = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            await client.request("get_properties", PARAMS)
            samples.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
    finally:
        client.close()
    if client.stats.timeouts:
        raise RuntimeError(f"{client.stats.timeouts} timeouts in the sequential run")
    return summary(samples, elapsed)


async def trilink_concurrent(n: int, in_flight: int) -> float:
    client = MiioClient("127.0.0.1", bytes.fromhex(SIM_TOKEN), timeout=2, max_in_flight=in_flight)
    await client.open()
    try:
        await client.request("get_properties", PARAMS)
        start = time.perf_counter()
        await asyncio.gather(*(client.request("get_properties", PARAMS) for _ in range(n)))
        elapsed = time.perf_counter() - start
    finally:
        client.close()
    if client.stats.timeouts:
        raise RuntimeError(f"{client.stats.timeouts} timeouts with {in_flight} in flight")
    return n / elapsed


async def full_polls(spec_path: Path, n: int) -> float:
    """Median ms of reading every readable property of the spec, 15 a request."""
    readable = [p for p in load_spec_file(spec_path).iter_properties() if p.readable]
    batches = [
        [{"did": "bench", "siid": p.siid, "piid": p.iid} for p in readable[i : i + 15]]
        for i in range(0, len(readable), 15)
    ]
    client = MiioClient("127.0.0.1", bytes.fromhex(SIM_TOKEN), timeout=2)
    await client.open()
    samples = []
    try:
        await client.handshake()
        for _ in range(n):
            t0 = time.perf_counter()
            for batch in batches:
                await client.request("get_properties", batch)
            samples.append((time.perf_counter() - t0) * 1000)
    finally:
        client.close()
    return median(samples)


def python_miio_round_trips(n: int) -> dict[str, float] | None:
    python = miio_venv() / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", PYTHON_MIIO, str(n)], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        print(f"python-miio's client failed: {done.stderr[-500:]}")
        return None
    data = json.loads(done.stdout)
    return summary(data["samples"], data["elapsed"])


def codec_per_second(n: int = 20000) -> float:
    """Build and parse one request packet, n times: packets per second through the codec."""
    cipher = packet.TokenCipher(bytes(16))
    plain = packet.encode_request(1, "get_properties", PARAMS)
    start = time.perf_counter()
    for i in range(n):
        packet.decode_request(packet.parse_packet(packet.build_packet(cipher, 1, i, plain), cipher).payload)
    return n / (time.perf_counter() - start)


def _line(row: dict[str, float]) -> str:
    return f"p50 {row['p50_ms']:.3f} ms, p95 {row['p95_ms']:.3f} ms, {row['per_s']:.0f}/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    n = args.requests
    sim = MiotSimulator()
    echo = subprocess.Popen([sys.executable, "-c", ECHO], stdout=subprocess.PIPE, text=True)
    rounds: list[dict[str, Any]] = []
    try:
        assert echo.stdout is not None
        echo_port = int(echo.stdout.readline())
        sim.start()
        for r in range(args.rounds):
            row: dict[str, Any] = {"echo": asyncio.run(echo_round_trips(echo_port, n))}
            row["trilink"] = asyncio.run(trilink_sequential(n))
            for k in CONCURRENCY:
                row[f"trilink_{k}_in_flight_per_s"] = asyncio.run(trilink_concurrent(n, k))
            row["full_poll_ms"] = asyncio.run(full_polls(sim.spec, max(20, n // 10)))
            row["python_miio"] = python_miio_round_trips(n)
            rounds.append(row)
            t, e = row["trilink"], row["echo"]
            print(
                f"round {r + 1}: echo p50 {e['p50_ms']:.3f} ms | trilink p50 {t['p50_ms']:.3f} ms "
                f"p95 {t['p95_ms']:.3f} ms, {t['per_s']:.0f}/s | "
                + " | ".join(
                    f"{k} in flight {row[f'trilink_{k}_in_flight_per_s']:.0f}/s" for k in CONCURRENCY
                )
            )
    finally:
        sim.stop()
        echo.terminate()
        echo.wait()

    def med(*path: str) -> float:
        values = []
        for row in rounds:
            value: Any = row
            for key in path:
                value = value[key] if value is not None else None
            if value is not None:
                values.append(value)
        return median(values) if values else float("nan")

    result = {
        "echo": {k: med("echo", k) for k in ("p50_ms", "p95_ms", "per_s")},
        "trilink": {k: med("trilink", k) for k in ("p50_ms", "p95_ms", "per_s")},
        "trilink_in_flight_per_s": {k: med(f"trilink_{k}_in_flight_per_s") for k in CONCURRENCY},
        "full_poll_ms": med("full_poll_ms"),
        "python_miio": {k: med("python_miio", k) for k in ("p50_ms", "p95_ms", "per_s")},
        "codec_packets_per_s": codec_per_second(),
    }
    e, t, m = result["echo"], result["trilink"], result["python_miio"]
    print(f"\nmedians over {args.rounds} rounds of {n} requests:")
    print(f"  bare UDP echo (asyncio, loopback)    : {_line(e)}")
    print(f"  trilink get_properties, 1 at a time  : {_line(t)}")
    for k, rate in result["trilink_in_flight_per_s"].items():
        print(f"  trilink get_properties, {k:>2} in flight : {rate:.0f}/s")
    print(f"  python-miio Device.send, 1 at a time : {_line(m)}")
    print(f"  full poll (22 properties, 2 requests): {result['full_poll_ms']:.2f} ms")
    print(f"  codec alone (build + parse a request packet): {result['codec_packets_per_s']:.0f}/s")
    save("miio", {"requests": n, "rounds": args.rounds, "rounds_detail": rounds, **result})


if __name__ == "__main__":
    main()
