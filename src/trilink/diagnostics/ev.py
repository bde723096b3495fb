"""Battery state of health from home charging sessions, and a warning when it fades too fast.

Method. A charging session puts ``E_in`` kWh from the wall into the car; a fraction η of it
reaches the battery and raises the state of charge by ΔSoC, so the usable capacity is

    C = E_in · η / (ΔSoC / 100),    state of health = C / C_nominal.

Only the constant-power part of a session is used: the charging curve tapers near full
(the taper onset is where the power falls below 95 % of the session's peak), the
efficiency there is lower and less certain, so a session is cut at the taper onset and
the efficiency η is taken from a nominal AC-charger curve at the segment's mean power P
and the temperature T (:func:`charger_efficiency`: 0.96·P − 0.25 kW − 0.03 kW/°C below
15 °C − 0.0025·P², about 88–91 % at 3.7–22 kW in the mild, less in the cold). The
taper-onset state of charge of each session is kept and reported (in this battery model
it does not move with capacity, so it is not used for the estimate).

Each session's estimate has a standard error from the SoC reading error (√2 · 0.3 % of
ΔSoC), a per-session efficiency jitter (0.5 %) and, for low-power sessions, the extra
efficiency uncertainty (:func:`efficiency_error` above 1 %); sessions with a small ΔSoC
or at low power count less, and sessions whose estimated efficiency is below 70 %
(trickle charging in the cold, where the overhead dominates) are not used.
Over the sessions of the last ``window_days`` (default 365) a straight line
SoH(t) = a + b·t is fitted by weighted least squares with Huber reweighting (outlier
sessions lose weight) and a weak prior on the slope (−1.5 ± 3 %/year), so a few weeks of
sessions give a level and months give a fade rate. The estimate is the line's value at
the latest session; its 90 % interval combines the fit's standard error (inflated when
the sessions scatter more than modelled) with the efficiency model's systematic error
(1 % of the capacity, which no number of sessions removes).

Finding ``ev_battery_fade`` (severity = fraction of the new capacity lost) when, with at
least ``min_sessions`` sessions over ``min_span_days`` days, the fitted fade rate is
above ``fade_threshold_pct_per_year`` (default 3 %/year; typical cars lose 1–2.5 %/year)
with 95 % one-sided confidence, or the upper end of the 90 % interval is below
``soh_floor_pct`` (default 80 %, the usual warranty threshold) — on three consecutive
sessions.

Sample contract (property names of ``trilink.car.sim1``; a sample may carry any subset):

* streamed telemetry: ``charging-state`` (2 = charging), ``charging-power`` (kW from the
  wall), ``state-of-charge`` (%), ``session-energy`` (kWh from the wall since plug-in),
  optionally ``temperature`` (°C, the cabin's, as a proxy for the battery's surroundings).
  Values persist until the next report; a session is the run of samples while charging
  plus the first sample after it (its end state), and a drop of ``session-energy`` starts
  a new session.
* or session summaries: ``energy-in`` (kWh from the wall), ``soc-start`` and ``soc-end``
  (%), optionally ``charging-power`` (mean kW; 7.4 if absent) and ``temperature``.

Samples out of time order, non-finite values and implausible sessions (ΔSoC below
``min_delta_soc``, no or negative energy, an implied state of health outside 30–130 %)
are ignored.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from trilink.diagnostics.base import Finding, Sample

YEAR_S = 365.25 * 86400.0
CHARGING = 2  # the spec's charging-state value for "charging"
Z90 = 1.6449  # two-sided 90 % (and one-sided 95 %)

# the nominal AC charger curve (see charger_efficiency)
_CONVERSION = 0.96
_OVERHEAD_KW = 0.25
_COLD_KW_PER_C = 0.03
_COLD_BELOW_C = 15.0
_RESISTIVE_PER_KW = 0.0025


def charger_efficiency(power_kw: float, temperature_c: float | None = None) -> float:
    """Nominal fraction of wall energy reaching the battery at ``power_kw`` and ``temperature_c``."""
    t = 20.0 if temperature_c is None else temperature_c
    p = max(power_kw, 0.5)
    lost = _OVERHEAD_KW + _COLD_KW_PER_C * max(0.0, _COLD_BELOW_C - t) + _RESISTIVE_PER_KW * p * p
    return min(max(_CONVERSION - lost / p, 0.0), 0.97)


def efficiency_error(power_kw: float) -> float:
    """Relative standard error of :func:`charger_efficiency` for an unknown charger at ``power_kw``.

    Chargers differ from the nominal curve: conversion ±0.6 %, overhead ±0.06 kW, resistive
    loss ±17 % (one standard deviation each), so the error is largest at low power.
    """
    p = max(power_kw, 0.5)
    return math.sqrt(0.006**2 + (0.06 / p) ** 2 + (0.17 * _RESISTIVE_PER_KW * p) ** 2)


@dataclass(frozen=True, slots=True)
class Session:
    """One usable charging segment and the state of health it implies."""

    ts: float  # when the segment ended
    soc_start: float
    soc_end: float
    energy_in_kwh: float
    power_kw: float  # mean wall power over the segment
    temperature_c: float | None
    soh_pct: float
    sigma_pct: float  # standard error of soh_pct
    taper_soc: float | None = None  # state of charge where the power began to fall
    systematic: float = 0.01  # relative error of the nominal efficiency for this charger power


@dataclass(frozen=True, slots=True)
class HealthEstimate:
    """The state of health now, with its 90 % interval and the fitted fade rate."""

    ts: float
    soh_pct: float
    low_pct: float
    high_pct: float
    fade_pct_per_year: float
    fade_se_pct_per_year: float
    sessions: int
    span_days: float
    since: float


@dataclass(slots=True)
class _Point:
    ts: float
    soc: float
    energy: float
    power: float
    temperature: float | None
    charging: bool


class BatteryHealth:
    """Estimates an electric car's state of health from its charging sessions (:class:`Detector`)."""

    def __init__(
        self,
        did: str,
        nominal_capacity_kwh: float = 75.0,
        *,
        window_days: float = 365.0,
        fade_threshold_pct_per_year: float = 3.0,
        soh_floor_pct: float = 80.0,
        min_sessions: int = 20,
        min_span_days: float = 90.0,
        min_delta_soc: float = 5.0,
        soc_error_pct: float = 0.3,
        max_sessions: int = 1000,
    ) -> None:
        if nominal_capacity_kwh <= 0:
            raise ValueError("nominal_capacity_kwh must be positive")
        self.did = did
        self.nominal_capacity_kwh = nominal_capacity_kwh
        self.window_days = window_days
        self.fade_threshold_pct_per_year = fade_threshold_pct_per_year
        self.soh_floor_pct = soh_floor_pct
        self.min_sessions = min_sessions
        self.min_span_days = min_span_days
        self.min_delta_soc = min_delta_soc
        self.soc_error_pct = soc_error_pct
        self.max_sessions = max_sessions
        self.sessions: list[Session] = []
        self._last_ts = -math.inf
        self._values: dict[str, float] = {}
        self._points: list[_Point] = []
        self._flag_run = 0  # consecutive sessions on which the fade condition held
        self._flag_since: float | None = None
        self._detected_at: float | None = None
        self._estimate: HealthEstimate | None = None

    # ------------------------------------------------------------------ input
    def observe(self, sample: Sample) -> None:
        """Take the next sample; malformed or out-of-order samples are ignored."""
        ts = sample.ts
        if not isinstance(ts, int | float) or not math.isfinite(ts) or ts < self._last_ts:
            return
        self._last_ts = ts
        values: dict[str, float] = {}
        for name, value in sample.values.items():
            if isinstance(value, bool) or (isinstance(value, int | float) and math.isfinite(value)):
                values[name] = float(value)
        if "energy-in" in values:
            self._observe_summary(ts, values)
            return
        self._values.update(values)
        self._observe_stream(ts)

    def _observe_summary(self, ts: float, v: Mapping[str, float]) -> None:
        if "soc-start" not in v or "soc-end" not in v:
            return
        self._add_session(
            ts,
            v["soc-start"],
            v["soc-end"],
            v["energy-in"],
            v.get("charging-power", 7.4),
            v.get("temperature"),
            None,
        )

    def _observe_stream(self, ts: float) -> None:
        v = self._values
        charging = v.get("charging-state") == CHARGING
        soc, energy = v.get("state-of-charge"), v.get("session-energy")
        if soc is None or energy is None:
            return
        point = _Point(ts, soc, energy, v.get("charging-power", 0.0), v.get("temperature"), charging)
        if self._points and energy < self._points[-1].energy - 1e-6:
            self._finish_session()  # the counter restarted: a new session
        if charging:
            self._points.append(point)
        elif self._points:
            self._points.append(point)
            self._finish_session()

    def _finish_session(self) -> None:
        points, self._points = self._points, []
        if len(points) < 2:
            return
        powers = [p.power for p in points[1:] if p.charging and p.power > 0]
        if not powers:
            return
        peak = max(powers)
        end = len(points) - 1
        taper_soc: float | None = None
        for k in range(1, len(points)):
            p = points[k]
            if p.charging and 0 < p.power < 0.95 * peak:
                end, taper_soc = k - 1, p.soc
                break
        if points[end].soc - points[0].soc < self.min_delta_soc:
            end = len(points) - 1  # (nearly) all in the taper: use the whole session
        segment = points[: end + 1]
        first, last = segment[0], segment[-1]
        denergy = last.energy - first.energy
        # the energy stored, interval by interval at each interval's own power
        stored = 0.0
        for a, b in itertools.pairwise(segment):
            de, dt = b.energy - a.energy, b.ts - a.ts
            power = de / dt * 3600.0 if dt > 0 else peak
            stored += de * charger_efficiency(power, a.temperature)
        hours = (last.ts - first.ts) / 3600.0
        mean_power = denergy / hours if hours > 0 else peak
        temps = [p.temperature for p in segment if p.temperature is not None]
        temperature = sum(temps) / len(temps) if temps else None
        eta = stored / denergy if denergy > 0 else 0.0
        self._add_session(last.ts, first.soc, last.soc, denergy, mean_power, temperature, taper_soc, eta)

    def _add_session(
        self,
        ts: float,
        soc_start: float,
        soc_end: float,
        energy_kwh: float,
        power_kw: float,
        temperature_c: float | None,
        taper_soc: float | None,
        efficiency: float | None = None,
    ) -> None:
        numbers = [ts, soc_start, soc_end, energy_kwh, power_kw]
        if not all(math.isfinite(x) for x in numbers):
            return
        if not (0.0 <= soc_start <= 100.0 and 0.0 <= soc_end <= 100.0) or energy_kwh <= 0 or power_kw <= 0:
            return
        if self.sessions and ts < self.sessions[-1].ts:
            return
        delta = soc_end - soc_start
        if delta < self.min_delta_soc:
            return
        eta = charger_efficiency(power_kw, temperature_c) if efficiency is None else efficiency
        if not 0.7 <= eta <= 1.0:
            return  # mostly trickle charging: the losses are too uncertain
        capacity = energy_kwh * eta / (delta / 100.0)
        soh = 100.0 * capacity / self.nominal_capacity_kwh
        if not 30.0 <= soh <= 130.0:
            return
        systematic = efficiency_error(power_kw)
        # low-power sessions also weigh less: their efficiency is less certain
        rel = math.hypot(math.sqrt(2.0) * self.soc_error_pct / delta, 0.005, max(0.0, systematic - 0.01))
        session = Session(
            ts,
            soc_start,
            soc_end,
            energy_kwh,
            power_kw,
            temperature_c,
            soh,
            soh * rel,
            taper_soc,
            systematic,
        )
        self.sessions.append(session)
        if len(self.sessions) > self.max_sessions:
            del self.sessions[: len(self.sessions) - self.max_sessions]
        self._update(ts)

    # -------------------------------------------------------------- estimate
    def _update(self, ts: float) -> None:
        self._estimate = self._fit()
        est = self._estimate
        flagged = est is not None and self._fading(est)
        if flagged:
            assert est is not None
            self._flag_run += 1
            if self._flag_since is None:
                self._flag_since = est.since
            if self._flag_run >= 3 and self._detected_at is None:
                self._detected_at = ts
        else:
            self._flag_run = 0
            self._flag_since = None
            self._detected_at = None

    def _fading(self, est: HealthEstimate) -> bool:
        if est.sessions < self.min_sessions:
            return False
        if est.high_pct < self.soh_floor_pct:
            return True
        lower_rate = est.fade_pct_per_year - Z90 * est.fade_se_pct_per_year
        return est.span_days >= self.min_span_days and lower_rate > self.fade_threshold_pct_per_year

    def _fit(self) -> HealthEstimate | None:
        if not self.sessions:
            return None
        t_end = self.sessions[-1].ts
        recent = [s for s in self.sessions if s.ts >= t_end - self.window_days * 86400.0]
        xs = [(s.ts - t_end) / YEAR_S for s in recent]
        ys = [s.soh_pct for s in recent]
        base = [1.0 / (s.sigma_pct * s.sigma_pct) for s in recent]
        prior_b, prior_sd = -1.5, 3.0
        robust = [1.0] * len(recent)
        a = b = 0.0
        cov00 = cov11 = 0.0
        n = len(recent)
        for _ in range(4):
            w = [bw * rw for bw, rw in zip(base, robust, strict=True)]
            sw = sum(w)
            swx = sum(wi * x for wi, x in zip(w, xs, strict=True))
            swxx = sum(wi * x * x for wi, x in zip(w, xs, strict=True)) + 1.0 / prior_sd**2
            swy = sum(wi * y for wi, y in zip(w, ys, strict=True))
            swxy = sum(wi * x * y for wi, x, y in zip(w, xs, ys, strict=True)) + prior_b / prior_sd**2
            det = sw * swxx - swx * swx
            a = (swxx * swy - swx * swxy) / det
            b = (sw * swxy - swx * swy) / det
            cov00, cov11 = swxx / det, sw / det
            z = [(y - a - b * x) / s.sigma_pct for x, y, s in zip(xs, ys, recent, strict=True)]
            robust = [1.0 if abs(zi) <= 1.5 else 1.5 / abs(zi) for zi in z]
        if n > 2:
            w = [bw * rw for bw, rw in zip(base, robust, strict=True)]
            chi2 = sum(wi * (y - a - b * x) ** 2 for wi, x, y in zip(w, xs, ys, strict=True))
            inflation = max(1.0, chi2 / (n - 2))
            cov00 *= inflation
            cov11 *= inflation
        sw = sum(base)
        systematic = sum(bw * s.systematic for bw, s in zip(base, recent, strict=True)) / sw
        sd = math.hypot(math.sqrt(cov00), a * systematic)
        return HealthEstimate(
            ts=t_end,
            soh_pct=a,
            low_pct=a - Z90 * sd,
            high_pct=a + Z90 * sd,
            fade_pct_per_year=-b,
            fade_se_pct_per_year=math.sqrt(cov11),
            sessions=n,
            span_days=(t_end - recent[0].ts) / 86400.0,
            since=recent[0].ts,
        )

    @property
    def learning(self) -> bool:
        """Whether fewer than ``min_sessions`` usable charging sessions are in (no verdict yet)."""
        return len(self.sessions) < self.min_sessions

    def estimate(self) -> HealthEstimate | None:
        """The current state-of-health estimate, or None before the first usable session."""
        return self._estimate

    # ---------------------------------------------------------------- output
    def findings(self) -> list[Finding]:
        """``ev_battery_fade`` once fast fade (or a low state of health) has held on three sessions."""
        est = self._estimate
        if est is None or self._detected_at is None or self._flag_since is None:
            return []
        z = (est.fade_pct_per_year - self.fade_threshold_pct_per_year) / max(est.fade_se_pct_per_year, 1e-6)
        low = est.high_pct < self.soh_floor_pct
        confidence = 0.95 if low else min(0.99, max(0.5, 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))))
        evidence = (
            f"The battery's state of health is {est.soh_pct:.1f} % (90 % interval "
            f"{est.low_pct:.1f}–{est.high_pct:.1f} %), about "
            f"{est.soh_pct / 100.0 * self.nominal_capacity_kwh:.1f} kWh of "
            f"{self.nominal_capacity_kwh:.0f} kWh when new, "
            f"from {est.sessions} charging sessions over {est.span_days:.0f} days. "
            f"It is losing {est.fade_pct_per_year:.1f} ± {Z90 * est.fade_se_pct_per_year:.1f} %/year; "
            f"normal ageing is below {self.fade_threshold_pct_per_year:.0f} %/year."
        )
        advice = (
            "Ask the dealer for a battery health check (most warranties cover a fall below "
            f"{self.soh_floor_pct:.0f} % within 8 years); meanwhile keep the daily charge limit at "
            "80–90 %, avoid leaving the car full or empty for days, and prefer AC charging over "
            "frequent fast charging."
        )
        taper = [s.taper_soc for s in self.sessions if s.taper_soc is not None]
        details: dict[str, Any] = {
            "soh_pct": est.soh_pct,
            "soh_90_low_pct": est.low_pct,
            "soh_90_high_pct": est.high_pct,
            "fade_pct_per_year": est.fade_pct_per_year,
            "fade_se_pct_per_year": est.fade_se_pct_per_year,
            "sessions": est.sessions,
        }
        if taper:
            details["taper_onset_soc_median"] = sorted(taper)[len(taper) // 2]
        return [
            Finding(
                did=self.did,
                fault="ev_battery_fade",
                severity=min(1.0, max(0.0, 1.0 - est.soh_pct / 100.0)),
                confidence=confidence,
                since=self._flag_since,
                detected_at=self._detected_at,
                evidence=evidence,
                advice=advice,
                details=details,
            )
        ]

    def reset(self, ts: float) -> None:
        """The battery was replaced or repaired: forget the sessions and learn anew from ``ts``."""
        self.sessions.clear()
        self._points.clear()
        self._values.clear()
        self._last_ts = ts
        self._flag_run = 0
        self._flag_since = self._detected_at = None
        self._estimate = None

    # ----------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        """Sessions, the open session and the alarm's progress, JSON-able."""
        return {
            "version": 1,
            "sessions": [asdict(s) for s in self.sessions],
            "last_ts": self._last_ts if math.isfinite(self._last_ts) else None,
            "values": dict(self._values),
            "points": [asdict(p) for p in self._points],
            "flag_run": self._flag_run,
            "flag_since": self._flag_since,
            "detected_at": self._detected_at,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`."""
        self.sessions = [Session(**s) for s in state.get("sessions", [])]
        last = state.get("last_ts")
        self._last_ts = -math.inf if last is None else float(last)
        self._values = {str(k): float(v) for k, v in state.get("values", {}).items()}
        self._points = [_Point(**p) for p in state.get("points", [])]
        self._flag_run = int(state.get("flag_run", 0))
        self._flag_since = state.get("flag_since")
        self._detected_at = state.get("detected_at")
        self._estimate = self._fit()
