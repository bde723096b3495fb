"""Trigger matching: kernel throughput with 10,000 automations loaded, against the kernel alone.

The same workload as bench/kernel_bench.py (10,000 devices, 300,000 property reports) is
run twice in each round: once through the kernel alone and once with the automation
engine subscribed and 10,000 automations loaded — one per device:

- `--scenario hit` (the worst case): each trigger is on exactly the property the workload
  changes, `above` the top of its range, so every report is looked up AND checked
  against a trigger (none starts a run: this measures matching, not running);
- `--scenario miss`: each trigger is on another property of the same device (e.g. a
  sensor's humidity while its temperature changes), so every report is looked up and
  matches nothing — the common case in a home, where most reports are telemetry.

The ratio engine/kernel-alone is the cost of matching; target >= 0.8.

    .venv/bin/python bench/automation_match_bench.py [--automations 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any

from common import median, save
from kernel_bench import MODELS, build, workload
from trilink.automation.engine import AutomationEngine
from trilink.automation.persist import MemoryAutomationStore
from trilink.kernel import PropertyChanged
from trilink.model import builtin_spec

#: for the "miss" scenario: another numeric property of each model than the one the workload changes
OTHER = {
    "trilink.sensor_ht.sim1": (2, 2),
    "trilink.plug.sim1": (3, 3),
    "trilink.light.sim1": (2, 3),
    "trilink.aircondition.sim1": (5, 1),
}


def definitions(n_devices: int, n_automations: int, scenario: str = "hit") -> dict[str, Any]:
    autos = []
    for i in range(n_automations):
        d = i % n_devices
        model, siid, piid, _ = MODELS[d % len(MODELS)]
        if scenario == "miss":
            siid, piid = OTHER[model]
        top = builtin_spec(model).properties[(siid, piid)].value_range
        assert top is not None
        autos.append(
            {
                "id": f"a{i}",
                "name": f"automation {i}",
                "triggers": [
                    {"type": "property", "device": f"d{d}", "property": f"{siid}.{piid}", "above": top.max}
                ],
                "actions": [{"stop": "never reached"}],
            }
        )
    return {"automations": autos}


async def run_once(kernel: Any, work: list[tuple[str, int, int, Any]], engine: Any = None) -> float:
    report = kernel.report
    gc.disable()
    t0 = time.perf_counter()
    for did, siid, piid, value in work:
        report(did, siid, piid, value)
    if engine is not None:
        await engine.settle()  # whatever the engine queued counts too
    dt = time.perf_counter() - t0
    gc.enable()
    return len(work) / dt


async def main_async(args: argparse.Namespace) -> None:
    plain = build(args.devices)
    plain.bus.subscribe(lambda e: None, PropertyChanged)
    with_engine = build(args.devices)
    engine = AutomationEngine(with_engine, MemoryAutomationStore())
    await engine.start()
    t0 = time.perf_counter()
    report = engine.load_data(definitions(args.devices, args.automations, args.scenario), "bench")
    load_s = time.perf_counter() - t0
    assert not report.errors, report.errors[:3]
    assert len(report.loaded) == args.automations
    work = workload(args.devices, args.updates)
    base, eng = [], []
    for r in range(args.rounds):
        base.append(await run_once(plain, work))
        eng.append(await run_once(with_engine, work, engine))
        print(
            f"round {r + 1}: kernel alone {base[-1]:,.0f}/s  with {args.automations:,} automations "
            f"{eng[-1]:,.0f}/s  (ratio {eng[-1] / base[-1]:.2f})"
        )
    stats = engine.stats
    await engine.stop()
    b, e = median(base), median(eng)
    print(f"\nscenario {args.scenario}: loading {args.automations:,} automations took {load_s:.2f} s")
    print(f"median: kernel alone {b:,.0f}/s, with automations {e:,.0f}/s, ratio {e / b:.2f} (target >= 0.8)")
    print(f"engine stats: {stats}")
    save(
        f"automation_match_{args.scenario}",
        {
            "scenario": args.scenario,
            "automations": args.automations,
            "devices": args.devices,
            "updates": args.updates,
            "kernel_alone_per_s": b,
            "with_engine_per_s": e,
            "ratio": e / b,
            "load_s": load_s,
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--automations", type=int, default=10_000)
    ap.add_argument("--updates", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scenario", choices=["hit", "miss"], default="hit")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
