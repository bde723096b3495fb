"""The simulated AC's gradual faults, sensor noise, unit spread and the fast solo stepping path."""

from __future__ import annotations

import statistics

import pytest

from trilink.sim import AirConditioner, Room, Weather
from trilink.sim.aircon import MAX_FAULT_LEVEL, SENSOR_NOISE
from trilink.sim.climates import SUMMER_CLIMATES, USAGES, solo_unit

DAY = 86400.0


def test_gradual_faults_grow_at_their_daily_rate() -> None:
    ac = AirConditioner(Room("r", "R"), Weather("hot-humid"), filter_clog_rate=0.02, leak_rate=0.01)
    now = 0.0
    for _ in range(10 * 144):  # ten days at 10 minutes
        now += 600.0
        ac.step(now, 600.0)
    assert ac.filter_clog == pytest.approx(0.20, abs=1e-6)
    assert ac.undercharge == pytest.approx(0.10, abs=1e-6)
    ac.filter_clog_rate = 1.0
    ac.step(now + DAY, DAY)
    assert ac.filter_clog == MAX_FAULT_LEVEL


def test_sensor_noise_is_seeded_and_of_the_documented_size() -> None:
    def readings(seed: int) -> list[float]:
        ac = AirConditioner(Room("r", "R"), Weather("hot-humid"), sensor_noise=True, noise_seed=seed)
        return [ac.values()[("environment", "temperature")] for _ in range(400)]

    a, b, c = readings(1), readings(1), readings(2)
    assert a == b and a != c
    assert statistics.stdev(a) == pytest.approx(SENSOR_NOISE["temperature"], rel=0.2)
    quiet = AirConditioner(Room("r", "R"), Weather("hot-humid"))
    assert quiet.values() == quiet.true_values()


def test_units_differ_and_the_solo_path_runs_the_same_physics() -> None:
    units = [solo_unit("hot-humid", "all-day", seed) for seed in range(6)]
    airflows = {round(u.ac.rated_airflow_m3h, 1) for u in units}
    assert len(airflows) == 6
    su = units[0]
    rows = list(su.run(DAY, 600.0))
    assert len(rows) == 144
    on = [v for _, v in rows if v["on"]]
    assert on and all(v["airflow"] > 0 for v in on)
    assert any(v["compressor-power"] > 0 for v in on)
    assert su.ac.energy_kwh > 0.5


@pytest.mark.parametrize("climate", list(SUMMER_CLIMATES))
def test_every_climate_and_usage_runs(climate: str) -> None:
    for usage in USAGES:
        su = solo_unit(climate, usage, 3, sensor_noise=True)
        for _, v in su.run(DAY / 4, 1800.0):
            assert 10.0 < v["temperature"] < 45.0


def test_clogging_unit_shows_lower_airflow_over_time() -> None:
    su = solo_unit("hot-dry", "all-day", 5, filter_clog_rate=0.05)
    rows = list(su.run(6 * DAY, 600.0))
    day1 = [v["airflow"] / v["fan-power"] ** (1 / 3) for t, v in rows[:144] if v["on"]]
    day6 = [v["airflow"] / v["fan-power"] ** (1 / 3) for t, v in rows[-144:] if v["on"]]
    assert statistics.fmean(day6) < 0.9 * statistics.fmean(day1)


def test_a_reading_matches_the_room_air_it_is_read_with() -> None:
    """During a pull-down the room moves a lot within a step; the supply air read with it
    must be what the coil makes of the room's air now, not of the air when the step began."""
    su = solo_unit("hot-dry", "nights", 11)
    checked = 0
    for _, values in su.run(3 * DAY):
        ac = su.ac
        if values["runtime-fraction"] < 50.0:
            continue
        point = ac.cooling_point(
            ac.room.temperature, ac.room.humidity_ratio, ac.outdoor_temperature, ac._running[1]
        )  # type: ignore[index]
        assert values["supply-air-temperature"] == pytest.approx(point.supply_temperature)
        assert values["temperature"] == pytest.approx(ac.room.temperature)
        checked += 1
    assert checked > 10
