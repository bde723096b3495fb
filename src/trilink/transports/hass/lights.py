"""The ``light`` component: the default schema (a topic per feature) and the ``json`` schema.

Both become a MIoT ``light`` service with the same piids, so a light reads the same
whatever schema its firmware uses:

====  =================  ========  ==========================================
piid  property           format    from
====  =================  ========  ==========================================
1     on                 bool      state / ``state`` key; ``payload_on``/``off``
2     brightness         uint8     0–100 %, scaled from ``brightness_scale``
3     color-temperature  uint32    kelvin (mireds converted unless ``color_temp_kelvin``)
4     color              uint32    0xRRGGBB (from rgb, hs or xy)
====  =================  ========  ==========================================

Brightness is exposed as a percentage, as in trilink's own light spec, whatever the
device's native scale (``brightness_scale``, 255 by default; Zigbee2MQTT uses 254).
"""

from __future__ import annotations

import colorsys
from typing import Any, Final

import orjson

from trilink.transports.hass.entity import (
    CommandUnsupported,
    Entity,
    Options,
    Publish,
    StateMessage,
    Values,
    no_value,
    render_command,
    to_number,
)
from trilink.transports.hass.template import Template, text

ON, BRIGHTNESS, COLOR_TEMP, COLOR = 1, 2, 3, 4
_BRIGHTNESS_MODES: Final = frozenset(
    {"brightness", "color_temp", "hs", "xy", "rgb", "rgbw", "rgbww", "white"}
)
_COLOR_MODES: Final = ("rgb", "rgbw", "rgbww", "hs", "xy")


def rgb_int(r: float, g: float, b: float) -> int:
    """0xRRGGBB from channels (clamped to 0..255)."""
    r, g, b = (max(0, min(255, round(c))) for c in (r, g, b))
    return (r << 16) | (g << 8) | b


def rgb_parts(value: int) -> tuple[int, int, int]:
    """The channels of 0xRRGGBB."""
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def hs_to_rgb(h: float, s: float) -> int:
    """Hue (0–360) and saturation (0–100) at full value, as 0xRRGGBB."""
    r, g, b = colorsys.hsv_to_rgb((h % 360) / 360, max(0.0, min(1.0, s / 100)), 1.0)
    return rgb_int(r * 255, g * 255, b * 255)


def rgb_to_hs(value: int) -> tuple[float, float]:
    """0xRRGGBB as hue (0–360) and saturation (0–100)."""
    r, g, b = rgb_parts(value)
    h, s, _ = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
    return round(h * 360, 2), round(s * 100, 2)


def _linear(c: float) -> float:
    return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def rgb_to_xy(value: int) -> tuple[float, float]:
    """0xRRGGBB as CIE 1931 xy (the wide-gamut conversion Hue and Zigbee lights use)."""
    r, g, b = (_linear(c / 255) for c in rgb_parts(value))
    x = r * 0.664511 + g * 0.154324 + b * 0.162028
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    if total == 0:
        return 0.3127, 0.329  # black has no chromaticity: D65 white
    return round(x / total, 4), round(y / total, 4)


def xy_to_rgb(x: float, y: float) -> int:
    """CIE 1931 xy at full brightness as 0xRRGGBB."""
    if y <= 0:
        return 0xFFFFFF
    big_x, big_z = x / y, (1 - x - y) / y
    r = big_x * 1.656492 - 0.354851 - big_z * 0.255038
    g = -big_x * 0.707196 + 1.655397 + big_z * 0.036152
    b = big_x * 0.051713 - 0.121364 + big_z * 1.011530
    top = max(r, g, b, 1e-9)
    r, g, b = (_gamma(max(0.0, c / top)) * 255 for c in (r, g, b))
    return rgb_int(r, g, b)


class _LightBase(Entity):
    component = "light"
    service = "light"

    def _ranges(self, opts: Options) -> None:
        scale = opts.number("brightness_scale", 255)
        self.scale = scale if scale >= 1 else 255
        self.kelvin = opts.flag("color_temp_kelvin", False)
        lo, hi = opts.number("min_kelvin", 2000), opts.number("max_kelvin", 6535)
        if not self.kelvin and ("max_mireds" in opts.config or "min_mireds" in opts.config):
            max_mireds = opts.number("max_mireds", 500)
            min_mireds = opts.number("min_mireds", 153)
            if min_mireds > 0 and max_mireds > 0:
                lo, hi = 1e6 / max_mireds, 1e6 / min_mireds
        lo, hi = round(min(lo, hi)), round(max(lo, hi))
        self.kelvin_range = (max(1, lo), max(1, hi))

    def _add(self, piid: int, state: bool, command: bool) -> None:
        if piid == ON:
            self.add_prop(ON, "on", "bool", state=state, command=command, description="Switch status")
        elif piid == BRIGHTNESS:
            self.add_prop(
                piid,
                "brightness",
                "uint8",
                state=state,
                command=command,
                description="Brightness",
                unit="percentage",
                value_range=(0, 100, 1),
            )
        elif piid == COLOR_TEMP:
            lo, hi = self.kelvin_range
            self.add_prop(
                piid,
                "color-temperature",
                "uint32",
                state=state,
                command=command,
                description="Color temperature",
                unit="kelvin",
                value_range=(lo, hi, 1),
            )
        else:
            self.add_prop(
                piid,
                "color",
                "uint32",
                state=state,
                command=command,
                description="Color",
                unit="rgb",
                value_range=(0, 0xFFFFFF, 1),
            )

    def percent(self, native: Any) -> int:
        """A native brightness as 0–100 %."""
        return max(0, min(100, round(float(to_number(native)) * 100 / self.scale)))

    def native(self, percent: Any) -> int:
        """0–100 % as the device's brightness (at least 1 when not 0)."""
        value = round(float(percent) * self.scale / 100)
        return max(1, value) if percent > 0 else 0

    def kelvin_of(self, native: Any) -> int:
        """A reported colour temperature in kelvin, kept within the light's range."""
        number = float(to_number(native))
        k = number if self.kelvin else (1e6 / number if number > 0 else self.kelvin_range[1])
        return max(self.kelvin_range[0], min(self.kelvin_range[1], round(k)))

    def temp_native(self, kelvin: Any) -> int:
        """Kelvin as the device wants it (mireds unless ``color_temp_kelvin``)."""
        return int(kelvin) if self.kelvin else round(1e6 / float(kelvin))


class Light(_LightBase):
    """A light of the default schema: one topic (and template) per feature."""

    def setup(self, opts: Options) -> None:
        self._ranges(opts)
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        self.payload_on = opts.payload("payload_on", "ON") or "ON"
        self.payload_off = opts.payload("payload_off", "OFF") or "OFF"
        self.on_command_type = opts.text("on_command_type", "last")
        state = opts.topic("state_topic")
        self._add(ON, state is not None, True)
        self.on(state, self.reader(ON, opts.template("state_value_template"), self._on_value))
        self.topics: dict[int, str | None] = {ON: cmd}
        self.templates: dict[int, Template | None] = {}
        for piid, prefix, value in (
            (BRIGHTNESS, "brightness", self.percent),
            (COLOR_TEMP, "color_temp", self.kelvin_of),
            (COLOR, "rgb", self._rgb_value),
        ):
            command = opts.topic(f"{prefix}_command_topic")
            state_topic = opts.topic(f"{prefix}_state_topic")
            self._add(piid, state_topic is not None, command is not None)
            self.on(state_topic, self.reader(piid, opts.template(f"{prefix}_value_template"), value))
            self.topics[piid] = command
            self.templates[piid] = opts.template(f"{prefix}_command_template")

    def _on_value(self, value: Any) -> bool | None:
        word = text(value)
        return True if word == self.payload_on else False if word == self.payload_off else None

    @staticmethod
    def _rgb_value(value: Any) -> int:
        parts = [float(p) for p in text(value).split(",")]
        if len(parts) != 3:
            raise ValueError(f"expected r,g,b, got {value!r}")
        return rgb_int(*parts)

    def command(self, piid: int, value: Any) -> list[Publish]:
        """Publications for a write: payload_on/off, or the feature's own command topic."""
        if piid == ON:
            if value and self.on_command_type == "brightness" and self.topics[BRIGHTNESS]:
                return [self.publish(str(self.topics[BRIGHTNESS]), self.native(100))]
            return [self.publish(self.cmd, self.payload_on if value else self.payload_off)]
        topic = self.topics.get(piid)
        if topic is None:
            raise CommandUnsupported(f"this light has no command topic for piid {piid}")
        template = self.templates.get(piid)
        if piid == BRIGHTNESS:
            return [self.publish(topic, render_command(template, self.native(value)))]
        if piid == COLOR_TEMP:
            return [self.publish(topic, render_command(template, self.temp_native(value)))]
        r, g, b = rgb_parts(int(value))
        payload = render_command(template, f"{r},{g},{b}", red=r, green=g, blue=b)
        return [self.publish(topic, payload)]


class JsonLight(_LightBase):
    """A light of the ``json`` schema (Zigbee2MQTT's): one JSON state and command."""

    def setup(self, opts: Options) -> None:
        self._ranges(opts)
        cmd = opts.topic("command_topic", required=True)
        assert cmd is not None
        self.cmd = cmd
        modes = opts.strings("supported_color_modes")
        self.color_modes = [m for m in modes if m in _COLOR_MODES] or [
            m for m in ("rgb", "hs", "xy") if opts.flag(m, False)
        ]
        brightness = opts.flag("brightness", False) or bool(_BRIGHTNESS_MODES.intersection(modes))
        color_temp = "color_temp" in modes or opts.flag("color_temp", False)
        state = opts.topic("state_topic")
        has_state = state is not None
        self._add(ON, has_state, True)
        if brightness:
            self._add(BRIGHTNESS, has_state, True)
        if color_temp:
            self._add(COLOR_TEMP, has_state, True)
        if self.color_modes:
            self._add(COLOR, has_state, True)
        self.features = {p.piid for p in self.props}
        self.on(state, self._read)

    def _read(self, message: StateMessage) -> Values:
        state = message.json
        if not isinstance(state, dict):
            raise ValueError("a json-schema light state must be a JSON object")
        out: Values = []
        word = state.get("state")
        if word in ("ON", "OFF"):
            out.append((ON, word == "ON"))
        if BRIGHTNESS in self.features and not no_value(state.get("brightness")):
            out.append((BRIGHTNESS, self.percent(state["brightness"])))
        if COLOR_TEMP in self.features and not no_value(state.get("color_temp")):
            out.append((COLOR_TEMP, self.kelvin_of(state["color_temp"])))
        color = state.get("color")
        if COLOR in self.features and isinstance(color, dict):
            rgb = self._color_of(color)
            if rgb is not None:
                out.append((COLOR, rgb))
        return out

    @staticmethod
    def _color_of(color: dict[str, Any]) -> int | None:
        if all(isinstance(color.get(c), int | float) for c in "rgb"):
            return rgb_int(color["r"], color["g"], color["b"])
        if isinstance(color.get("x"), int | float) and isinstance(color.get("y"), int | float):
            return xy_to_rgb(color["x"], color["y"])
        if isinstance(color.get("h"), int | float) and isinstance(color.get("s"), int | float):
            return hs_to_rgb(color["h"], color["s"])
        return None

    def command(self, piid: int, value: Any) -> list[Publish]:
        """One JSON command, as Home Assistant's json-schema light sends it."""
        body: dict[str, Any]
        if piid == ON:
            body = {"state": "ON" if value else "OFF"}
        elif piid == BRIGHTNESS:
            body = {"state": "ON", "brightness": self.native(value)}
        elif piid == COLOR_TEMP:
            body = {"state": "ON", "color_temp": self.temp_native(value)}
        elif piid == COLOR:
            mode = self.color_modes[0]
            if mode == "hs":
                h, s = rgb_to_hs(int(value))
                color: dict[str, Any] = {"h": h, "s": s}
            elif mode == "xy":
                x, y = rgb_to_xy(int(value))
                color = {"x": x, "y": y}
            else:
                r, g, b = rgb_parts(int(value))
                color = {"r": r, "g": g, "b": b}
            body = {"state": "ON", "color": color}
        else:
            raise CommandUnsupported(f"a json light has no piid {piid}")
        return [self.publish(self.cmd, orjson.dumps(body))]
