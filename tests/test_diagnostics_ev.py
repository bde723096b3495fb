"""Battery state of health from charging sessions, and the simulator's battery ageing behind it."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from trilink.diagnostics import Detector, Sample
from trilink.diagnostics.ev import BatteryHealth, charger_efficiency
from trilink.sim import ChargingState, Climate, ElectricCar, Weather
from trilink.sim.car import SECONDS_PER_YEAR, UsagePattern, simulate_usage

START = 1_782_662_400.0  # a Monday, 00:00 UTC


def steady_weather(t_out: float) -> Weather:
    return Weather(Climate("test", t_out, 0.0, 50.0, 0.0, noise_c=0.0))


def fleet_car(*, soh: float = 0.95, calendar: float = 1.5, cycle: float = 5.0, seed: int = 0) -> ElectricCar:
    return ElectricCar(
        Weather("temperate", seed=seed),
        state_of_health=soh,
        plugged_in=False,
        calendar_fade_pct_per_year=calendar,
        cycle_fade_pct_per_1000=cycle,
        soc_error_pct=0.3,
        seed=seed,
    )


PATTERN = UsagePattern(commute_km=35.0, charge_limit=90, charger_kw=7.4, plug_below_pct=60.0)


def feed(detector: BatteryHealth, car: ElectricCar, days: int, pattern: UsagePattern = PATTERN) -> None:
    for ts, values in simulate_usage(car, START, days, pattern, seed=1):
        detector.observe(Sample(ts, values))


# ------------------------------------------------------------------ simulator
def test_calendar_fade_follows_its_rate_over_a_year() -> None:
    car = ElectricCar(steady_weather(20.0), plugged_in=False, calendar_fade_pct_per_year=4.0)
    car.step(START + SECONDS_PER_YEAR, SECONDS_PER_YEAR)
    assert car.state_of_health == pytest.approx(0.96, abs=1e-9)
    assert car.usable_capacity_kwh == pytest.approx(0.96 * 75.0)


def test_cycle_fade_follows_the_energy_charged() -> None:
    car = ElectricCar(
        steady_weather(20.0), state_of_charge=10.0, charge_limit=90, cycle_fade_pct_per_1000=50.0
    )
    now = START
    while car.charging_state == ChargingState.CHARGING:
        now += 60.0
        car.step(now, 60.0)
    cycles = car.equivalent_full_cycles
    assert cycles == pytest.approx(0.8 * car.state_of_health, rel=0.01)
    assert 1.0 - car.state_of_health == pytest.approx(cycles * 50.0 / 1000 / 100, rel=1e-6)


def test_default_car_does_not_age() -> None:
    car = ElectricCar(steady_weather(20.0), state_of_health=0.9)
    car.step(START + 86400.0, 86400.0)
    assert car.state_of_health == 0.9


def test_charging_efficiency_is_about_90_percent_and_lower_at_low_power_or_in_the_cold() -> None:
    car = ElectricCar(steady_weather(25.0), plugged_in=False)
    for kw in (7.4, 11.0):
        assert 0.88 <= car.charging_efficiency(kw, 25.0) <= 0.93
    assert car.charging_efficiency(3.7, 25.0) < car.charging_efficiency(7.4, 25.0)
    assert car.charging_efficiency(11.0, -5.0) < car.charging_efficiency(11.0, 25.0) - 0.03
    # the estimator's nominal curve has the same shape
    assert charger_efficiency(11.0, 25.0) == pytest.approx(car.charging_efficiency(11.0, 25.0), abs=0.01)


def test_energy_in_times_efficiency_over_delta_soc_is_the_true_capacity() -> None:
    car = ElectricCar(steady_weather(20.0), state_of_health=0.85, state_of_charge=20.0, charge_limit=80)
    now = START
    while car.charging_state == ChargingState.CHARGING:
        now += 60.0
        car.step(now, 60.0)
    stored = car.session_energy_kwh * car.charging_efficiency(car.charger_kw, 20.0)
    assert stored / 0.60 == pytest.approx(car.usable_capacity_kwh, rel=0.002)


def test_reported_soc_is_noisy_quantised_and_close_to_the_truth() -> None:
    car = ElectricCar(steady_weather(20.0), soc_error_pct=0.3, state_of_charge=55.0)
    readings = [car.reported_soc() for _ in range(500)]
    assert all(round(r, 1) == r for r in readings)
    assert len(set(readings)) > 5
    assert sum(readings) / len(readings) == pytest.approx(55.0, abs=0.3)
    assert max(abs(r - 55.0) for r in readings) < 2.0
    assert ElectricCar(steady_weather(20.0), state_of_charge=55.0).reported_soc() == pytest.approx(55.0)


def test_fast_path_produces_sessions_and_ages_the_car() -> None:
    car = fleet_car(calendar=6.0)
    samples = list(simulate_usage(car, START, 60, PATTERN))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(samples))
    assert {v["charging-state"] for _, v in samples} >= {0.0, 2.0}
    assert 0.95 - car.state_of_health == pytest.approx(6.0 / 100 * 60 / 365.25, rel=0.2)


# ------------------------------------------------------------------ estimator
def test_detector_implements_the_protocol() -> None:
    detector: Detector = BatteryHealth("car")
    assert detector.findings() == []


def test_estimate_converges_to_the_truth_within_2_pp() -> None:
    car, detector = fleet_car(soh=0.91), BatteryHealth("car")
    assert detector.learning
    feed(detector, car, 150)
    assert not detector.learning
    est = detector.estimate()
    assert est is not None and est.sessions >= 20
    assert est.soh_pct == pytest.approx(car.state_of_health * 100, abs=2.0)
    assert est.low_pct <= est.soh_pct <= est.high_pct


def test_uncertainty_shrinks_with_sessions() -> None:
    car, detector = fleet_car(), BatteryHealth("car")
    widths: dict[int, float] = {}
    for ts, values in simulate_usage(car, START, 150, PATTERN, seed=1):
        detector.observe(Sample(ts, values))
        est = detector.estimate()
        if est is not None:
            widths.setdefault(est.sessions, est.high_pct - est.low_pct)
    first = min(widths)
    last = max(widths)
    assert last >= 30
    assert widths[last] < 0.75 * widths[first]


def test_fast_fade_is_flagged_and_normal_ageing_is_not() -> None:
    fast, normal = BatteryHealth("fast"), BatteryHealth("normal")
    feed(fast, fleet_car(calendar=9.0, cycle=30.0), 300)
    feed(normal, fleet_car(calendar=1.5), 300)
    assert normal.findings() == []
    (finding,) = fast.findings()
    assert finding.fault == "ev_battery_fade"
    assert 0.05 < finding.severity < 0.2
    assert "%/year" in finding.evidence and "sessions" in finding.evidence
    assert finding.details["fade_pct_per_year"] > 5.0
    assert finding.since <= finding.detected_at
    assert finding.advice


def test_low_state_of_health_is_flagged() -> None:
    detector = BatteryHealth("car")
    feed(detector, fleet_car(soh=0.74, calendar=1.0), 60)
    (finding,) = detector.findings()
    assert finding.severity == pytest.approx(0.26, abs=0.03)


def test_malformed_samples_and_sessions_are_ignored() -> None:
    detector = BatteryHealth("car")
    bad = [
        {"energy-in": 20.0, "soc-start": 50.0, "soc-end": 50.0},  # ΔSoC 0
        {"energy-in": -5.0, "soc-start": 20.0, "soc-end": 50.0},  # negative energy
        {"energy-in": math.nan, "soc-start": 20.0, "soc-end": 50.0},
        {"energy-in": 20.0, "soc-start": math.inf, "soc-end": 50.0},
        {"energy-in": 20.0, "soc-start": 60.0, "soc-end": 40.0},  # SoC fell
        {"energy-in": 20.0, "soc-start": 20.0},  # no end
        {"energy-in": 500.0, "soc-start": 20.0, "soc-end": 50.0},  # implausible capacity
        {"energy-in": 20.0, "soc-start": -10.0, "soc-end": 150.0},
        {"state-of-charge": math.nan, "charging-state": 2.0, "session-energy": 1.0},
    ]
    for i, values in enumerate(bad):
        detector.observe(Sample(START + i, values))
    detector.observe(Sample(math.nan, {"energy-in": 25.0, "soc-start": 20.0, "soc-end": 50.0}))
    assert detector.sessions == []
    detector.observe(Sample(START + 100, {"energy-in": 25.0, "soc-start": 20.0, "soc-end": 50.0}))
    assert len(detector.sessions) == 1
    detector.observe(
        Sample(START + 50, {"energy-in": 25.0, "soc-start": 20.0, "soc-end": 50.0})
    )  # out of order
    assert len(detector.sessions) == 1
    # a streamed session with a zero ΔSoC, and a session-energy counter that goes backwards
    stream = [
        {"charging-state": 2.0, "state-of-charge": 60.0, "session-energy": 0.0, "charging-power": 7.4},
        {"charging-state": 2.0, "state-of-charge": 60.0, "session-energy": 5.0, "charging-power": 7.4},
        {"charging-state": 2.0, "state-of-charge": 61.0, "session-energy": 1.0, "charging-power": 7.4},
        {"charging-state": 3.0, "state-of-charge": 61.0, "session-energy": 1.0, "charging-power": 0.0},
    ]
    for i, values in enumerate(stream):
        detector.observe(Sample(START + 200 + i * 60, values))
    assert len(detector.sessions) == 1
    assert detector.findings() == []


def test_summary_sessions_give_an_estimate() -> None:
    detector = BatteryHealth("car")
    stored_per_session = 0.9 * 75.0 * 0.4  # 40 % of a 90 % battery
    for day in range(30):
        energy = stored_per_session / charger_efficiency(7.4, 20.0)
        values = {
            "energy-in": energy,
            "soc-start": 30.0,
            "soc-end": 70.0,
            "charging-power": 7.4,
            "temperature": 20.0,
        }
        detector.observe(Sample(START + day * 86400.0, values))
    est = detector.estimate()
    assert est is not None and est.soh_pct == pytest.approx(90.0, abs=0.1)


def test_state_round_trips_and_resumes() -> None:
    car_a, car_b = fleet_car(calendar=9.0, cycle=30.0), fleet_car(calendar=9.0, cycle=30.0)
    whole, first = BatteryHealth("car"), BatteryHealth("car")
    samples = list(simulate_usage(car_a, START, 300, PATTERN, seed=1))
    assert samples == list(simulate_usage(car_b, START, 300, PATTERN, seed=1))
    half = len(samples) // 2 + 3  # mid-session, most likely
    for ts, values in samples:
        whole.observe(Sample(ts, values))
    for ts, values in samples[:half]:
        first.observe(Sample(ts, values))
    resumed = BatteryHealth("car")
    resumed.restore(json.loads(json.dumps(first.state())))
    assert resumed.estimate() == first.estimate()
    for ts, values in samples[half:]:
        resumed.observe(Sample(ts, values))
    assert resumed.estimate() == whole.estimate()
    assert resumed.findings() == whole.findings()
    assert whole.findings()
    resumed.reset(samples[-1][0])
    assert resumed.estimate() is None and resumed.findings() == []
