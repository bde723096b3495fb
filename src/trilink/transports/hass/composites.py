"""The composite entities of discovery out: one Home Assistant entity over several properties.

Each function looks at one service and, if it fits, adds one component to the
:class:`~trilink.transports.hass.announce.Builder` and marks the properties it took,
so they get no entity of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from trilink.model import ServiceSpec
from trilink.transports.hass.announce import (
    HVAC_MODES,
    Builder,
    Cmd,
    Readings,
    onoff_template,
    parse_bool,
    parse_choice,
    parse_number,
    parse_rgb,
    setter,
    shown,
    value_template,
)


def light(b: Builder, svc: ServiceSpec) -> None:
    """A ``light`` service with a writable ``on``: one light (default schema, 0–100 % brightness)."""
    on = b.prop(svc, "on", writable=True)
    if svc.name != "light" or on is None or on.format != "bool":
        return
    key = b.field(on)
    body: dict[str, Any] = {
        "command_topic": b.cmd(key, setter(on, parse_bool)),
        "state_topic": b.out.state_topic,
        "state_value_template": onoff_template(key),
    }
    bri = b.prop(svc, "brightness", writable=True)
    if bri is not None and bri.unit == "percentage":
        k = b.field(bri)
        body |= {
            "brightness_command_topic": b.cmd(k, setter(bri, lambda p: round(float(p)))),
            "brightness_state_topic": b.out.state_topic,
            "brightness_value_template": value_template(k),
            "brightness_scale": 100,
        }
    ct = b.prop(svc, "color-temperature", writable=True)
    if ct is not None and ct.value_range is not None:
        k = b.field(ct)
        body |= {
            "color_temp_command_topic": b.cmd(k, setter(ct, lambda p: round(float(p)))),
            "color_temp_state_topic": b.out.state_topic,
            "color_temp_value_template": value_template(k),
            "color_temp_kelvin": True,
            "min_kelvin": int(ct.value_range.min),
            "max_kelvin": int(ct.value_range.max),
        }
    color = b.prop(svc, "color", writable=True)
    if color is not None:
        k = b.field(color)
        body |= {
            "rgb_command_topic": b.cmd(k, setter(color, parse_rgb)),
            "rgb_state_topic": b.out.state_topic,
            "rgb_value_template": (
                f"{{{{ (value_json.{k} // 65536) ~ ',' ~ (value_json.{k} // 256 % 256)"
                f" ~ ',' ~ (value_json.{k} % 256) }}}}"
            ),
        }
    b.add(f"light{svc.iid}", "light", b.main_name(svc), body)


def climate(b: Builder, svc: ServiceSpec) -> None:
    """A service with a writable ``target-temperature``: a climate (on/mode, fan, current temperature)."""
    target = b.prop(svc, "target-temperature", writable=True)
    if target is None or target.value_range is None:
        return
    on = b.prop(svc, "on", writable=True)
    mode = b.prop(svc, "mode", writable=True)
    key = f"climate{svc.iid}"
    words: dict[str, Any] = {}
    for choice in (mode.value_list or ()) if mode is not None else ():
        word = HVAC_MODES.get(choice.description.casefold())
        if word is not None:
            words[word] = choice.value
    modes = (["off"] if on is not None else []) + (list(words) or ["auto"])
    for p in (on, mode):
        if p is not None:
            b.field(p)  # in the state document too, though Home Assistant reads the mode key

    def decode_mode(payload: str) -> list[Cmd]:
        word = payload.strip()
        if word not in modes:
            raise ValueError(f"{word[:40]!r} is not one of {modes}")
        if word == "off":
            assert on is not None
            return [("set", on.siid, on.iid, False)]
        out: list[Cmd] = [] if on is None else [("set", on.siid, on.iid, True)]
        if mode is not None and word in words:
            out.append(("set", mode.siid, mode.iid, words[word]))
        return out

    def current_mode(readings: Readings) -> str | None:
        if on is not None and (reading := readings.get((on.siid, on.iid))) is not None and not reading[0]:
            return "off"
        if mode is None:
            return "auto"
        reading = readings.get((mode.siid, mode.iid))
        choice = shown(mode, reading[0]) if reading is not None else None
        return HVAC_MODES.get(str(choice).casefold(), "auto") if choice is not None else None

    b.out.extras[f"{key}_mode"] = current_mode
    tk = b.field(target)
    vr = target.value_range
    body: dict[str, Any] = {
        "modes": modes,
        "mode_command_topic": b.cmd(f"{key}_mode", decode_mode),
        "mode_state_topic": b.out.state_topic,
        "mode_state_template": value_template(f"{key}_mode"),
        "temperature_command_topic": b.cmd(tk, setter(target, lambda p: parse_number(target, p))),
        "temperature_state_topic": b.out.state_topic,
        "temperature_state_template": value_template(tk),
        "min_temp": vr.min,
        "max_temp": vr.max,
        "temp_step": vr.step or 0.5,
        "temperature_unit": "F" if target.unit == "fahrenheit" else "C",
    }
    current = b.prop(svc, "temperature", writable=False) or b.find(
        ("environment", "temperature-humidity-sensor"), "temperature"
    )
    if current is not None:
        body |= {
            "current_temperature_topic": b.out.state_topic,
            "current_temperature_template": value_template(b.field(current)),
        }
    fan = b.find(("fan-control", svc.name), "fan-level")
    if fan is not None and fan.writable and fan.value_list:
        fk = b.field(fan)
        body |= {
            "fan_modes": [c.description.casefold() for c in fan.value_list],
            "fan_mode_command_topic": b.cmd(fk, setter(fan, lambda p: parse_choice(fan, p))),
            "fan_mode_state_topic": b.out.state_topic,
            "fan_mode_state_template": "{{ value_json.%s | lower }}" % fk,  # noqa: UP031
        }
    b.add(key, "climate", b.main_name(svc), body)


def cover(b: Builder, svc: ServiceSpec) -> None:
    """A ``curtain`` service: a cover (open/close/stop, position, set position)."""
    motor = b.prop(svc, "motor-control", writable=True)
    target = b.prop(svc, "target-position", writable=True)
    if svc.name != "curtain" or (motor is None and target is None):
        return
    body: dict[str, Any] = {"device_class": "curtain"}
    if motor is not None and motor.value_list:
        k = b.field(motor)
        by_word = {c.description.casefold(): c.value for c in motor.value_list}
        payloads = {
            "OPEN": by_word.get("open"),
            "CLOSE": by_word.get("close"),
            "STOP": by_word.get("pause", by_word.get("stop")),
        }

        def decode_motion(payload: str) -> list[Cmd]:
            value = payloads.get(payload.strip().upper())
            if value is None:
                raise ValueError(f"expected one of {[w for w, v in payloads.items() if v is not None]}")
            return [("set", motor.siid, motor.iid, value)]

        body["command_topic"] = b.cmd(k, decode_motion)
        for word, value in payloads.items():
            body[f"payload_{word.lower()}"] = word if value is not None else None
    current = b.prop(svc, "current-position")
    if current is not None and current.readable:
        body |= {"position_topic": b.out.state_topic, "position_template": value_template(b.field(current))}
    if target is not None:
        k = b.field(target)
        body["set_position_topic"] = b.cmd(k, setter(target, lambda p: parse_number(target, p)))
    b.add(f"cover{svc.iid}", "cover", b.main_name(svc), body)


def lock(b: Builder, svc: ServiceSpec) -> None:
    """A service with ``lock`` and ``unlock`` actions: a lock, with its bool state if it has one."""
    actions = {a.name: a for a in svc.actions if not a.ins}
    if "lock" not in actions or "unlock" not in actions:
        return
    key = f"lock{svc.iid}"
    calls = {"LOCK": actions["lock"], "UNLOCK": actions["unlock"]}

    def decode(payload: str) -> list[Cmd]:
        action = calls.get(payload.strip().upper())
        if action is None:
            raise ValueError("expected LOCK or UNLOCK")
        return [("call", action.siid, action.iid, None)]

    body: dict[str, Any] = {
        "command_topic": b.cmd(key, decode),
        "payload_lock": "LOCK",
        "payload_unlock": "UNLOCK",
    }
    state = b.prop(svc, "lock-state") or b.prop(svc, "locked")
    if state is not None and state.format == "bool":
        k = b.field(state)
        body |= {
            "state_topic": b.out.state_topic,
            "value_template": "{{ 'LOCKED' if value_json.%s else 'UNLOCKED' }}" % k,  # noqa: UP031
            "state_locked": "LOCKED",
            "state_unlocked": "UNLOCKED",
        }
    b.used_actions |= {(a.siid, a.iid) for a in calls.values()}
    b.add(key, "lock", b.main_name(svc), body)


def tracker(b: Builder, svc: ServiceSpec) -> None:
    """A service with ``latitude`` and ``longitude``: a GPS ``device_tracker``."""
    lat, lon = b.prop(svc, "latitude"), b.prop(svc, "longitude")
    if lat is None or lon is None:
        return
    accuracy = b.prop(svc, "accuracy")
    b.use(lat, lon, accuracy)
    key = f"tracker{svc.iid}"

    def position(readings: Readings) -> dict[str, Any] | None:
        north, east = readings.get((lat.siid, lat.iid)), readings.get((lon.siid, lon.iid))
        if north is None or east is None:
            return None
        out = {"latitude": north[0], "longitude": east[0]}
        if accuracy is not None and (c := readings.get((accuracy.siid, accuracy.iid))) is not None:
            out["gps_accuracy"] = c[0]
        return out

    b.out.extras[key] = position
    body = {
        "json_attributes_topic": b.out.state_topic,
        "json_attributes_template": "{{ value_json.%s | tojson }}" % key,  # noqa: UP031
        "source_type": "gps",
    }
    b.add(key, "device_tracker", svc.description or "Location", body)


#: every composite, in the order they are tried on each service
COMPOSITES: Final[tuple[Callable[[Builder, ServiceSpec], None], ...]] = (light, climate, cover, lock, tracker)
