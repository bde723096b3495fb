"""AC diagnostics on a labelled fleet: detection, false alarms, delay and severity error.

A fleet of simulated split units (``trilink.sim.climates``: several climates, usages and
per-unit rating spread, seeded sensor noise) runs for ``--days`` at 10-minute telemetry.
A third are healthy, the rest develop a clogging filter or a refrigerant leak at one
of several rates (or all at once) from a random onset day. Each unit's telemetry feeds
``trilink.diagnostics.ac.ACHealth`` and, for comparison, a fixed-threshold rule that
knows only the nameplate.

Detection counts when a finding of the right fault arrives no later than 3 days after
the fault reached its reference level (20 % airflow lost, 15 % charge lost), and not
before the fault began. A false alarm is any finding on a healthy unit.

    python bench/diagnostics_eval.py --units 300 --days 30 --seed 1
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import deque
from multiprocessing import Pool
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile, save
from trilink.diagnostics.ac import ACHealth
from trilink.diagnostics.base import Sample
from trilink.sim.aircon import FAN_SPEED, FanLevel
from trilink.sim.climates import SUMMER_CLIMATES, USAGES, solo_unit

DAY = 86400.0
STEP = 600.0
#: the level at which each fault must be found (within GRACE_DAYS of reaching it)
REFERENCE = {"filter_clog": 0.20, "undercharge": 0.15}
GRACE_DAYS = 3.0
#: fault growth per day (None: the fault appears at once at STEP_LEVELS)
RATES: dict[str, list[float | None]] = {
    "filter_clog": [0.01, 0.015, 0.025, 0.04, 0.08, None],
    "undercharge": [0.0075, 0.01, 0.02, 0.04, None],
}
STEP_LEVELS = {"filter_clog": (0.2, 0.35), "undercharge": (0.15, 0.3)}


class FixedRule:
    """The nameplate rule: airflow below 85 % of rated for the fan speed, or a split below 8 K.

    It uses the same steady-state filter as ACHealth and needs the condition on the mean of
    the last 12 steady samples (2 h), so it differs only in what it compares against.
    """

    AIRFLOW_FRACTION = 0.85
    MIN_SPLIT_K = 8.0

    def __init__(self) -> None:
        self.prev: dict[str, float] | None = None
        self.last: float | None = None
        self.airflow: deque[float] = deque(maxlen=12)
        self.split: deque[float] = deque(maxlen=12)
        self.detected: dict[str, float] = {}
        self.severity: dict[str, float] = {}

    def observe(self, ts: float, v: dict[str, float]) -> None:
        dt_h = 0.0 if self.last is None else (ts - self.last) / 3600.0
        self.last = ts
        cooling = ACHealth._cooling(v)
        prev, self.prev = self.prev, (v if cooling else None)
        if not cooling or prev is None or not ACHealth._steady(prev, v, dt_h):
            return
        # nameplate: the 3.5 kW model moves 650 m³/h with a 35 W fan, the 2.6 kW one 520 m³/h / 28 W
        rated_af, rated_fw = (650.0, 35.0) if v["fan-power"] > 0.6 * 28.0 * 1.2 else (520.0, 28.0)
        if v["airflow"] > 0.85 * 520.0 * 0.82 and v["fan-power"] > 0.6 * 35.0:
            rated_af, rated_fw = 650.0, 35.0
        level = min(FAN_SPEED, key=lambda lv: abs(math.log(v["fan-power"] / (rated_fw * FAN_SPEED[lv] ** 3))))
        self.airflow.append(v["airflow"] / (rated_af * FAN_SPEED[FanLevel(level)]))
        self.split.append(v["temperature"] - v["supply-air-temperature"])
        if len(self.airflow) == self.airflow.maxlen:
            af = statistics.fmean(self.airflow)
            if af < self.AIRFLOW_FRACTION:
                self.detected.setdefault("filter_clog", ts)
                self.severity.setdefault("filter_clog", 1.0 - af)
            if statistics.fmean(self.split) < self.MIN_SPLIT_K:
                self.detected.setdefault("undercharge", ts)
                self.severity.setdefault("undercharge", float("nan"))


def plan(n: int, seed: int) -> list[dict[str, Any]]:
    """The labelled fleet: a third healthy, a third clogging, a third leaking."""
    rng = random.Random(f"fleet-{seed}")
    climates, usages = list(SUMMER_CLIMATES), list(USAGES)
    units = []
    for i in range(n):
        fault = ("healthy", "filter_clog", "undercharge")[i % 3]
        unit: dict[str, Any] = {
            "id": i,
            "seed": seed * 100_000 + i,
            "climate": climates[(i // 3) % len(climates)],
            "usage": rng.choice(usages),
            "fault": fault,
        }
        if fault != "healthy":
            unit["onset_day"] = rng.uniform(5.0, 12.0)
            unit["rate"] = rng.choice(RATES[fault])
            unit["step_level"] = rng.choice(STEP_LEVELS[fault])
        units.append(unit)
    return units


def run_unit(unit: dict[str, Any], days: float) -> dict[str, Any]:
    """Simulate one unit and feed both detectors; return what they found and when."""
    su = solo_unit(unit["climate"], unit["usage"], unit["seed"], sensor_noise=True)
    ac, start = su.ac, su.time
    fault = unit["fault"]
    ours, fixed = ACHealth(f"ac-{unit['id']}"), FixedRule()
    level_at: dict[str, float] = {}
    reached: float | None = None
    ours_at: dict[str, tuple[float, float, float]] = {}  # fault → (ts, estimated, true)
    fixed_at: dict[str, tuple[float, float, float]] = {}
    onset = start + unit.get("onset_day", math.inf) * DAY
    started = False
    peak = {"filter_clog": 0.0, "undercharge": 0.0}
    for ts, values in su.run(days * DAY, STEP):
        if fault != "healthy" and not started and ts >= onset:
            started = True
            if unit["rate"] is None:
                setattr(ac, fault, unit["step_level"])
            elif fault == "filter_clog":
                ac.filter_clog_rate = unit["rate"]
            else:
                ac.leak_rate = unit["rate"]
        true = {"filter_clog": ac.filter_clog, "undercharge": ac.undercharge}
        if fault != "healthy" and reached is None and true[fault] >= REFERENCE[fault] - 1e-9:
            reached = ts
        ours.observe(Sample(ts, values))
        peak["filter_clog"] = max(peak["filter_clog"], ours.clog.s / ours.clog.h)
        peak["undercharge"] = max(peak["undercharge"], ours.short.s / ours.short.h)
        fixed.observe(ts, values)
        for f in ours.findings():
            if f.fault not in ours_at:
                ours_at[f.fault] = (ts, f.severity, true[f.fault])
        for name, t in fixed.detected.items():
            if name not in fixed_at:
                fixed_at[name] = (t, fixed.severity[name], true[name])
        level_at = true
    end = su.time
    final = {f.fault: f.severity for f in ours.findings()}
    return {
        **unit,
        "start": start,
        "end": end,
        "onset": onset if fault != "healthy" else None,
        "reached": reached,
        "final_level": level_at.get(fault) if fault != "healthy" else 0.0,
        "ours": ours_at,
        "ours_final": final,
        "fixed": fixed_at,
        "learned": not ours.learning,
        "peak": peak,
    }


def _summ(results: list[dict[str, Any]], who: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    healthy = [r for r in results if r["fault"] == "healthy"]
    fa = [r for r in healthy if r[who]]
    out["false_alarm_rate"] = len(fa) / len(healthy) if healthy else float("nan")
    out["false_alarms"] = len(fa)
    out["healthy_units"] = len(healthy)
    for fault in REFERENCE:
        units = [r for r in results if r["fault"] == fault]
        eligible = [
            r for r in units if r["reached"] is not None and r["reached"] + GRACE_DAYS * DAY <= r["end"]
        ]
        hits, delays, sev_det, sev_end, early = [], [], [], [], 0
        for r in eligible:
            got = r[who].get(fault)
            if got is not None and got[0] < r["onset"]:
                early += 1  # raised before the fault began: a false alarm, not a detection
                continue
            if got is not None and got[0] <= r["reached"] + GRACE_DAYS * DAY:
                hits.append(r)
                delays.append((got[0] - r["reached"]) / DAY)
                if not math.isnan(got[1]):
                    sev_det.append(abs(got[1] - got[2]))
                if who == "ours" and fault in r["ours_final"]:
                    sev_end.append(abs(r["ours_final"][fault] - r["final_level"]))
        other = next(f for f in REFERENCE if f != fault)
        wrong = [r for r in units if other in r[who]]
        out[fault] = {
            "units": len(units),
            "eligible": len(eligible),
            "detected": len(hits),
            "detection_rate": len(hits) / len(eligible) if eligible else float("nan"),
            "raised_before_onset": early,
            "wrong_fault_rate": len(wrong) / len(units) if units else float("nan"),
            "delay_days_median": statistics.median(delays) if delays else float("nan"),
            "delay_days_p90": percentile(delays, 90) if delays else float("nan"),
            "severity_mae_at_detection": statistics.fmean(sev_det) if sev_det else float("nan"),
            "severity_mae_at_end": statistics.fmean(sev_end) if sev_end else float("nan"),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    units = plan(args.units, args.seed)
    t0 = time.perf_counter()
    with Pool(args.workers) as pool:
        results = pool.starmap(run_unit, [(u, args.days) for u in units], chunksize=4)
    elapsed = time.perf_counter() - t0
    summary = {"ours": _summ(results, "ours"), "fixed": _summ(results, "fixed")}
    per_climate = {
        c: {"ours": _summ([r for r in results if r["climate"] == c], "ours")} for c in SUMMER_CLIMATES
    }
    print(f"{args.units} units × {args.days:g} days in {elapsed:.0f} s (seed {args.seed})")
    print(f"{'':34}{'ACHealth':>12}{'fixed rule':>12}")

    def row(label: str, a: float, b: float, fmt: str = "{:.1%}") -> None:
        fa = fmt.format(a) if not math.isnan(a) else "—"
        fb = fmt.format(b) if not math.isnan(b) else "—"
        print(f"{label:34}{fa:>12}{fb:>12}")

    o, f = summary["ours"], summary["fixed"]
    row(f"false alarms (healthy, n={o['healthy_units']})", o["false_alarm_rate"], f["false_alarm_rate"])
    for fault in REFERENCE:
        so, sf = o[fault], f[fault]
        print(f"{fault} (n={so['units']}, eligible {so['eligible']}, ref {REFERENCE[fault]:.0%})")
        row("  detected ≤ 3 d after ref level", so["detection_rate"], sf["detection_rate"])
        row("  wrong fault raised", so["wrong_fault_rate"], sf["wrong_fault_rate"])
        row("  raised before onset (count)", so["raised_before_onset"], sf["raised_before_onset"], "{:.0f}")
        row("  delay vs ref level, median (d)", so["delay_days_median"], sf["delay_days_median"], "{:+.1f}")
        row("  delay vs ref level, p90 (d)", so["delay_days_p90"], sf["delay_days_p90"], "{:+.1f}")
        row(
            "  severity MAE at detection",
            so["severity_mae_at_detection"],
            sf["severity_mae_at_detection"],
            "{:.3f}",
        )
        row("  severity MAE at end", so["severity_mae_at_end"], sf["severity_mae_at_end"], "{:.3f}")
    healthy = [r for r in results if r["fault"] == "healthy"]
    for fault in REFERENCE:
        peaks = [r["peak"][fault] for r in healthy]
        summary["ours"][fault]["healthy_peak_cusum_p99"] = percentile(peaks, 99) if peaks else 0.0
        print(
            f"healthy units' {fault} CUSUM peak / threshold: p50 {percentile(peaks, 50):.2f}, "
            f"p99 {percentile(peaks, 99):.2f}, max {max(peaks, default=0.0):.2f}"
        )
    unlearned = sum(not r["learned"] for r in results)
    summary["ours"]["units_still_learning_at_end"] = unlearned
    print(f"units whose baseline was still incomplete at the end: {unlearned}")
    print("per climate (ACHealth): detection clog / undercharge, false alarms")
    for c, s in per_climate.items():
        so = s["ours"]
        clog, short = so["filter_clog"]["detection_rate"], so["undercharge"]["detection_rate"]
        print(f"  {c:10} {clog:.0%} / {short:.0%}, {so['false_alarm_rate']:.0%}")
    if not args.no_save:
        path = save(
            "diagnostics_eval",
            {
                "args": vars(args),
                "elapsed_s": elapsed,
                "summary": summary,
                "per_climate": per_climate,
                "units": [
                    {
                        k: r[k]
                        for k in ("id", "climate", "usage", "fault", "rate", "reached", "ours", "fixed")
                        if k in r
                    }
                    for r in results
                ],
            },
        )
        print(f"saved {path}")


if __name__ == "__main__":
    main()
