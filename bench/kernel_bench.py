"""Kernel throughput: property updates per second through validation, state and dispatch.

10,000 devices are registered (a mix of built-in models); each update is a device report
that is validated against the spec, stored in the state table and published as a typed
event to one subscriber. The baseline, measured in the same run, is the floor any design
pays: a dict lookup, a dict store and one function call per update.

    .venv/bin/python bench/kernel_bench.py [--devices 10000] [--updates 300000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from common import median, save
from trilink.clock import ManualClock
from trilink.kernel import Device, Home, Kernel, PropertyChanged
from trilink.model import builtin_spec

MODELS = [
    ("trilink.sensor_ht.sim1", 2, 1, lambda i: round(20 + (i % 100) / 10, 1)),
    ("trilink.plug.sim1", 3, 1, lambda i: round((i % 2000) / 10, 1)),
    ("trilink.light.sim1", 2, 2, lambda i: 1 + i % 100),
    ("trilink.aircondition.sim1", 4, 1, lambda i: round(18 + (i % 150) / 10, 1)),
]


def build(n_devices: int) -> Kernel:
    kernel = Kernel(clock=ManualClock())
    kernel.add_home(Home("home", "Home"))
    for i in range(n_devices):
        model = MODELS[i % len(MODELS)][0]
        kernel.add_device(Device(f"d{i}", f"device {i}", model, builtin_spec(model), "bench"))
    return kernel


def workload(n_devices: int, n_updates: int) -> list[tuple[str, int, int, Any]]:
    out = []
    for i in range(n_updates):
        d = i % n_devices
        _, siid, piid, value = MODELS[d % len(MODELS)]
        # i // n_devices makes consecutive rounds over the same device report a new value
        out.append((f"d{d}", siid, piid, value(i // n_devices + d)))
    return out


def run_kernel(kernel: Kernel, work: list[tuple[str, int, int, Any]]) -> float:
    report = kernel.report
    gc.disable()
    t0 = time.perf_counter()
    for did, siid, piid, value in work:
        report(did, siid, piid, value)
    dt = time.perf_counter() - t0
    gc.enable()
    return len(work) / dt


def run_baseline(n_devices: int, work: list[tuple[str, int, int, Any]]) -> float:
    state: dict[str, dict[tuple[int, int], Any]] = {f"d{i}": {} for i in range(n_devices)}
    sink: list[Any] = []
    notify = sink.append
    gc.disable()
    t0 = time.perf_counter()
    for did, siid, piid, value in work:
        state[did][(siid, piid)] = value
        notify(value)
    dt = time.perf_counter() - t0
    gc.enable()
    return len(work) / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--updates", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    kernel = build(args.devices)
    received = [0]

    def listener(event: PropertyChanged) -> None:
        received[0] += 1

    kernel.bus.subscribe(listener, PropertyChanged)
    work = workload(args.devices, args.updates)
    k_rates, b_rates = [], []
    for r in range(args.rounds):
        k_rates.append(run_kernel(kernel, work))
        b_rates.append(run_baseline(args.devices, work))
        print(f"round {r + 1}: kernel {k_rates[-1]:,.0f}/s  baseline {b_rates[-1]:,.0f}/s")
    assert received[0] > 0.9 * args.updates * args.rounds, "events were not dispatched"
    k, b = median(k_rates), median(b_rates)
    print(
        f"\nkernel median {k:,.0f} updates/s with {args.devices:,} devices "
        f"(target >= 300,000); baseline {b:,.0f}/s; kernel/baseline = {k / b:.2f}"
    )
    save(
        "kernel",
        {
            "devices": args.devices,
            "updates": args.updates,
            "rounds": args.rounds,
            "kernel_median_per_s": k,
            "baseline_median_per_s": b,
            "ratio": k / b,
        },
    )


if __name__ == "__main__":
    main()
