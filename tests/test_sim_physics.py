"""The simulated world's physics, without any network: rooms, the AC and its faults, the car, the phone.

Time is simulated: the world is stepped directly (``World.advance``) on a ManualClock.
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trilink.clock import ManualClock
from trilink.model import builtin_specs, validate_value
from trilink.sim import (
    SHANGHAI,
    AirConditioner,
    ChargingState,
    Climate,
    ElectricCar,
    Mode,
    OperatingPoint,
    Room,
    Weather,
    World,
    psychro,
    quantize,
)
from trilink.sim.aircon import undercharge_ratios
from trilink.sim.route import TO_OFFICE, distance_m
from trilink.transports.mqtt.settings import MqttSettings

#: Monday 6 July 2026, 00:00 in Shanghai
MONDAY = datetime(2026, 7, 6, tzinfo=SHANGHAI).timestamp()
#: no broker is contacted in this file; World only needs settings to build its devices
NOWHERE = MqttSettings(host="127.0.0.1", port=9)


def at(day_start: float, hour: float) -> float:
    return day_start + hour * 3600.0


def steady_weather(t_out: float, rh: float = 50.0) -> Weather:
    """Weather that stays at ``t_out`` all day, in the dark (no sun, no noise)."""
    return Weather(Climate("test", t_out, 0.0, rh, 0.0, noise_c=0.0))


def world(
    start: float = MONDAY, *, climate: str = "hot-humid", seed: int = 0, schedule: bool = True
) -> World:
    return World(NOWHERE, ManualClock(start), climate=climate, seed=seed, schedule=schedule)


# --------------------------------------------------------------------- weather
def test_outdoor_temperature_has_its_minimum_near_5_and_maximum_near_15() -> None:
    weather = Weather("temperate")
    hours = [h / 4 for h in range(96)]
    cycle = [weather.daily_cycle(h) for h in hours]
    assert hours[cycle.index(min(cycle))] == pytest.approx(5.0, abs=0.3)
    assert hours[cycle.index(max(cycle))] == pytest.approx(15.0, abs=0.3)
    c = weather.climate
    assert max(cycle) - min(cycle) == pytest.approx(2 * c.amplitude_c, rel=0.01)


def test_weather_noise_is_small_smooth_and_repeatable_per_seed() -> None:
    a, b, other = Weather("hot-humid", seed=3), Weather("hot-humid", seed=3), Weather("hot-humid", seed=4)
    times = [MONDAY + 600 * i for i in range(144)]
    assert [a.temperature(t) for t in times] == [b.temperature(t) for t in times]
    assert [a.temperature(t) for t in times] != [other.temperature(t) for t in times]
    for t in times:
        assert abs(a.temperature(t) - a.daily_cycle((t - MONDAY) / 3600 % 24)) <= a.climate.noise_c + 1e-9
    jumps = [abs(a.temperature(t + 600) - a.temperature(t)) for t in times]
    assert max(jumps) < 0.5  # 10 minutes never moves the air by half a degree


def test_sun_shines_only_by_day() -> None:
    weather = Weather("hot-humid")
    assert weather.solar(at(MONDAY, 2)) == 0.0
    assert weather.solar(at(MONDAY, 22)) == 0.0
    assert weather.solar(at(MONDAY, 12)) == pytest.approx(weather.climate.solar_peak_w_m2, rel=0.01)


# ----------------------------------------------------------------------- rooms
def test_room_without_ac_drifts_toward_outdoor_with_the_rc_time_constant() -> None:
    room = Room("r", "R", base_gain_w=0.0, temperature=20.0)
    tau = room.time_constant_s
    assert 2 * 3600 < tau < 6 * 3600  # a few hours, as a ~25 m² room should have
    for _ in range(int(tau / 10)):
        room.step(10.0, 32.0, room.humidity_ratio, 0.0)
    # C dT/dt = (T_out - T)/R  =>  the gap shrinks by e after one time constant
    assert room.temperature == pytest.approx(32.0 - 12.0 * math.exp(-int(tau / 10) * 10 / tau), abs=1e-6)


def test_room_integration_is_stable_for_long_steps() -> None:
    room = Room("r", "R", base_gain_w=0.0, temperature=20.0)
    for _ in range(10):
        room.step(6 * 3600.0, 32.0, room.humidity_ratio, 0.0)
        assert 20.0 <= room.temperature <= 32.0  # never overshoots


def test_room_with_ac_cooling_approaches_the_target() -> None:
    weather = steady_weather(33.0, rh=60.0)
    room = Room("r", "R", temperature=31.0, humidity_ratio=psychro.humidity_ratio(31.0, 60.0))
    ac = AirConditioner(room, weather)
    ac.on, ac.mode, ac.target_temperature = True, Mode.COOL, 25.0
    now, temps = MONDAY, []
    for _ in range(3 * 360):  # three hours
        now += 10.0
        ac.step(now, 10.0)
        room.step(10.0, 33.0, weather.humidity_ratio(now), 0.0, ac.heat_w, ac.moisture_removed_kg_s)
        temps.append(room.temperature)
    assert temps[60] < 31.0 - 1.0  # pulling down hard at first
    assert room.temperature == pytest.approx(25.0, abs=0.4)
    assert max(temps[-360:]) < 25.8  # and holds it
    assert 0.05 < ac.runtime_fraction < 0.95  # modulating, neither off nor flat out
    assert ac.energy_kwh > 0.5
    assert room.relative_humidity < 60.0  # the wet coil dries the air


# -------------------------------------------------------------------- the AC
def rated_point(**faults: float) -> OperatingPoint:
    ac = AirConditioner(Room("r", "R"), steady_weather(35.0))
    for name, value in faults.items():
        setattr(ac, name, value)
    # AHRI rating conditions: 26.7 °C dry bulb / 19.4 °C wet bulb indoors, 35 °C outdoors
    return ac.cooling_point(26.7, psychro.humidity_ratio(26.7, 51.0), 35.0)


def test_rated_point_is_a_3_5_kw_split_unit() -> None:
    p = rated_point()
    assert p.capacity_w == pytest.approx(3500.0, rel=0.01)
    assert p.capacity_w / p.compressor_power_w == pytest.approx(3.6, rel=0.01)
    assert 10.0 < 26.7 - p.supply_temperature < 14.0  # a normal temperature split
    assert 0.65 < -p.sensible_w / p.capacity_w < 0.85  # sensible heat ratio
    assert p.coil_temperature < p.supply_temperature


def test_filter_clog_lowers_airflow_and_capacity_and_the_coil_gets_colder() -> None:
    clean, clogged = rated_point(), rated_point(filter_clog=0.3)
    assert clogged.airflow_m3h == pytest.approx(0.7 * clean.airflow_m3h)
    assert clogged.capacity_w < clean.capacity_w * 0.97
    assert clogged.coil_temperature < clean.coil_temperature - 1.0
    assert clogged.supply_temperature < clean.supply_temperature - 1.0
    assert clogged.fan_power_w != pytest.approx(clean.fan_power_w, rel=0.01)
    # NREL fan-curve relation: power ∝ (1 - F) · (1 + (c_F - 1) · F · (2 - F)), c_F = 1.4048
    assert clogged.fan_power_w / clean.fan_power_w == pytest.approx(0.7 * (1 + 0.4048 * 0.3 * 1.7), rel=1e-6)


def test_undercharge_lowers_capacity_and_raises_energy_per_unit_of_cooling() -> None:
    full, short = rated_point(), rated_point(undercharge=0.3)
    assert short.airflow_m3h == full.airflow_m3h
    assert short.capacity_w < full.capacity_w * 0.9
    assert short.energy_per_capacity > full.energy_per_capacity * 1.05
    assert short.coil_temperature != pytest.approx(full.coil_temperature, abs=0.2)
    assert short.supply_temperature > full.supply_temperature  # a smaller temperature split


def test_undercharge_correlation_matches_the_published_magnitudes() -> None:
    # Cheung & Braun / NREL: 30 % undercharge ≈ -20 % capacity, +12 % EIR at rating conditions
    q, eir = undercharge_ratios(0.3, 19.4, 35.0, 3.6)
    assert q == pytest.approx(0.80, abs=0.03)
    assert eir == pytest.approx(1.12, abs=0.03)
    assert undercharge_ratios(0.0, 19.4, 35.0, 3.6) == (1.0, 1.0)
    ratios = [undercharge_ratios(f / 10, 19.4, 35.0, 3.6) for f in range(10)]
    assert all(a[0] >= b[0] and a[1] <= b[1] for a, b in itertools.pairwise(ratios))


def test_undercharge_costs_energy_for_the_same_cooling_over_an_evening() -> None:
    def evening(undercharge: float) -> tuple[float, float]:
        weather = steady_weather(32.0, rh=60.0)
        room = Room("r", "R", temperature=26.0, humidity_ratio=psychro.humidity_ratio(26.0, 55.0))
        ac = AirConditioner(room, weather)
        ac.undercharge = undercharge
        ac.on, ac.mode, ac.target_temperature = True, Mode.COOL, 26.0
        now = MONDAY
        for _ in range(4 * 360):
            now += 10.0
            ac.step(now, 10.0)
            room.step(10.0, 32.0, weather.humidity_ratio(now), 0.0, ac.heat_w, ac.moisture_removed_kg_s)
        return ac.energy_kwh, room.temperature

    healthy, faulty = evening(0.0), evening(0.3)
    assert faulty[1] == pytest.approx(healthy[1], abs=0.3)  # the room is held all the same …
    assert faulty[0] > healthy[0] * 1.05  # … for more electricity


def test_fault_levels_are_checked() -> None:
    ac = AirConditioner(Room("r", "R"), steady_weather(30.0))
    for bad in (-0.1, 1.0, 2.0):
        with pytest.raises(ValueError, match="filter_clog"):
            ac.filter_clog = bad
        with pytest.raises(ValueError, match="undercharge"):
            ac.undercharge = bad


def test_heating_mode_warms_the_room() -> None:
    weather = steady_weather(2.0, rh=70.0)
    room = Room("r", "R", temperature=15.0, humidity_ratio=psychro.humidity_ratio(2.0, 70.0))
    ac = AirConditioner(room, weather)
    ac.on, ac.mode, ac.target_temperature = True, Mode.HEAT, 21.0
    now = MONDAY
    for _ in range(3 * 360):
        now += 10.0
        ac.step(now, 10.0)
        room.step(10.0, 2.0, weather.humidity_ratio(now), 0.0, ac.heat_w, ac.moisture_removed_kg_s)
    assert room.temperature == pytest.approx(21.0, abs=0.5)
    assert ac.point.supply_temperature > 30.0


# ---------------------------------------------------------------------- the car
def test_driving_uses_charge_in_proportion_to_distance() -> None:
    car = ElectricCar(steady_weather(25.0), plugged_in=False, state_of_charge=80.0)
    start_km, start_soc = car.odometer_km, car.state_of_charge
    car.drive_to("office")
    samples, now = [], MONDAY
    while car.driving:
        now += 10.0
        car.step(now, 10.0)
        samples.append((car.odometer_km - start_km, start_soc - car.state_of_charge))
    km, used = samples[-1]
    assert km == pytest.approx(TO_OFFICE.length_m / 1000.0, rel=0.01)
    assert 10.0 < km < 20.0
    kwh_per_km = used / 100.0 * car.usable_capacity_kwh / km
    assert 0.08 < kwh_per_km < 0.25
    for d, u in samples[len(samples) // 10 :]:
        assert u == pytest.approx(used * d / km, abs=0.25)  # within a quarter of a percent of the line
    assert car.place == "office"
    assert (car.latitude, car.longitude) == pytest.approx(TO_OFFICE.legs[-1].end)
    assert car.speed_ms == 0.0


def test_faster_driving_costs_more_per_km() -> None:
    car = ElectricCar(steady_weather(25.0), plugged_in=False)

    def per_km(speed_ms: float) -> float:
        car.speed_ms = speed_ms
        force = car.mass_kg * 9.81 * car.rolling_resistance + 0.5 * 1.2 * car.drag_area_m2 * speed_ms**2
        return (force / car.drive_efficiency + car.auxiliary_w / speed_ms) / 3.6e3  # Wh/m → kWh/km

    assert per_km(33.0) > per_km(15.0)


def test_charging_tapers_above_80_percent_and_stops_at_the_limit() -> None:
    car = ElectricCar(steady_weather(25.0), state_of_charge=70.0, charge_limit=95, plugged_in=False)
    car.plug_in()
    assert car.charging_state == ChargingState.CHARGING
    assert car.minutes_to_limit() > 60
    stored_before, powers, now = car.energy_kwh, [], MONDAY
    while car.charging_state == ChargingState.CHARGING:
        now += 60.0
        car.step(now, 60.0)
        powers.append((car.state_of_charge, car.charging_power_kw))
    below = [p for soc, p in powers if soc < 79.5]
    above = [(soc, p) for soc, p in powers if soc > 80.5 and p > 0]
    assert below and all(p == pytest.approx(11.0) for p in below)
    assert above and all(b[1] <= a[1] for a, b in itertools.pairwise(above))
    assert above[-1][1] < 4.0  # tapered near 95 %
    assert car.state_of_charge == pytest.approx(95.0)
    assert car.charging_state == ChargingState.COMPLETE
    events = car.pop_events()
    assert [(e.service, e.event) for e in events] == [("charging", "charging-ended")]
    assert events[0].arguments["charging-state"] == ChargingState.COMPLETE
    stored = car.energy_kwh - stored_before
    assert events[0].arguments["session-energy"] > stored * 1.05  # losses: more in than stored
    assert car.values()[("charging", "time-to-full")] == 0


def test_stop_charging_ends_the_session_with_an_event() -> None:
    car = ElectricCar(steady_weather(25.0), state_of_charge=50.0)
    car.step(MONDAY + 600, 600.0)
    assert car.call("charging", "stop-charging", []) == []
    assert car.charging_state == ChargingState.STOPPED
    (event,) = car.pop_events()
    assert event.arguments["charging-state"] == ChargingState.STOPPED
    assert event.arguments["session-energy"] == pytest.approx(11.0 / 6, rel=0.01)
    car.call("charging", "start-charging", [])
    assert car.charging_state == ChargingState.CHARGING


def test_state_of_health_scales_the_usable_energy() -> None:
    car = ElectricCar(steady_weather(20.0), state_of_health=0.8, state_of_charge=0.0, charge_limit=100)
    assert car.usable_capacity_kwh == pytest.approx(60.0)
    assert car.values()[("traction-battery", "state-of-health")] == pytest.approx(80.0)
    now = MONDAY
    while car.charging_state == ChargingState.CHARGING:
        now += 60.0
        car.step(now, 60.0)
    assert car.energy_kwh == pytest.approx(0.8 * 75.0)
    assert car.state_of_charge == pytest.approx(100.0)
    new = ElectricCar(steady_weather(20.0), state_of_charge=100.0)
    assert car.range_km == pytest.approx(0.8 * new.range_km)


def test_the_car_cannot_drive_off_plugged_in() -> None:
    car = ElectricCar(steady_weather(20.0))
    with pytest.raises(RuntimeError, match="unplug"):
        car.drive_to("office")
    car.unplug()
    car.drive_to("office")
    with pytest.raises(RuntimeError, match="only charger is at home"):
        car.place = "office"
        car.plug_in()


def test_cabin_climate_reaches_its_target() -> None:
    car = ElectricCar(steady_weather(34.0), plugged_in=False)
    car.cabin_temperature = 45.0
    car.climate_on, car.climate_target = True, 22.0
    soc, now = car.state_of_charge, MONDAY
    for _ in range(90):  # a quarter of an hour
        now += 10.0
        car.step(now, 10.0)
    assert car.cabin_temperature == pytest.approx(22.0, abs=1.0)
    assert car.state_of_charge < soc  # the climate runs on the battery


# --------------------------------------------------------------------- the phone
def test_phone_follows_the_car_while_driving_and_rests_at_the_office() -> None:
    w = world(start=at(MONDAY, 8), schedule=False)
    w.car.unplug()
    w.car.drive_to("office")
    gaps = []
    while w.car.driving:
        w.advance(10.0)
        if w.car.driving:
            gaps.append(distance_m((w.phone.latitude, w.phone.longitude), (w.car.latitude, w.car.longitude)))
            assert w.phone.accuracy == 6.0
    assert len(gaps) > 30
    assert max(gaps) < 40.0
    w.advance(60.0)
    assert w.person.place == "office"
    assert distance_m((w.phone.latitude, w.phone.longitude), w.person.places["office"]) < 150.0


def test_phone_alarm_rings_on_workdays_at_seven() -> None:
    friday = MONDAY + 4 * 86400
    w = world(start=at(friday, 6), schedule=False)
    assert w.phone.next_alarm == "2026-07-10T07:00:00+08:00"
    w.advance(3600.0)
    (ring,) = w.phone.pop_events()
    assert (ring.service, ring.event, ring.arguments) == (
        "alarm-clock",
        "alarm-ringing",
        {"next-alarm": "2026-07-10T07:00:00+08:00"},
    )
    assert w.phone.next_alarm == "2026-07-13T07:00:00+08:00"  # skips the weekend


def test_phone_notifications_and_battery() -> None:
    w = world(start=at(MONDAY, 9), schedule=False)
    phone = w.phone
    assert phone.call("notification", "notify", ["Door", "Front door unlocked"]) == []
    (shown,) = phone.pop_events()
    assert shown.arguments == {"title": "Door", "message": "Front door unlocked"}
    level = phone.battery
    w.advance(2 * 3600.0)
    assert phone.battery < level and not phone.charging  # daytime drain
    w.advance(14 * 3600.0)  # 01:00: on the charger
    assert phone.charging or phone.battery == 100.0


# ------------------------------------------------------------------- the world
def test_daily_schedule_commutes_and_charges() -> None:
    w = world(start=at(MONDAY, 7))
    w.advance(1.5 * 3600)
    assert w.car.driving or w.car.place == "office"
    assert w.car.charging_state == ChargingState.UNPLUGGED
    w.advance(3 * 3600)
    assert w.car.place == "office" and w.person.place == "office"
    w.advance(12 * 3600)  # 23:30
    assert w.car.place == "home" and w.car.charging_state in (ChargingState.CHARGING, ChargingState.COMPLETE)


def test_schedule_can_be_turned_off() -> None:
    w = world(start=at(MONDAY, 7), schedule=False)
    w.advance(12 * 3600)
    assert w.car.place == "home" and w.car.odometer_km == pytest.approx(12_345.0)


def test_curtains_move_a_few_percent_per_second() -> None:
    w = world(schedule=False)
    curtain = w.device("curtain-living")
    curtain.behaviour.write("curtain", "motor-control", 2)  # close
    w.advance(10.0)
    position = curtain.readings()[(2, 2)]
    assert 50 <= position <= 70
    w.advance(30.0)
    assert curtain.readings()[(2, 2)] == 0


def test_lights_take_and_report_a_colour() -> None:
    w = world(schedule=False)
    light = w.device("light-living")
    spec = builtin_specs()["trilink.light.sim1"]
    assert light.readings()[(2, 4)] == 0xFFFFFF  # white until told otherwise
    light.behaviour.write("light", "color", 0xFF0000)
    assert light.readings()[(2, 4)] == 0xFF0000
    assert validate_value("light-living", spec.properties[(2, 4)], 0xFF0000, write=True) == 0xFF0000


CLIMATE_DAYS = [("hot-humid", 1), ("temperate", 6), ("cold", 6)]


@pytest.mark.parametrize(("climate", "every"), CLIMATE_DAYS)
def test_every_reported_value_validates_across_a_day(climate: str, every: int) -> None:
    w = world(climate=climate, seed=7)
    w.aircon("ac-bedroom").filter_clog = 0.6
    w.aircon("ac-living").undercharge = 0.5
    checked = events = 0
    for i in range(24 * 360):
        w.advance(w.step)
        for did, device in w.devices.items():
            for e in device.behaviour.pop_events():
                siid, eiid, args = device.event_items(e)
                assert (siid, eiid) in device.spec.events
                for piid, value in args.items():
                    validate_value(did, device.spec.properties[(siid, piid)], value)
                events += 1
            if i % every:
                continue
            for siid, piid, value in device.snapshot():
                validate_value(did, device.spec.properties[(siid, piid)], value)
                checked += 1
    assert checked > 10_000
    assert events > 5  # alarm, lock, charging …


# ------------------------------------------------------------ reported values
READABLE = [p for spec in builtin_specs().values() for p in spec.iter_properties() if p.readable]


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**12), 10**12))
def test_quantize_always_yields_a_valid_report_value(x: float) -> None:
    for prop in READABLE:
        if prop.format in ("string", "hex"):
            continue
        validate_value("d", prop, quantize(prop, x))


def test_quantize_rounds_to_the_step_and_type() -> None:
    specs = builtin_specs()
    temp = specs["trilink.aircondition.sim1"].properties[(4, 1)]
    assert quantize(temp, 26.04381) == 26.0 and quantize(temp, 26.06) == 26.1
    assert quantize(temp, 99.0) == 70.0
    level = specs["trilink.lock.sim1"].properties[(3, 1)]
    assert quantize(level, 87.6) == 88 and isinstance(quantize(level, 87.6), int)
    energy = specs["trilink.plug.sim1"].properties[(3, 2)]
    assert quantize(energy, 1.23456) == 1.235
