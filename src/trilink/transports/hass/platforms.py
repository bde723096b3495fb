"""The simple components: switch, sensor, binary_sensor, lock, button, number, select, fan.

Each becomes one MIoT service; the table in ``docs/hass.md`` lists its properties and
actions. Choices (``options``, ``preset_modes``) become ``uint8`` value-lists whose
values are the positions in the config's list and whose descriptions are the words
Home Assistant uses, as MIoT value-lists do.
"""

from __future__ import annotations

import math
from typing import Any

from trilink.transports.hass.entity import (
    ActionDef,
    CommandUnsupported,
    Entity,
    EntityInvalid,
    Options,
    Publish,
    render_command,
    to_number,
)
from trilink.transports.hass.template import Template, text
from trilink.transports.hass.vocab import HA_TO_MIOT_UNIT, NUMERIC_CLASSES, SENSOR_CLASSES, slug


def choices(options: list[str]) -> tuple[tuple[int, str], ...]:
    """A value-list over ``options``: ``(position, word)``."""
    return tuple(enumerate(options))


def choice_format(options: list[str]) -> str:
    """The integer format of a value-list over ``options``."""
    return "uint8" if len(options) <= 256 else "uint16"


def choice_of(options: list[str], value: Any) -> int:
    """The position of a reported word in ``options``; :class:`ValueError` if it is not one."""
    word = text(value)
    try:
        return options.index(word)
    except ValueError:
        raise ValueError(f"{word!r:.40} is not one of {options}") from None


def bool_of(on: str, off: str) -> Any:
    """A converter from a rendered state to ``True``/``False`` (``None`` for other words)."""

    def convert(value: Any) -> bool | None:
        word = text(value)
        return True if word == on else False if word == off else None

    return convert


class Switch(Entity):
    """``switch``: ``on`` (piid 1)."""

    component = "switch"
    service = "switch"

    def setup(self, opts: Options) -> None:
        self.cmd = opts.topic("command_topic")
        state = opts.topic("state_topic")
        if self.cmd is None and state is None:
            raise EntityInvalid("missing-topic", f"switch {self.config.discovery_id!r} has no topics")
        self.payload_on = opts.payload("payload_on", "ON") or "ON"
        self.payload_off = opts.payload("payload_off", "OFF") or "OFF"
        state_on = opts.payload("state_on", self.payload_on) or self.payload_on
        state_off = opts.payload("state_off", self.payload_off) or self.payload_off
        self.template = opts.template("command_template")
        self.add_prop(
            1, "on", "bool", state=state is not None, command=self.cmd is not None, description="Switch"
        )
        self.on(state, self.reader(1, opts.template("value_template"), bool_of(state_on, state_off)))

    def command(self, piid: int, value: Any) -> list[Publish]:
        """``payload_on``/``payload_off`` to the command topic."""
        if piid != 1 or self.cmd is None:
            raise CommandUnsupported("this switch cannot be switched")
        return [
            self.publish(
                self.cmd, render_command(self.template, self.payload_on if value else self.payload_off)
            )
        ]


class Sensor(Entity):
    """``sensor``: one read-only value, typed by ``device_class``, unit and ``state_class``."""

    component = "sensor"
    service = "sensor"

    def setup(self, opts: Options) -> None:
        state = opts.topic("state_topic", required=True)
        device_class = opts.text("device_class")
        unit = opts.text("unit_of_measurement")
        template = opts.template("value_template")
        name = slug(device_class or self.label)
        if device_class == "enum" and opts.config.get("options") is not None:
            options = opts.strings("options")
            self.add_prop(
                1,
                slug(self.label),
                choice_format(options),
                state=True,
                command=False,
                description=self.label,
                value_list=choices(options),
            )
            self.on(state, self.reader(1, template, lambda v: choice_of(options, v)))
            return
        numeric = unit is not None or opts.text("state_class") is not None or device_class in NUMERIC_CLASSES
        if not numeric:
            self.add_prop(1, slug(self.label), "string", state=True, command=False, description=self.label)
            self.on(state, self.reader(1, template, text))
            return
        if device_class in SENSOR_CLASSES:
            self.service_name, name = SENSOR_CLASSES[device_class]
        else:
            name = slug(self.label)
        miot_unit = HA_TO_MIOT_UNIT.get(unit, unit) if unit else None
        self.add_prop(1, name, "float", state=True, command=False, description=self.label, unit=miot_unit)
        self.on(state, self.reader(1, template, to_number))


class BinarySensor(Entity):
    """``binary_sensor``: one read-only bool (``True`` is Home Assistant's "on")."""

    component = "binary_sensor"
    service = "binary-sensor"

    def setup(self, opts: Options) -> None:
        state = opts.topic("state_topic", required=True)
        on = opts.payload("payload_on", "ON") or "ON"
        off = opts.payload("payload_off", "OFF") or "OFF"
        device_class = opts.text("device_class")
        self.add_prop(
            1,
            slug(device_class or self.label),
            "bool",
            state=True,
            command=False,
            description=f"{self.label} (true = on: {device_class or 'detected'})",
        )
        self.on(state, self.reader(1, opts.template("value_template"), bool_of(on, off)))


class Lock(Entity):
    """``lock``: ``lock-state`` (piid 1, true = locked), actions lock (1), unlock (2), open (3)."""

    component = "lock"
    service = "lock"

    def setup(self, opts: Options) -> None:
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        state = opts.topic("state_topic")
        self.template = opts.template("command_template")
        self.payloads = {
            1: opts.payload("payload_lock", "LOCK") or "LOCK",
            2: opts.payload("payload_unlock", "UNLOCK") or "UNLOCK",
        }
        self.add_prop(1, "lock-state", "bool", state=True, command=False, description="Locked")
        self.actions += [ActionDef(1, "lock", "Lock"), ActionDef(2, "unlock", "Unlock")]
        payload_open = opts.payload("payload_open", None)
        if payload_open is not None:
            self.payloads[3] = payload_open
            self.actions.append(ActionDef(3, "open", "Open"))
        locked = opts.payload("state_locked", "LOCKED") or "LOCKED"
        unlocked = opts.payload("state_unlocked", "UNLOCKED") or "UNLOCKED"
        self.on(state, self.reader(1, opts.template("value_template"), bool_of(locked, unlocked)))
        if state is None or self.optimistic:
            self.call_echo = {1: [(1, True)], 2: [(1, False)], 3: [(1, False)]}

    def call(self, aiid: int) -> list[Publish]:
        """The lock, unlock or open payload to the command topic."""
        payload = self.payloads.get(aiid)
        if payload is None:
            raise CommandUnsupported(f"this lock has no action {aiid}")
        return [self.publish(self.cmd, render_command(self.template, payload))]


class Button(Entity):
    """``button``: action ``press`` (aiid 1)."""

    component = "button"
    service = "button"

    def setup(self, opts: Options) -> None:
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        self.payload = opts.payload("payload_press", "PRESS") or "PRESS"
        self.template = opts.template("command_template")
        self.actions.append(ActionDef(1, "press", self.label))

    def call(self, aiid: int) -> list[Publish]:
        """``payload_press`` to the command topic."""
        if aiid != 1:
            raise CommandUnsupported(f"a button has no action {aiid}")
        return [self.publish(self.cmd, render_command(self.template, self.payload))]


class _Valued(Entity):
    """An entity with one writable value (number, select)."""

    def _value_topics(self, opts: Options) -> tuple[str | None, Template | None]:
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        self.template = opts.template("command_template")
        return opts.topic("state_topic"), opts.template("value_template")


class Number(_Valued):
    """``number``: one writable number within ``min``..``max`` on ``step``."""

    component = "number"
    service = "number"

    def setup(self, opts: Options) -> None:
        state, template = self._value_topics(opts)
        lo, hi, step = opts.number("min", 1), opts.number("max", 100), opts.number("step", 1)
        if lo > hi or step <= 0:
            opts._bad("min/max/step", (lo, hi, step), "min <= max and step > 0")
            lo, hi, step = min(lo, hi), max(lo, hi), 1
        whole = all(float(x).is_integer() for x in (lo, hi, step))
        self.whole = whole
        fmt = "int32" if whole and lo >= -(2**31) and hi < 2**31 else "float"
        unit = opts.text("unit_of_measurement")
        vr = (int(lo), int(hi), int(step)) if fmt == "int32" else (lo, hi, step)
        self.add_prop(
            1,
            slug(self.label),
            fmt,
            state=state is not None,
            command=True,
            description=self.label,
            unit=HA_TO_MIOT_UNIT.get(unit, unit) if unit else None,
            value_range=vr,
        )
        self.on(state, self.reader(1, template, to_number))

    def command(self, piid: int, value: Any) -> list[Publish]:
        """The number (through ``command_template``) to the command topic."""
        if piid != 1:
            raise CommandUnsupported(f"a number has no piid {piid}")
        if self.whole and isinstance(value, float) and value.is_integer():
            value = int(value)
        return [self.publish(self.cmd, render_command(self.template, value))]


class Select(_Valued):
    """``select``: one of ``options`` (a value-list)."""

    component = "select"
    service = "select"

    def setup(self, opts: Options) -> None:
        state, template = self._value_topics(opts)
        self.options = opts.strings("options")
        if not self.options:
            raise EntityInvalid("bad-config", f"select {self.config.discovery_id!r} needs options")
        self.add_prop(
            1,
            slug(self.label),
            choice_format(self.options),
            state=state is not None,
            command=True,
            description=self.label,
            value_list=choices(self.options),
        )
        self.on(state, self.reader(1, template, lambda v: choice_of(self.options, v)))

    def command(self, piid: int, value: Any) -> list[Publish]:
        """The chosen option's word to the command topic."""
        if piid != 1:
            raise CommandUnsupported(f"a select has no piid {piid}")
        return [self.publish(self.cmd, render_command(self.template, self.options[int(value)]))]


class Fan(Entity):
    """``fan``: on (1), speed-level 0–100 % (3), horizontal-swing (4), mode from presets (5)."""

    component = "fan"
    service = "fan"

    def setup(self, opts: Options) -> None:
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        self.payload_on = opts.payload("payload_on", "ON") or "ON"
        self.payload_off = opts.payload("payload_off", "OFF") or "OFF"
        state = opts.topic("state_topic")
        self.add_prop(1, "on", "bool", state=state is not None, command=True, description="Switch status")
        convert = bool_of(self.payload_on, self.payload_off)
        self.on(state, self.reader(1, opts.template("state_value_template"), convert))
        self.low = int(opts.number("speed_range_min", 1))
        self.high = max(self.low, int(opts.number("speed_range_max", 100)))
        self.topics: dict[int, tuple[str | None, Template | None]] = {}
        pct_cmd = opts.topic("percentage_command_topic")
        pct_state = opts.topic("percentage_state_topic")
        self.add_prop(
            3,
            "speed-level",
            "uint8",
            state=pct_state is not None,
            command=pct_cmd is not None,
            description="Speed",
            unit="percentage",
            value_range=(0, 100, 1),
        )
        self.on(pct_state, self.reader(3, opts.template("percentage_value_template"), self._percent))
        self.topics[3] = (pct_cmd, opts.template("percentage_command_template"))
        osc_cmd = opts.topic("oscillation_command_topic")
        osc_state = opts.topic("oscillation_state_topic")
        self.osc_on = opts.payload("payload_oscillation_on", "oscillate_on") or "oscillate_on"
        self.osc_off = opts.payload("payload_oscillation_off", "oscillate_off") or "oscillate_off"
        self.add_prop(
            4,
            "horizontal-swing",
            "bool",
            state=osc_state is not None,
            command=osc_cmd is not None,
            description="Oscillation",
        )
        osc = bool_of(self.osc_on, self.osc_off)
        self.on(osc_state, self.reader(4, opts.template("oscillation_value_template"), osc))
        self.topics[4] = (osc_cmd, opts.template("oscillation_command_template"))
        self.presets = opts.strings("preset_modes")
        pr_cmd = opts.topic("preset_mode_command_topic")
        pr_state = opts.topic("preset_mode_state_topic")
        if self.presets:
            self.add_prop(
                5,
                "mode",
                choice_format(self.presets),
                state=pr_state is not None,
                command=pr_cmd is not None,
                description="Preset mode",
                value_list=choices(self.presets),
            )
            preset = self.reader(5, opts.template("preset_mode_value_template"), self._preset)
            self.on(pr_state, preset)
        self.topics[5] = (pr_cmd, opts.template("preset_mode_command_template"))
        self.template = opts.template("command_template")

    def _percent(self, value: Any) -> int | None:
        # Home Assistant's ranged_value_to_percentage over speed_range_min..max
        number = float(to_number(value))
        if number <= 0:
            return 0
        states = self.high - self.low + 1
        return max(0, min(100, int((number - self.low + 1) * 100 // states)))

    def _preset(self, value: Any) -> int:
        return choice_of(self.presets, value)

    def command(self, piid: int, value: Any) -> list[Publish]:
        """On/off, a percentage (scaled to the speed range), oscillation or a preset."""
        if piid == 1:
            payload = self.payload_on if value else self.payload_off
            return [self.publish(self.cmd, render_command(self.template, payload))]
        topic, template = self.topics.get(piid, (None, None))
        if topic is None:
            raise CommandUnsupported(f"this fan has no command topic for piid {piid}")
        if piid == 3:
            states = self.high - self.low + 1
            native = math.ceil(states * int(value) / 100) + self.low - 1 if value else 0
            return [self.publish(topic, render_command(template, native))]
        if piid == 4:
            return [self.publish(topic, render_command(template, self.osc_on if value else self.osc_off))]
        return [self.publish(topic, render_command(template, self.presets[int(value)]))]
