"""The ``climate`` and ``cover`` components.

``climate`` becomes a MIoT ``thermostat`` service: on (1, from ``power_command_topic``),
mode (2), target-temperature (3), temperature (4, the current one), fan-level (5),
swing-mode (6), preset-mode (7), status (8, Home Assistant's ``action``) and
relative-humidity (9). Modes are value-lists of the config's words.

``cover`` becomes a MIoT ``curtain`` service like trilink's own curtain: motor-control
(1: 0 Pause, 1 Open, 2 Close), current-position (2) and target-position (3) in 0–100 %
(scaled from ``position_closed``..``position_open``), and status (4).
"""

from __future__ import annotations

from typing import Any, Final

from trilink.transports.hass.entity import (
    CommandUnsupported,
    Entity,
    Options,
    Publish,
    render_command,
    to_number,
)
from trilink.transports.hass.platforms import choice_format, choice_of, choices
from trilink.transports.hass.template import Template

_MODES: Final = ["auto", "off", "cool", "heat", "dry", "fan_only"]
_FAN_MODES: Final = ["auto", "low", "medium", "high"]
_SWING_MODES: Final = ["on", "off"]
_COVER_STATES: Final = ("closed", "open", "opening", "closing", "stopped")


class Climate(Entity):
    """``climate``: a thermostat or air conditioner."""

    component = "climate"
    service = "thermostat"

    def setup(self, opts: Options) -> None:
        self.default_template = opts.template("value_template")
        self.commands: dict[int, tuple[str, Template | None]] = {}
        self.lists: dict[int, list[str]] = {}
        unit = "fahrenheit" if opts.text("temperature_unit") == "F" else "celsius"
        power = opts.topic("power_command_topic")
        self.payload_on = opts.payload("payload_on", "ON") or "ON"
        self.payload_off = opts.payload("payload_off", "OFF") or "OFF"
        self.add_prop(1, "on", "bool", state=False, command=power is not None, description="Power")
        if power is not None:
            self.commands[1] = (power, None)
        for piid, prefix, name, default in (
            (2, "mode", "mode", _MODES),
            (5, "fan_mode", "fan-level", _FAN_MODES),
            (6, "swing_mode", "swing-mode", _SWING_MODES),
            (7, "preset_mode", "preset-mode", []),
        ):
            words = opts.strings(f"{prefix}s", default)
            if not words:
                continue
            state_template = "preset_mode_value_template" if piid == 7 else f"{prefix}_state_template"
            self._feature(opts, piid, prefix, state_template, name, value_list=choices(words))
            self.lists[piid] = words
        lo, hi = opts.number("min_temp", 7.0), opts.number("max_temp", 35.0)
        step = opts.number("temp_step", 0.0) if "temp_step" in opts.config else 0.0
        self._feature(
            opts,
            3,
            "temperature",
            "temperature_state_template",
            "target-temperature",
            unit=unit,
            value_range=(min(lo, hi), max(lo, hi), max(0.0, step)),
        )
        for piid, topic_key, template_key, name, prop_unit in (
            (4, "current_temperature_topic", "current_temperature_template", "temperature", unit),
            (9, "current_humidity_topic", "current_humidity_template", "relative-humidity", "percentage"),
        ):
            topic = opts.topic(topic_key)
            self.add_prop(piid, name, "float", state=topic is not None, command=False, unit=prop_unit)
            self.on(topic, self.reader(piid, opts.template(template_key) or self.default_template, to_number))
        action = opts.topic("action_topic")
        self.add_prop(8, "status", "string", state=action is not None, command=False, description="Action")
        self.on(action, self.reader(8, opts.template("action_template") or self.default_template, str))

    def _feature(
        self,
        opts: Options,
        piid: int,
        prefix: str,
        state_template: str,
        name: str,
        *,
        unit: str | None = None,
        value_range: tuple[float, float, float] | None = None,
        value_list: tuple[tuple[int, str], ...] | None = None,
    ) -> None:
        command = opts.topic(f"{prefix}_command_topic")
        state = opts.topic(f"{prefix}_state_topic")
        fmt = "float" if value_range is not None else choice_format([w for _, w in value_list or ()])
        self.add_prop(
            piid,
            name,
            fmt,
            state=state is not None,
            command=command is not None,
            unit=unit,
            value_range=value_range,
            value_list=value_list,
        )
        if command is not None:
            self.commands[piid] = (command, opts.template(f"{prefix}_command_template"))
        template = opts.template(state_template) or self.default_template
        if value_list is not None:
            words = [w for _, w in value_list]
            self.on(state, self.reader(piid, template, lambda v: choice_of(words, v)))
        else:
            self.on(state, self.reader(piid, template, to_number))

    def command(self, piid: int, value: Any) -> list[Publish]:
        """The value (a mode's word, a temperature …) to its command topic."""
        found = self.commands.get(piid)
        if found is None:
            raise CommandUnsupported(f"this climate has no command topic for piid {piid}")
        topic, template = found
        if piid == 1:
            return [self.publish(topic, self.payload_on if value else self.payload_off)]
        if piid in self.lists:
            value = self.lists[piid][int(value)]
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        return [self.publish(topic, render_command(template, value))]


class Cover(Entity):
    """``cover``: curtains, blinds, shutters, garage doors."""

    component = "cover"
    service = "curtain"

    def setup(self, opts: Options) -> None:
        self.cmd = opts.topic("command_topic")
        self.motions: dict[int, str] = {}
        for value, key, default in (
            (0, "payload_stop", "STOP"),
            (1, "payload_open", "OPEN"),
            (2, "payload_close", "CLOSE"),
        ):
            payload = opts.payload(key, default)
            if payload is not None:
                self.motions[value] = payload
        if self.cmd is not None and self.motions:
            words = {0: "Pause", 1: "Open", 2: "Close"}
            self.add_prop(
                1,
                "motor-control",
                "uint8",
                state=False,
                command=True,
                description="Motor control",
                value_list=tuple((v, words[v]) for v in sorted(self.motions)),
                echo=False,  # a motion is not a state
            )
        self.open = opts.number("position_open", 100)
        self.closed = opts.number("position_closed", 0)
        if self.open == self.closed:
            opts._bad("position_open", self.open, "different from position_closed")
            self.open, self.closed = 100, 0
        position = opts.topic("position_topic")
        self.add_prop(
            2,
            "current-position",
            "uint8",
            state=position is not None,
            command=False,
            description="Current position",
            unit="percentage",
            value_range=(0, 100, 1),
        )
        self.on(position, self.reader(2, opts.template("position_template"), self._percent))
        self.set_position = opts.topic("set_position_topic")
        self.set_template = opts.template("set_position_template")
        self.add_prop(
            3,
            "target-position",
            "uint8",
            state=False,
            command=self.set_position is not None,
            description="Target position",
            unit="percentage",
            value_range=(0, 100, 1),
        )
        state = opts.topic("state_topic")
        self.words = {
            (opts.payload(f"state_{word}", word) or word): i for i, word in enumerate(_COVER_STATES)
        }
        self.add_prop(
            4,
            "status",
            "uint8",
            state=state is not None,
            command=False,
            description="Status",
            value_list=tuple((i, w.capitalize()) for i, w in enumerate(_COVER_STATES)),
        )
        self.on(state, self.reader(4, opts.template("value_template"), lambda v: self.words.get(str(v))))

    def _percent(self, value: Any) -> int:
        number = float(to_number(value))
        pct = (number - self.closed) * 100 / (self.open - self.closed)
        return max(0, min(100, round(pct)))

    def command(self, piid: int, value: Any) -> list[Publish]:
        """A motion payload to the command topic, or a position to ``set_position_topic``."""
        if piid == 1 and self.cmd is not None and int(value) in self.motions:
            return [self.publish(self.cmd, self.motions[int(value)])]
        if piid == 3 and self.set_position is not None:
            native = self.closed + (self.open - self.closed) * int(value) / 100
            number = int(native) if float(native).is_integer() else native
            payload = render_command(self.set_template, number, position=number)
            return [self.publish(self.set_position, payload)]
        raise CommandUnsupported(f"this cover has no command for piid {piid}")
