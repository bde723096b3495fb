"""Entities of every supported component, and the trilink devices and specs derived from them (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trilink.kernel import Kernel
from trilink.transports.hass.abbreviations import expand
from trilink.transports.hass.derive import UnknownComponent, derive, device_key, did_for, make_entity
from trilink.transports.hass.discovery import EntityConfig
from trilink.transports.hass.entity import CommandUnsupported, Entity, EntityInvalid, StateMessage
from trilink.transports.hass.lights import rgb_to_xy, xy_to_rgb


def entity(
    component: str, config: dict[str, Any], oid: str = "obj", problems: list[Any] | None = None
) -> Entity:
    ec = EntityConfig(component, oid, f"homeassistant/{component}/{oid}/config", expand(config))
    return make_entity(ec, [] if problems is None else problems)


def read(e: Entity, topic: str, payload: Any) -> dict[int, Any]:
    data = (
        payload
        if isinstance(payload, bytes)
        else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
    )
    message = StateMessage(data)
    out: dict[int, Any] = {}
    for reader in e.routes[topic]:
        out.update(reader(message))
    return out


def sent(publications: list[Any]) -> list[tuple[str, Any]]:
    out = []
    for topic, payload, _, _ in publications:
        try:
            out.append((topic, json.loads(payload)))
        except ValueError:
            out.append((topic, payload.decode()))
    return out


# ------------------------------------------------------------------- lights
def test_default_schema_light() -> None:
    e = entity(
        "light",
        {
            "cmd_t": "l/set",
            "stat_t": "l/state",
            "pl_on": "1",
            "pl_off": "0",
            "bri_cmd_t": "l/bri/set",
            "bri_stat_t": "l/bri",
            "clr_temp_cmd_t": "l/ct/set",
            "clr_temp_stat_t": "l/ct",
            "min_mirs": 153,
            "max_mirs": 500,
            "rgb_cmd_t": "l/rgb/set",
            "rgb_stat_t": "l/rgb",
            "rgb_cmd_tpl": "{{ red }},{{ green }},{{ blue }}",
        },
    )
    assert [(p.piid, p.name, p.access) for p in e.props] == [
        (1, "on", ("read", "write", "notify")),
        (2, "brightness", ("read", "write", "notify")),
        (3, "color-temperature", ("read", "write", "notify")),
        (4, "color", ("read", "write", "notify")),
    ]
    assert e.props[2].value_range == (2000, 6536, 1)
    assert read(e, "l/state", "1") == {1: True}
    assert read(e, "l/state", "0") == {1: False}
    assert read(e, "l/state", "maybe") == {}
    assert read(e, "l/bri", "255") == {2: 100}
    assert read(e, "l/bri", "128") == {2: 50}
    assert read(e, "l/ct", "250") == {3: 4000}
    assert read(e, "l/rgb", "255,128,0") == {4: 0xFF8000}
    assert sent(e.command(1, True)) == [("l/set", 1)]
    assert sent(e.command(2, 50)) == [("l/bri/set", 128)]
    assert sent(e.command(2, 1)) == [("l/bri/set", 3)]
    assert sent(e.command(3, 4000)) == [("l/ct/set", 250)]
    assert sent(e.command(4, 0x336699)) == [("l/rgb/set", "51,102,153")]


def test_default_light_without_state_topics_is_optimistic() -> None:
    e = entity("light", {"cmd_t": "l/set", "bri_cmd_t": "l/bri", "bri_scl": 100, "on_cmd_type": "brightness"})
    assert e.echo == {1, 2}
    assert sent(e.command(1, True)) == [("l/bri", 100)]
    assert sent(e.command(1, False)) == [("l/set", "OFF")]


def test_json_light_of_zigbee2mqtt() -> None:
    e = entity(
        "light",
        {
            "schema": "json",
            "cmd_t": "z/bulb/set",
            "stat_t": "z/bulb",
            "brightness": True,
            "brightness_scale": 254,
            "sup_clrm": ["color_temp", "xy"],
            "min_mireds": 153,
            "max_mireds": 500,
        },
    )
    assert [p.name for p in e.props] == ["on", "brightness", "color-temperature", "color"]
    state = {
        "state": "ON",
        "brightness": 254,
        "color_temp": 370,
        "color": {"x": 0.3127, "y": 0.329},
        "linkquality": 9,
    }
    values = read(e, "z/bulb", state)
    assert values[1] is True and values[2] == 100 and values[3] == 2703
    assert values[4] >= 0xF0F0F0  # D65 white
    assert read(e, "z/bulb", {"state": "OFF", "brightness": None}) == {1: False}
    assert sent(e.command(1, False)) == [("z/bulb/set", {"state": "OFF"})]
    assert sent(e.command(2, 50)) == [("z/bulb/set", {"state": "ON", "brightness": 127})]
    assert sent(e.command(3, 2703)) == [("z/bulb/set", {"state": "ON", "color_temp": 370})]
    ((_, body),) = sent(e.command(4, 0xFF0000))
    assert body["color"]["x"] == pytest.approx(0.70, abs=0.01) and body["color"]["y"] == pytest.approx(
        0.30, abs=0.01
    )
    with pytest.raises(ValueError, match="JSON object"):
        read(e, "z/bulb", "ON")


def test_json_light_color_modes_and_kelvin() -> None:
    hs = entity(
        "light", {"schema": "json", "cmd_t": "c", "stat_t": "s", "sup_clrm": ["hs"], "clr_temp_k": True}
    )
    assert read(hs, "s", {"state": "ON", "color": {"h": 120, "s": 100}}) == {1: True, 4: 0x00FF00}
    assert sent(hs.command(4, 0x00FF00)) == [("c", {"state": "ON", "color": {"h": 120.0, "s": 100.0}})]
    rgb = entity(
        "light",
        {
            "schema": "json",
            "cmd_t": "c",
            "stat_t": "s",
            "sup_clrm": ["rgb", "color_temp"],
            "clr_temp_k": True,
        },
    )
    assert sent(rgb.command(4, 0x336699)) == [("c", {"state": "ON", "color": {"r": 51, "g": 102, "b": 153}})]
    assert sent(rgb.command(3, 3000)) == [("c", {"state": "ON", "color_temp": 3000})]
    assert read(rgb, "s", {"color": {"r": 1, "g": 2, "b": 3}, "color_temp": 3000}) == {3: 3000, 4: 0x010203}


def test_xy_round_trip() -> None:
    for color in (0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF):
        back = xy_to_rgb(*rgb_to_xy(color))
        assert max(abs(((back >> s) & 255) - ((color >> s) & 255)) for s in (0, 8, 16)) < 40


def test_unsupported_light_schema() -> None:
    with pytest.raises(EntityInvalid, match="schema 'template'"):
        entity("light", {"schema": "template", "cmd_t": "c"})


# ----------------------------------------------------------------- platforms
def test_switch() -> None:
    e = entity(
        "switch", {"cmd_t": "p/set", "stat_t": "p", "val_tpl": "{{ value_json.state }}", "stat_on": "on"}
    )
    assert read(e, "p", {"state": "on"}) == {1: True}
    assert read(e, "p", {"state": "OFF"}) == {1: False}
    assert sent(e.command(1, True)) == [("p/set", "ON")]
    read_only = entity("switch", {"stat_t": "p"})
    assert read_only.props[0].access == ("read", "notify")
    with pytest.raises(CommandUnsupported):
        read_only.command(1, True)
    with pytest.raises(EntityInvalid, match="no topics"):
        entity("switch", {"name": "x"})


@pytest.mark.parametrize(
    ("config", "service", "name", "fmt", "unit"),
    [
        (
            {"dev_cla": "temperature", "unit_of_meas": "°F"},
            "environment",
            "temperature",
            "float",
            "fahrenheit",
        ),
        (
            {"dev_cla": "humidity", "unit_of_meas": "%"},
            "environment",
            "relative-humidity",
            "float",
            "percentage",
        ),
        ({"dev_cla": "battery", "unit_of_meas": "%"}, "battery", "battery-level", "float", "percentage"),
        (
            {"dev_cla": "energy", "unit_of_meas": "kWh", "stat_cla": "total_increasing"},
            "power-consumption",
            "power-consumption",
            "float",
            "kWh",
        ),
        ({"name": "Linkquality", "unit_of_meas": "lqi"}, "sensor", "linkquality", "float", "lqi"),
        ({"name": "Last seen"}, "sensor", "last-seen", "string", None),
    ],
)
def test_sensor_types(config: dict[str, Any], service: str, name: str, fmt: str, unit: str | None) -> None:
    e = entity("sensor", {"stat_t": "s", **config})
    (p,) = e.props
    assert (e.service_name, p.name, p.format, p.unit) == (service, name, fmt, unit)
    assert p.access == ("read", "notify")


def test_sensor_values() -> None:
    e = entity("sensor", {"stat_t": "s", "unit_of_meas": "W", "val_tpl": "{{ value_json.power }}"})
    assert read(e, "s", {"power": 12.5}) == {1: 12.5}
    assert read(e, "s", {"power": "7"}) == {1: 7}
    assert read(e, "s", {"other": 1}) == {}  # undefined: nothing to report
    assert read(e, "s", {"power": None}) == {}
    with pytest.raises(ValueError):
        read(e, "s", {"power": "lots"})
    enum = entity("sensor", {"stat_t": "s", "dev_cla": "enum", "ops": ["idle", "running"]})
    assert enum.props[0].value_list == ((0, "idle"), (1, "running"))
    assert read(enum, "s", "running") == {1: 1}
    with pytest.raises(EntityInvalid, match="state_topic is required"):
        entity("sensor", {"unit_of_meas": "W"})


def test_binary_sensor_with_boolean_payloads() -> None:
    e = entity(
        "binary_sensor",
        {
            "stat_t": "d",
            "dev_cla": "door",
            "pl_on": False,
            "pl_off": True,
            "val_tpl": "{{ value_json.contact }}",
        },
    )
    assert e.props[0].name == "door"
    assert read(e, "d", {"contact": True}) == {1: False}
    assert read(e, "d", {"contact": False}) == {1: True}


def test_lock() -> None:
    e = entity(
        "lock",
        {
            "cmd_t": "l/set",
            "stat_t": "l",
            "stat_locked": "LOCK",
            "stat_unlocked": "UNLOCK",
            "val_tpl": "{{ value_json.child_lock }}",
        },
    )
    assert [a.name for a in e.actions] == ["lock", "unlock"]
    assert read(e, "l", {"child_lock": "LOCK"}) == {1: True}
    assert sent(e.call(1)) == [("l/set", "LOCK")]
    assert sent(e.call(2)) == [("l/set", "UNLOCK")]
    assert e.call_echo == {}
    optimistic = entity("lock", {"cmd_t": "l/set", "pl_open": "OPEN"})
    assert [a.name for a in optimistic.actions] == ["lock", "unlock", "open"]
    assert optimistic.call_echo[1] == [(1, True)]
    with pytest.raises(CommandUnsupported):
        e.call(3)


def test_button() -> None:
    e = entity("button", {"cmd_t": "b", "pl_prs": '{"identify": "identify"}', "name": "Identify"})
    assert e.actions[0].name == "press" and e.props == []
    assert sent(e.call(1)) == [("b", {"identify": "identify"})]


def test_number() -> None:
    e = entity(
        "number",
        {
            "cmd_t": "n/set",
            "stat_t": "n",
            "min": -9,
            "max": 9,
            "step": 0.1,
            "unit_of_meas": "°C",
            "name": "Calibration",
        },
    )
    (p,) = e.props
    assert (p.name, p.format, p.value_range, p.unit) == ("calibration", "float", (-9, 9, 0.1), "celsius")
    assert read(e, "n", "-1.5") == {1: -1.5}
    assert sent(e.command(1, 2.5)) == [("n/set", 2.5)]
    whole = entity("number", {"cmd_t": "n/set", "cmd_tpl": '{"v": {{ value }}}'})
    assert whole.props[0].format == "int32" and whole.props[0].value_range == (1, 100, 1)
    assert sent(whole.command(1, 5.0)) == [("n/set", {"v": 5})]
    problems: list[Any] = []
    entity("number", {"cmd_t": "n", "min": 10, "max": 1}, problems=problems)
    assert problems[0][0] == "bad-value"


def test_select() -> None:
    e = entity("select", {"cmd_t": "s/set", "stat_t": "s", "ops": ["off", "on", "previous"]})
    assert read(e, "s", "previous") == {1: 2}
    assert sent(e.command(1, 1)) == [("s/set", "on")]
    with pytest.raises(ValueError, match="not one of"):
        read(e, "s", "sometimes")
    with pytest.raises(EntityInvalid, match="needs options"):
        entity("select", {"cmd_t": "s"})


def test_fan() -> None:
    e = entity(
        "fan",
        {
            "cmd_t": "f/set",
            "stat_t": "f",
            "pct_cmd_t": "f/speed/set",
            "pct_stat_t": "f/speed",
            "spd_rng_min": 1,
            "spd_rng_max": 3,
            "pr_mode_cmd_t": "f/preset/set",
            "pr_mode_stat_t": "f/preset",
            "pr_modes": ["auto", "sleep"],
            "osc_cmd_t": "f/osc/set",
        },
    )
    assert [p.piid for p in e.props] == [1, 3, 4, 5]
    assert read(e, "f/speed", "2") == {3: 66}
    assert read(e, "f/speed", "3") == {3: 100}
    assert read(e, "f/preset", "sleep") == {5: 1}
    assert sent(e.command(3, 50)) == [("f/speed/set", 2)]
    assert sent(e.command(3, 100)) == [("f/speed/set", 3)]
    assert sent(e.command(4, True)) == [("f/osc/set", "oscillate_on")]
    assert sent(e.command(5, 0)) == [("f/preset/set", "auto")]
    assert e.echo == {4}


def test_climate() -> None:
    e = entity(
        "climate",
        {
            "mode_cmd_t": "c/mode/set",
            "mode_stat_t": "c/mode",
            "modes": ["off", "heat"],
            "temp_cmd_t": "c/temp/set",
            "temp_stat_t": "c/temp",
            "curr_temp_t": "c",
            "val_tpl": "{{ value_json.v }}",
            "curr_temp_tpl": "{{ value_json.now }}",
            "min_temp": "5",
            "max_temp": "30",
            "temp_step": 0.5,
            "pow_cmd_t": "c/power",
            "fan_modes": ["low", "high"],
            "fan_mode_cmd_t": "c/fan/set",
        },
    )
    by_name = {p.name: p for p in e.props}
    assert by_name["target-temperature"].value_range == (5, 30, 0.5)
    assert by_name["mode"].value_list == ((0, "off"), (1, "heat"))
    assert by_name["on"].access == ("read", "write", "notify") and 1 in e.echo
    # value_template is the fallback for every state template without its own
    assert read(e, "c/mode", {"v": "heat"}) == {2: 1}
    assert read(e, "c/temp", {"v": 21}) == {3: 21}
    assert read(e, "c", {"now": 19.5, "v": "ignored"}) == {4: 19.5}
    assert sent(e.command(2, 1)) == [("c/mode/set", "heat")]
    assert sent(e.command(3, 22.0)) == [("c/temp/set", 22)]
    assert sent(e.command(3, 21.5)) == [("c/temp/set", 21.5)]
    assert sent(e.command(1, False)) == [("c/power", "OFF")]
    assert sent(e.command(5, 1)) == [("c/fan/set", "high")]
    with pytest.raises(CommandUnsupported):
        e.command(7, 0)


def test_cover() -> None:
    e = entity(
        "cover",
        {
            "cmd_t": "c/set",
            "pl_stop": None,
            "pos_t": "c/pos",
            "pos_open": 255,
            "pos_clsd": 0,
            "set_pos_t": "c/pos/set",
            "set_pos_tpl": '{"position": {{ position }}}',
            "stat_t": "c/state",
        },
    )
    motor = e.props[0]
    assert motor.access == ("write",) and motor.value_list == ((1, "Open"), (2, "Close"))
    assert read(e, "c/pos", "255") == {2: 100}
    assert read(e, "c/pos", "51") == {2: 20}
    assert read(e, "c/state", "opening") == {4: 2}
    assert sent(e.command(1, 2)) == [("c/set", "CLOSE")]
    assert sent(e.command(3, 20)) == [("c/pos/set", {"position": 51})]
    assert e.echo == {3}
    with pytest.raises(CommandUnsupported):
        e.command(1, 0)  # no stop payload


# ------------------------------------------------------------------ configs
def test_unknown_components_and_bad_options() -> None:
    with pytest.raises(UnknownComponent):
        entity("siren", {"cmd_t": "x"})
    problems: list[Any] = []
    e = entity("light", {"cmd_t": "l", "bri_scl": "lots", "frobnicate": 1, "stat_t": 7}, problems=problems)
    assert e.scale == 255  # type: ignore[attr-defined]
    assert sorted(r for r, _ in problems) == ["bad-value", "bad-value", "unknown-key"]
    assert e.props[0].access == ("read", "write", "notify") and e.echo == {1}


def test_a_template_that_cannot_be_evaluated_keeps_the_entity() -> None:
    e = entity("sensor", {"stat_t": "s", "val_tpl": "{% if value %}1{% endif %}", "unit_of_meas": "W"})
    assert "value_template" in e.unsupported
    spec = derive("ha-x", [e]).spec
    assert spec.service(2) is not None
    assert dict(spec.service(2).extra)["hass-unsupported"]["value_template"].startswith("statements")  # type: ignore[union-attr]


# ------------------------------------------------------------------ devices
def _sensor(uid: str, device: dict[str, Any] | None = None, **more: Any) -> Entity:
    config = {"stat_t": "s", "uniq_id": uid, "unit_of_meas": "W", **more}
    if device is not None:
        config["dev"] = device
    return entity("sensor", config, oid=uid)


def test_entities_are_grouped_by_device_identifier() -> None:
    a = _sensor("a", {"ids": ["zigbee2mqtt_0x01", "other"], "name": "Plug"})
    b = _sensor("b", {"ids": "zigbee2mqtt_0x01"})
    c = _sensor("c", {"cns": [["mac", "aa:bb:cc"]]})
    d = _sensor("d")
    assert device_key(a) == device_key(b) == "zigbee2mqtt_0x01"
    assert device_key(c) == "mac:aa:bb:cc"
    assert device_key(d) == "entity:d"
    assert did_for("zigbee2mqtt_0x01") == "ha-zigbee2mqtt_0x01"
    assert did_for("entity:d") == "ha-d"
    assert did_for("Living room/bulb #1") == "ha-Living-room-bulb-1"
    long = did_for("x" * 200)
    assert len(long) <= 64 and long != did_for("x" * 199)


def test_siids_follow_unique_ids_whatever_the_arrival_order() -> None:
    dev = {"ids": "d1", "name": "Meter", "mf": "Acme", "sw": "1.2", "sa": "Garage"}
    entities = [_sensor(uid, dev) for uid in ("c-power", "a-energy", "b-voltage")]
    one = derive("ha-d1", entities)
    two = derive("ha-d1", list(reversed(entities)))
    assert one.spec == two.spec
    assert {siid: e.unique_id for siid, e in one.services.items()} == {
        2: "a-energy",
        3: "b-voltage",
        4: "c-power",
    }
    assert (one.name, one.room) == ("Meter", "Garage")
    assert one.info == [(1, 1, "Acme"), (1, 4, "1.2")]


def test_siids_stay_when_entities_come_and_go() -> None:
    dev = {"ids": "d1"}
    first = derive("ha-d1", [_sensor("m", dev), _sensor("z", dev)])
    assert {e.unique_id: s for s, e in first.services.items()} == {"m": 2, "z": 3}
    # "a" sorts first but must not push the others along
    second = derive("ha-d1", [_sensor("a", dev), _sensor("m", dev), _sensor("z", dev)], first.spec)
    assert {e.unique_id: s for s, e in second.services.items()} == {"m": 2, "z": 3, "a": 4}
    third = derive("ha-d1", [_sensor("a", dev), _sensor("z", dev), _sensor("b", dev)], second.spec)
    assert {e.unique_id: s for s, e in third.services.items()} == {"z": 3, "a": 4, "b": 5}


def test_a_derived_spec_is_adopted_and_its_states_accepted() -> None:
    dev = {"ids": "bulb", "name": "Bulb", "mdl": "E27"}
    light = entity(
        "light",
        {"schema": "json", "cmd_t": "b/set", "stat_t": "b", "brightness": True, "uniq_id": "l", "dev": dev},
    )
    derived = derive("ha-bulb", [light])
    assert derived.spec.type.startswith("urn:miot-spec-v2:device:light:")
    kernel = Kernel()
    kernel.adopt("ha-bulb", model=derived.model, name=derived.name, spec=derived.spec, transport="hass")
    values = read(light, "b", {"state": "ON", "brightness": 127})
    changed, errors = kernel.report_many("ha-bulb", [(2, piid, v) for piid, v in values.items()])
    assert (changed, errors) == (2, [])
    assert kernel.state.get("ha-bulb", 2, 2)[0] == 50  # type: ignore[index]
