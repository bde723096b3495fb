"""Battery state-of-health estimation on a simulated fleet: accuracy, interval coverage, fast-fade alarms.

Each car is simulated alone (``trilink.sim.car.simulate_usage``: daily commute, weekend
trips, evening charging, no MQTT) with its own fade rates, starting state of health,
climate, commute, charge limit, charger power, plug-in habit, SoC sensor error and charger
efficiency (conversion 95–97 %, overhead 0.15–0.35 kW, resistive loss ±30 %: the
estimator only knows a nominal curve). About 30 % of the cars fade fast (4–10 %/year
calendar plus heavy cycle ageing); the rest age normally (1–2.2 %/year plus light cycle
ageing). The samples go through ``trilink.diagnostics.ev.BatteryHealth``; its estimate is
compared with the simulator's true state of health at checkpoints and at the end.

Baselines in the same run: the last session's energy from the wall / ΔSoC (no efficiency
correction, whole session) and the median of that over all sessions.

    .venv/bin/python bench/diagnostics_ev.py [--cars 120] [--days 365] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from common import save
from trilink.diagnostics.base import Sample
from trilink.diagnostics.ev import BatteryHealth
from trilink.sim.car import ElectricCar, UsagePattern, simulate_usage
from trilink.sim.thermal import Weather

START = 1_782_662_400.0  # Monday 29 June 2026, 00:00 UTC
CHECKPOINTS = (30, 90, 180)  # days, besides the end
NOMINAL_KWH = 75.0


def _car(rng: random.Random, index: int, seed: int) -> tuple[ElectricCar, UsagePattern, bool]:
    fast = rng.random() < 0.3
    car = ElectricCar(
        Weather(rng.choice(["hot-humid", "temperate", "cold"]), seed=seed * 1000 + index),
        capacity_kwh=NOMINAL_KWH,
        state_of_health=rng.uniform(0.86, 1.0),
        state_of_charge=rng.uniform(40.0, 90.0),
        plugged_in=False,
        calendar_fade_pct_per_year=rng.uniform(4.0, 10.0) if fast else rng.uniform(1.0, 2.2),
        cycle_fade_pct_per_1000=rng.uniform(20.0, 60.0) if fast else rng.uniform(2.0, 8.0),
        soc_error_pct=rng.uniform(0.2, 0.5),
        seed=seed * 1000 + index,
    )
    car.charge_efficiency = rng.uniform(0.95, 0.97)
    car.charge_overhead_kw = rng.uniform(0.15, 0.35)
    car.charge_resistive_per_kw = 0.0025 * rng.uniform(0.7, 1.3)
    pattern = UsagePattern(
        commute_km=rng.uniform(5.0, 60.0),
        weekend_km=rng.uniform(0.0, 200.0),
        charge_limit=rng.choice([70, 80, 90, 90, 100]),
        charger_kw=rng.choice([3.7, 7.4, 11.0, 11.0, 22.0]),
        plug_below_pct=rng.choice([100.0, 100.0, 60.0, 40.0]),
        kwh_per_km=rng.uniform(0.15, 0.2),
    )
    return car, pattern, fast


def _simulate(index: int, days: int, seed: int) -> dict[str, Any]:
    rng = random.Random(f"ev-bench-{seed}-{index}")
    car, pattern, fast = _car(rng, index, seed)
    soh_start = car.state_of_health * 100.0
    detector = BatteryHealth(f"car-{index}", NOMINAL_KWH)
    checkpoints: dict[int, dict[str, float | None]] = {}
    naive: list[float] = []
    session_start: tuple[float, float] | None = None  # (soc, energy) at plug-in
    last_state = 0.0
    pending = list(CHECKPOINTS)
    for ts, values in simulate_usage(car, START, days, pattern, seed=seed * 1000 + index):
        detector.observe(Sample(ts, values))
        state = values["charging-state"]
        if state == 2 and last_state != 2:
            session_start = (values["state-of-charge"], values["session-energy"])
        elif state != 2 and last_state == 2 and session_start is not None:
            dsoc = values["state-of-charge"] - session_start[0]
            if dsoc >= 10.0:
                energy = values["session-energy"] - session_start[1]
                naive.append(100.0 * energy / (dsoc / 100.0) / NOMINAL_KWH)
            session_start = None
        last_state = state
        while pending and ts >= START + pending[0] * 86400.0:
            est = detector.estimate()
            checkpoints[pending.pop(0)] = {
                "truth": car.state_of_health * 100.0,
                "soh": est.soh_pct if est else None,
                "low": est.low_pct if est else None,
                "high": est.high_pct if est else None,
            }
    est = detector.estimate()
    truth = car.state_of_health * 100.0
    checkpoints[days] = {
        "truth": truth,
        "soh": est.soh_pct if est else None,
        "low": est.low_pct if est else None,
        "high": est.high_pct if est else None,
    }
    rate = (soh_start - truth) / (days / 365.25)
    return {
        "fast": fast,
        "positive": rate > 3.0 or truth < 80.0,
        "true_rate": rate,
        "fitted_rate": est.fade_pct_per_year if est else None,
        "flagged": bool(detector.findings()),
        "sessions": est.sessions if est else 0,
        "checkpoints": checkpoints,
        "naive_last": naive[-1] if naive else None,
        "naive_median": statistics.median(naive) if naive else None,
        "pattern": {
            "commute_km": pattern.commute_km,
            "charge_limit": pattern.charge_limit,
            "charger_kw": pattern.charger_kw,
            "plug_below_pct": pattern.plug_below_pct,
        },
    }


def _mae(pairs: list[tuple[float, float]]) -> float:
    return statistics.fmean(abs(a - b) for a, b in pairs) if pairs else float("nan")


def run(cars: int = 120, seed: int = 1, days: int = 365) -> dict[str, Any]:
    """Simulate ``cars`` cars for ``days`` days and score the estimator; returns the metrics."""
    t0 = time.perf_counter()
    results = [_simulate(i, days, seed) for i in range(cars)]
    at: dict[str, dict[str, Any]] = {}
    for day in (*CHECKPOINTS, days):
        points = [r["checkpoints"][day] for r in results if day in r["checkpoints"]]
        known = [p for p in points if p["soh"] is not None]
        errors = [(p["soh"], p["truth"]) for p in known]
        covered = [p["low"] <= p["truth"] <= p["high"] for p in known]
        at[str(day)] = {
            "cars_with_estimate": len(known),
            "soh_mae_pp": _mae(errors),
            "soh_max_err_pp": max((abs(a - b) for a, b in errors), default=float("nan")),
            "coverage_90": sum(covered) / len(covered) if covered else float("nan"),
            "mean_width_pp": statistics.fmean(p["high"] - p["low"] for p in known) if known else float("nan"),
        }
    final = [r["checkpoints"][days] for r in results]
    truth = [p["truth"] for p in final]
    baselines = {
        "naive_last_session": _mae(
            [(r["naive_last"], t) for r, t in zip(results, truth, strict=True) if r["naive_last"] is not None]
        ),
        "naive_median_sessions": _mae(
            [
                (r["naive_median"], t)
                for r, t in zip(results, truth, strict=True)
                if r["naive_median"] is not None
            ]
        ),
    }
    positives = [r for r in results if r["positive"]]
    negatives = [r for r in results if not r["positive"]]
    detected = sum(r["flagged"] for r in positives)
    false_alarms = sum(r["flagged"] for r in negatives)
    rate_pairs = [(r["fitted_rate"], r["true_rate"]) for r in results if r["fitted_rate"] is not None]
    return {
        "cars": cars,
        "days": days,
        "seed": seed,
        "seconds": time.perf_counter() - t0,
        "sessions_median": statistics.median(r["sessions"] for r in results),
        "at_day": at,
        "baseline_soh_mae_pp": baselines,
        "fade_rate_mae_pct_per_year": _mae(rate_pairs),
        "fast_fade": {
            "positives": len(positives),
            "negatives": len(negatives),
            "detected": detected,
            "false_alarms": false_alarms,
            "recall": detected / len(positives) if positives else float("nan"),
            "false_alarm_rate": false_alarms / len(negatives) if negatives else float("nan"),
        },
    }


def _table(r: dict[str, Any]) -> str:
    lines = [
        f"{r['cars']} cars × {r['days']} days, seed {r['seed']}, {r['seconds']:.1f} s, "
        f"median {r['sessions_median']:.0f} usable sessions per car",
        "",
        "| day | cars with estimate | SoH MAE (pp) | max error (pp) | 90 % coverage | mean width (pp) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for day, m in r["at_day"].items():
        lines.append(
            f"| {day} | {m['cars_with_estimate']} | {m['soh_mae_pp']:.2f} | {m['soh_max_err_pp']:.2f} | "
            f"{m['coverage_90']:.0%} | {m['mean_width_pp']:.2f} |"
        )
    b = r["baseline_soh_mae_pp"]
    f = r["fast_fade"]
    lines += [
        "",
        f"baseline SoH MAE at day {r['days']}: last session energy/ΔSoC {b['naive_last_session']:.2f} pp, "
        f"median of sessions {b['naive_median_sessions']:.2f} pp (no efficiency correction)",
        f"fade rate MAE: {r['fade_rate_mae_pct_per_year']:.2f} %/year",
        f"fast fade: detected {f['detected']}/{f['positives']} ({f['recall']:.0%}), "
        f"false alarms {f['false_alarms']}/{f['negatives']} ({f['false_alarm_rate']:.0%})",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cars", type=int, default=120)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.cars, args.seed, args.days)
    print(_table(result))
    print(f"\nsaved {save('diagnostics_ev', result)}")


if __name__ == "__main__":
    main()
