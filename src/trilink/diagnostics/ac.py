"""Air-conditioner health: a clogged filter and a refrigerant undercharge, from telemetry alone.

:class:`ACHealth` watches one split unit (the ``trilink.aircondition.sim1`` telemetry, or
any unit reporting the same properties) and learns **that unit's own healthy baseline**
rather than trusting its nameplate. See docs/diagnostics.md for the method; in short:

1. **Steady operation only.** A sample counts when the unit is cooling with the
   compressor running (runtime ≥ :data:`MIN_RUNTIME_PCT` %, compressor power > 0, supply
   air at least 3 K below the room), the previous sample (≤ 20 min earlier) was cooling at
   the same fan speed, and the room and the supply air have settled (changing by at most
   :data:`MAX_ROOM_RATE_K_H` and :data:`MAX_SUPPLY_STEP_K`). Start-ups, pull-downs, fan-only
   and heating are skipped.
2. **Baseline.** From install (or :meth:`ACHealth.reset`) the detector learns, per fan
   speed (identified from the fan's power draw, which a clogging filter changes far less
   than a speed step does), the airflow, and a regression of the air-side temperature
   split ΔT = indoor − supply air and of the sensible efficiency (sensible cooling per
   compressor watt) on indoor temperature, indoor humidity and outdoor temperature. It is
   fitted once :data:`BASELINE_MIN_HOURS` steady hours over at least
   :data:`BASELINE_MIN_DAYS` days are in, then frozen.
3. **Residuals.** Filter clogging: the airflow lost at the same fan speed,
   ``1 − airflow / learned``, which is directly the severity. Undercharge: the shortfall of
   the temperature split against the baseline prediction, ``1 − ΔT / ΔT̂``; a clogged filter
   moves it the other way (less air, colder supply), so the two faults do not mask as
   each other. The split shortfall maps to charge lost through :func:`charge_loss`.
4. **Persistence.** Each residual feeds a time-weighted one-sided CUSUM (weighted by the
   steady hours each sample covers); a Finding needs the CUSUM past its threshold, so a few
   odd hours never raise one. Severity is an exponentially weighted mean over ~12 steady
   hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trilink.diagnostics.base import Finding, Sample
from trilink.diagnostics.steady import ConditionedBaseline, Cusum, WindowMean

#: a steady sample needs the compressor running at least this share of the interval
MIN_RUNTIME_PCT = 10.0
#: ... or (a pull-down after an idle spell) at least this share of the interval alone
LONG_RUN_PCT = 75.0
#: ... the room changing no faster than this (K/h) ...
MAX_ROOM_RATE_K_H = 1.5
#: ... and the supply air within this (K) of the previous sample
MAX_SUPPLY_STEP_K = 1.5
#: the longest interval a sample may cover (h); longer gaps break steady runs
MAX_GAP_H = 20.0 / 60.0
#: steady fan hours, and steady cooling hours, over at least BASELINE_MIN_DAYS days, before
#: the airflow and the split baselines are fixed
AIRFLOW_MIN_HOURS = 6.0
BASELINE_MIN_HOURS = 8.0
BASELINE_MIN_DAYS = 2.0
#: a baseline is fitted anyway after this many days if it has half its hours
BASELINE_MAX_DAYS = 5.0
#: ... and this many steady hours (a lightly used unit)
BASELINE_LATE_HOURS = 1.0
#: a fan speed seen for less than this during learning is not monitored
MIN_FAN_HOURS = 0.5
#: fan speeds differ by more than this in log fan power (a step is ≥ 0.4)
FAN_CLUSTER_LOG = 0.18
#: CUSUM allowances (deviation tolerated) and thresholds (deviation × steady hours)
CLOG_K, CLOG_H = 0.07, 1.2
UNDERCHARGE_K, UNDERCHARGE_H = 0.015, 0.15
#: how far (indoor K, g/kg, outdoor K) beyond the conditions seen while learning the split
#: baseline is still trusted
CONDITION_MARGINS = (2.0, 2.0, 1.5)
#: the split scales as airflow^-x between fan speeds (used for a speed not seen while learning)
SPLIT_AIRFLOW_EXPONENT = 0.75
#: severity and evidence are means over the last this many steady hours
SEVERITY_SPAN_H = 8.0
#: properties a steady sample needs
NEEDED = (
    "temperature",
    "relative-humidity",
    "outdoor-temperature",
    "supply-air-temperature",
    "airflow",
    "compressor-power",
    "runtime-fraction",
)
_RHO_CP = 1.2 * 1006.0 / 3600.0  # W per (m³/h · K)


def humidity_ratio(t: float, rh: float) -> float:
    """Humidity ratio (kg/kg) of air at ``t`` °C and ``rh`` % (Magnus, sea-level pressure)."""
    pw = max(0.0, min(100.0, rh)) / 100.0 * 610.94 * math.exp(17.625 * t / (t + 243.04))
    return 0.621945 * pw / (101_325.0 - pw)


def charge_loss(split_shortfall: float) -> float:
    """Refrigerant charge lost (0..1) for a fractional shortfall of the air-side temperature split.

    The inverse of ``shortfall ≈ 0.3·F + F²``, the sensitivity of a split unit's sensible
    capacity to charge lost under the Cheung & Braun (2013) correlations (NREL's
    NonStandardCharging measure) averaged over typical indoor and outdoor conditions.
    """
    s = max(0.0, split_shortfall)
    return min(0.9, (-0.3 + math.sqrt(0.09 + 4.0 * s)) / 2.0)


class ACHealth:
    """Detects filter clogging and refrigerant undercharge in one split AC (a ``Detector``)."""

    def __init__(self, did: str, *, started: float | None = None) -> None:
        self.did = did
        self._init(started)

    def _init(self, started: float | None) -> None:
        self.started = started
        self.last_ts: float | None = None
        self._prev: dict[str, float] | None = None  # the last well-formed sample's values
        self.learning_airflow = True
        self.learning_split = True
        self.airflow_hours = 0.0
        self.split_hours = 0.0
        self.fans: list[dict[str, Any]] = []  # per fan speed: fan_w, airflow, hours, levels
        self.split = ConditionedBaseline(3)
        self.eff = ConditionedBaseline(3)
        self.clog = Cusum(CLOG_K, CLOG_H)
        self.short = Cusum(UNDERCHARGE_K, UNDERCHARGE_H)
        self.clog_sev = WindowMean(SEVERITY_SPAN_H)
        self.short_sev = WindowMean(SEVERITY_SPAN_H)
        self.eff_ratio = WindowMean(SEVERITY_SPAN_H)
        self.split_now = WindowMean(SEVERITY_SPAN_H)
        self.split_base = WindowMean(SEVERITY_SPAN_H)
        self.fan_airflow: dict[str, WindowMean] = {}
        self.energy_kwh = 0.0  # compressor + fan, integrated since learning began
        self.energy_hours = 0.0
        self.detected: dict[str, float] = {}
        self.skipped = 0

    @property
    def learning(self) -> bool:
        """Whether any part of the baseline is still being learned."""
        return self.learning_airflow or self.learning_split

    # ------------------------------------------------------------------ input
    def observe(self, sample: Sample) -> None:
        """Take the next sample; malformed or out-of-order samples are counted and ignored."""
        ts = sample.ts
        if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
            self.skipped += 1
            return
        if self.last_ts is not None and ts <= self.last_ts:
            self.skipped += 1
            return
        dt_h = 0.0 if self.last_ts is None else (ts - self.last_ts) / 3600.0
        self.last_ts = ts
        if self.started is None:
            self.started = ts
        v = _clean(sample.values)
        self._integrate_energy(v, dt_h)
        prev, self._prev = self._prev, v
        if prev is None or dt_h <= 0.0 or dt_h > MAX_GAP_H:
            return
        days = (ts - (self.started if self.started is not None else ts)) / 86400.0
        if self._fan_steady(prev, v) or (self._cooling(v) and self._long_run(prev, v)):
            key = self._fan_key(v)
            if key is not None:
                self._airflow(ts, key, v, dt_h, days)
        if self._cooling(v) and (
            (self._cooling(prev) and self._steady(prev, v, dt_h)) or self._long_run(prev, v)
        ):
            key = None if self.learning_airflow else self._fan_key(v)
            if key is not None:
                self._split(ts, key, v, dt_h, days)

    def _integrate_energy(self, v: Mapping[str, float], dt_h: float) -> None:
        if 0.0 < dt_h <= MAX_GAP_H:
            power = v.get("compressor-power", 0.0) + (v.get("fan-power", 0.0) if v.get("on", 1.0) else 0.0)
            self.energy_kwh += power * dt_h / 1000.0
            self.energy_hours += dt_h
        elif dt_h > MAX_GAP_H:
            self.energy_hours += dt_h  # unknown use during a gap: count it as idle time

    @staticmethod
    def _fan_steady(prev: Mapping[str, float], v: Mapping[str, float]) -> bool:
        """The indoor fan ran at one speed through the interval (compressor on or off)."""
        if v.get("on", 1.0) < 0.5 or prev.get("on", 1.0) < 0.5:
            return False
        if "airflow" not in v or "airflow" not in prev or v["airflow"] <= 0.0 or prev["airflow"] <= 0.0:
            return False
        if abs(math.log(v["airflow"] / prev["airflow"])) > 0.1:
            return False
        return prev.get("fan-level", -1.0) == v.get("fan-level", -1.0)

    @staticmethod
    def _cooling(v: Mapping[str, float]) -> bool:
        """Cooling with the compressor running and every value the split needs present."""
        if any(k not in v for k in NEEDED):
            return False
        if v.get("on", 1.0) < 0.5 or v.get("mode", 2.0) not in (1.0, 2.0, 3.0):
            return False
        return (
            v["runtime-fraction"] >= MIN_RUNTIME_PCT
            and v["compressor-power"] > 0.0
            and v["airflow"] > 0.0
            and v["temperature"] - v["supply-air-temperature"] >= 3.0
        )

    @staticmethod
    def _steady(prev: Mapping[str, float], v: Mapping[str, float], dt_h: float) -> bool:
        """Two consecutive cooling samples with the room, the supply air and the fan settled."""
        if dt_h <= 0.0 or abs(v["temperature"] - prev["temperature"]) / dt_h > MAX_ROOM_RATE_K_H:
            return False
        if abs(v["supply-air-temperature"] - prev["supply-air-temperature"]) > MAX_SUPPLY_STEP_K:
            return False
        if abs(math.log(v["airflow"] / prev["airflow"])) > 0.1:
            return False  # the fan changed speed between the two samples
        return prev.get("fan-level", -1.0) == v.get("fan-level", -1.0)

    @staticmethod
    def _long_run(prev: Mapping[str, float], v: Mapping[str, float]) -> bool:
        """The compressor ran (nearly) the whole interval at one fan speed: past its start-up
        by the time of the reading, even if the interval before was idle or off."""
        if v["runtime-fraction"] < LONG_RUN_PCT:
            return False
        return prev.get("on", 1.0) < 0.5 or prev.get("fan-level", -1.0) == v.get("fan-level", -1.0)

    # ---------------------------------------------------------- fan speeds
    def _fan_key(self, v: Mapping[str, float]) -> str | None:
        fan_w = v.get("fan-power")
        level = v.get("fan-level", 0.0)
        if fan_w is None or fan_w <= 0.0:
            return f"level-{level:.0f}" if level in (1.0, 2.0, 3.0) else None
        if self.learning_airflow:
            for i, f in enumerate(self.fans):
                if abs(math.log(fan_w / f["fan_w"])) < FAN_CLUSTER_LOG:
                    return f"fan-{i}"
            self.fans.append({"fan_w": fan_w, "airflow": v["airflow"], "hours": 0.0, "levels": []})
            return f"fan-{len(self.fans) - 1}"
        # a clogging filter lowers airflow and (less) fan power at the same speed; a wrong
        # speed shows as airflow above its baseline or power falling faster than airflow
        best, best_pen = None, math.inf
        for i, f in enumerate(self.fans):
            if f["fan_w"] <= 0.0:
                continue
            la = math.log(v["airflow"] / f["airflow"])
            lp = math.log(fan_w / f["fan_w"])
            pen = max(0.0, la - 0.04) ** 2 + max(0.0, lp - 0.06) ** 2 + max(0.0, la - lp - 0.06) ** 2
            if pen < best_pen:
                best, best_pen = f"fan-{i}", pen
        return best if best_pen < 0.01 else None

    def _fan(self, key: str) -> dict[str, Any] | None:
        if key.startswith("fan-"):
            return self.fans[int(key[4:])]
        return next((f for f in self.fans if f.get("key") == key), None)

    def _fan_label(self, key: str) -> str:
        if key.startswith("level-"):
            return f"fan level {key[6:]}"
        f = self.fans[int(key[4:])]
        levels = sorted({int(x) for x in f["levels"] if x in (1, 2, 3)})
        if len(levels) == 1:
            return f"fan level {levels[0]}"
        return f"the fan speed drawing {f['fan_w']:.0f} W"

    # --------------------------------------------------------------- airflow
    def _airflow(self, ts: float, key: str, v: Mapping[str, float], dt_h: float, days: float) -> None:
        f = self._fan(key)
        if self.learning_airflow:
            if f is None:  # no fan-power reading: keyed by the reported level
                f = {"key": key, "fan_w": 0.0, "airflow": v["airflow"], "hours": 0.0, "levels": []}
                self.fans.append(f)
            self._learn_fan(f, v, dt_h)
            self.airflow_hours += dt_h
            if self.airflow_hours >= AIRFLOW_MIN_HOURS and days >= BASELINE_MIN_DAYS:
                self.learning_airflow = False
            return
        if f is None:
            return
        if f["hours"] < MIN_FAN_HOURS:  # a speed rarely used while learning goes on learning
            self._learn_fan(f, v, dt_h)
            return
        loss = 1.0 - v["airflow"] / f["airflow"]
        self.clog.update(ts, loss, dt_h)
        self.clog_sev.update(max(0.0, loss), dt_h)
        self.fan_airflow.setdefault(key, WindowMean(SEVERITY_SPAN_H)).update(v["airflow"], dt_h)
        self._latch("filter_clog", self.clog, ts)

    @staticmethod
    def _learn_fan(f: dict[str, Any], v: Mapping[str, float], dt_h: float) -> None:
        """Blend a sample into one fan speed's running means (fan power, airflow)."""
        h = f["hours"] + dt_h
        if f["fan_w"] > 0.0:
            f["fan_w"] += (v["fan-power"] - f["fan_w"]) * dt_h / h
        f["airflow"] += (v["airflow"] - f["airflow"]) * dt_h / h
        f["hours"] = h
        lvl = v.get("fan-level", 0.0)
        if lvl in (1.0, 2.0, 3.0) and lvl not in f["levels"]:
            f["levels"].append(lvl)

    # ----------------------------------------------------------------- split
    def _split(self, ts: float, key: str, v: Mapping[str, float], dt_h: float, days: float) -> None:
        x = _conditions(v)
        split = v["temperature"] - v["supply-air-temperature"]
        eff = _sensible_eff(v, split)
        if self.learning_split:
            self.split.add(key, x, split, dt_h)
            self.eff.add(key, x, eff, dt_h)
            self.split_hours += dt_h
            if (self.split_hours >= BASELINE_MIN_HOURS and days >= BASELINE_MIN_DAYS) or (
                days >= BASELINE_MAX_DAYS and self.split_hours >= BASELINE_LATE_HOURS
            ):
                self.split.fit()
                self.eff.fit()
                self.learning_split = False
            return
        fan = self._fan(key)
        ref = self._split_key(key) if fan is None or fan["hours"] >= MIN_FAN_HOURS else None
        if ref is None:
            return
        ref_key, scale = ref
        if not self.split.covers(x, CONDITION_MARGINS):
            return  # far outside what the baseline was learned on: no evidence either way
        split_hat = self.split.predict(ref_key, x) * scale
        shortfall = 1.0 - split / split_hat if split_hat > 1.0 else 0.0
        self.short.update(ts, shortfall, dt_h)
        self.short_sev.update(shortfall, dt_h)
        eff_hat = self.eff.predict(ref_key, x)
        if eff_hat > 0.0:
            self.eff_ratio.update(eff / eff_hat, dt_h)
        self.split_now.update(split, dt_h)
        self.split_base.update(split_hat, dt_h)
        self._latch("undercharge", self.short, ts)

    def _split_key(self, key: str) -> tuple[str, float] | None:
        """The baseline key to predict the split at fan speed ``key``, and a factor to scale it by.

        A speed the split baseline never saw borrows the nearest learned one, scaled by the
        two speeds' learned airflows: at the same capacity the split goes as 1 / airflow,
        and capacity falls a little with airflow, hence the exponent.
        """
        if self.split.knows(key):
            return key, 1.0
        fan = self._fan(key)
        known = [(k, self._fan(k)) for k in self.split.intercepts]
        known_fans = [(k, f) for k, f in known if f is not None and f["airflow"] > 0]
        if fan is None or not known_fans:
            return None
        k, f = min(known_fans, key=lambda kf: abs(math.log(kf[1]["airflow"] / fan["airflow"])))
        return k, (f["airflow"] / fan["airflow"]) ** SPLIT_AIRFLOW_EXPONENT

    def _latch(self, fault: str, cusum: Cusum, ts: float) -> None:
        if cusum.alarm:
            self.detected.setdefault(fault, ts)
        elif cusum.s <= 0.0:
            self.detected.pop(fault, None)

    # --------------------------------------------------------------- output
    def findings(self) -> list[Finding]:
        """The faults whose evidence has persisted past its CUSUM threshold."""
        out: list[Finding] = []
        if "filter_clog" in self.detected:
            out.append(self._clog_finding())
        if "undercharge" in self.detected:
            out.append(self._short_finding())
        return out

    def _extra_kwh_per_day(self) -> float | None:
        ratio = self.eff_ratio.value
        if ratio is None or self.energy_hours < 1.0 or ratio <= 0.0:
            return None
        per_day = self.energy_kwh / self.energy_hours * 24.0
        return round(max(0.0, per_day * (1.0 - ratio)), 2)

    def _clog_finding(self) -> Finding:
        sev = max(0.0, min(0.95, self.clog_sev.value or 0.0))
        key = max(self.fan_airflow, key=lambda k: self.fan_airflow[k].weight) if self.fan_airflow else None
        now_af = self.fan_airflow[key].value if key is not None else None
        fan = self._fan(key) if key is not None else None
        base_af = float(fan["airflow"]) if fan is not None else None
        hours = self.clog.hours
        if key is not None and now_af is not None and base_af:
            evidence = (
                f"Airflow at {self._fan_label(key)} is {now_af:.0f} m³/h against a learned "
                f"{base_af:.0f} m³/h ({(now_af / base_af - 1) * 100:+.0f} %) over the last "
                f"{hours:.0f} steady hours."
            )
        else:
            evidence = f"Airflow is {sev * 100:.0f} % below this unit's learned baseline over {hours:.0f} h."
        return Finding(
            did=self.did,
            fault="filter_clog",
            severity=round(sev, 3),
            confidence=round(min(1.0, self.clog.s / (2.0 * self.clog.h)), 2),
            since=self.clog.since or self.detected["filter_clog"],
            detected_at=self.detected["filter_clog"],
            evidence=evidence,
            advice="Clean or replace the air filter; if airflow stays low after that, have the "
            "indoor coil and fan cleaned.",
            energy_kwh_per_day=self._extra_kwh_per_day(),
            details={"airflow_m3h": now_af, "baseline_airflow_m3h": base_af, "steady_hours": hours},
        )

    def _short_finding(self) -> Finding:
        shortfall = self.short_sev.value or 0.0
        sev = charge_loss(shortfall)
        now_split, base_split = self.split_now.value or 0.0, self.split_base.value or 0.0
        ratio = self.eff_ratio.value
        eff_txt = f"; cooling per compressor watt is {(ratio - 1) * 100:+.0f} %" if ratio is not None else ""
        hours = self.short.hours
        evidence = (
            f"The supply air is {now_split:.1f} K below the room against {base_split:.1f} K expected "
            f"for the same conditions ({-shortfall * 100:+.0f} % cooling capacity) over the last "
            f"{hours:.0f} steady hours, with normal airflow{eff_txt}."
        )
        return Finding(
            did=self.did,
            fault="undercharge",
            severity=round(sev, 3),
            confidence=round(min(1.0, self.short.s / (2.0 * self.short.h)), 2),
            since=self.short.since or self.detected["undercharge"],
            detected_at=self.detected["undercharge"],
            evidence=evidence,
            advice="Have a technician check the refrigerant charge and find the leak before "
            "topping it up; running short of charge costs energy and can damage the compressor.",
            energy_kwh_per_day=self._extra_kwh_per_day(),
            details={"split_k": now_split, "expected_split_k": base_split, "steady_hours": hours},
        )

    # ------------------------------------------------------------ lifecycle
    def reset(self, ts: float) -> None:
        """The unit was serviced: forget the baseline and learn anew from ``ts``."""
        self._init(ts)
        self.last_ts = ts

    def state(self) -> dict[str, Any]:
        """Everything learned, JSON-able."""
        ew = {
            name: getattr(self, name).state()
            for name in ("clog_sev", "short_sev", "eff_ratio", "split_now", "split_base")
        }
        return {
            "version": 1,
            "started": self.started,
            "last_ts": self.last_ts,
            "prev": self._prev,
            "learning": [self.learning_airflow, self.learning_split],
            "hours": [self.airflow_hours, self.split_hours],
            "fans": [dict(f) for f in self.fans],
            "split": self.split.state(),
            "eff": self.eff.state(),
            "clog": self.clog.state(),
            "short": self.short.state(),
            "ew": ew,
            "fan_airflow": {k: e.state() for k, e in self.fan_airflow.items()},
            "energy_kwh": self.energy_kwh,
            "energy_hours": self.energy_hours,
            "detected": dict(self.detected),
            "skipped": self.skipped,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`."""
        self._init(state["started"])
        self.last_ts = state["last_ts"]
        self._prev = None if state["prev"] is None else {str(k): float(x) for k, x in state["prev"].items()}
        self.learning_airflow, self.learning_split = (bool(x) for x in state["learning"])
        self.airflow_hours, self.split_hours = (float(x) for x in state["hours"])
        self.fans = [dict(f) for f in state["fans"]]
        self.split.restore(state["split"])
        self.eff.restore(state["eff"])
        self.clog.restore(state["clog"])
        self.short.restore(state["short"])
        for name, value in state["ew"].items():
            getattr(self, name).restore(value)
        for k, value in state["fan_airflow"].items():
            self.fan_airflow[k] = WindowMean(SEVERITY_SPAN_H)
            self.fan_airflow[k].restore(value)
        self.energy_kwh = float(state["energy_kwh"])
        self.energy_hours = float(state["energy_hours"])
        self.detected = {str(k): float(x) for k, x in state["detected"].items()}
        self.skipped = int(state["skipped"])


def _clean(values: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric values of a sample (booleans as 0/1); anything else dropped."""
    out: dict[str, float] = {}
    for k, x in values.items():
        if isinstance(x, bool):
            out[k] = 1.0 if x else 0.0
        elif isinstance(x, int | float) and math.isfinite(x):
            out[k] = float(x)
    return out


def _conditions(v: Mapping[str, float]) -> list[float]:
    """The baseline's inputs: indoor °C, indoor humidity ratio (g/kg) and outdoor °C, centred."""
    w = humidity_ratio(v["temperature"], v["relative-humidity"]) * 1000.0
    return [v["temperature"] - 25.0, w - 11.0, v["outdoor-temperature"] - 30.0]


def _sensible_eff(v: Mapping[str, float], split: float) -> float:
    """Sensible cooling per watt of compressor power while it runs."""
    running_w = v["compressor-power"] / max(v["runtime-fraction"] / 100.0, 0.05)
    return _RHO_CP * v["airflow"] * split / max(running_w, 1.0)
