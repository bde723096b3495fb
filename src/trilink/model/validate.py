"""The one validation function: every value that enters or leaves the hub passes here.

:func:`validate_value` checks a value against a :class:`PropertySpec` (format, range,
step, value-list and, for writes, access) and returns it normalised (an integral float
sent for an integer property becomes an ``int``). Hot paths call :func:`checker_for`
once per property and reuse the returned checker: the same rules, compiled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from trilink.model.errors import InvalidValue
from trilink.model.spec import INTEGER_BOUNDS, ActionSpec, DeviceSpec, PropertySpec

#: A compiled check: returns the normalised value or raises ``_Broken(rule, detail)``.
Checker = Callable[[Any], Any]

_HEX = frozenset("0123456789abcdefABCDEF")


class _Broken(Exception):
    __slots__ = ("detail", "rule")

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        self.detail = detail


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _range_check(prop: PropertySpec) -> Callable[[float], None] | None:
    vr = prop.value_range
    if vr is None:
        return None
    lo, hi, step = vr.min, vr.max, vr.step
    allowed = f"{_fmt_num(lo)}..{_fmt_num(hi)}" + (f" step {_fmt_num(step)}" if step else "")
    unit = f" {prop.unit}" if prop.unit and prop.unit != "none" else ""

    def check(v: float) -> None:
        if v < lo or v > hi:
            raise _Broken("range", f"{v!r} is out of range (allowed {allowed}{unit})")
        if step:
            n = (v - lo) / step
            if abs(n - round(n)) > 1e-6:
                raise _Broken("step", f"{v!r} is not on a step of {_fmt_num(step)} from {_fmt_num(lo)}")

    return check


def _list_check(prop: PropertySpec) -> Callable[[Any], None] | None:
    if prop.value_list is None:
        return None
    values = frozenset(c.value for c in prop.value_list)
    shown = ", ".join(f"{c.value} ({c.description})" for c in prop.value_list)

    def check(v: Any) -> None:
        if v not in values:
            raise _Broken("value-list", f"{v!r} is not one of the allowed values: {shown}")

    return check


def _compile(prop: PropertySpec) -> Checker:
    fmt = prop.format
    in_range = _range_check(prop)
    in_list = _list_check(prop)

    if fmt == "bool":

        def check_bool(v: Any) -> Any:
            if v is True or v is False:
                return v
            raise _Broken("format", f"expected bool (true/false), got {type(v).__name__} {v!r}")

        return check_bool

    if fmt in INTEGER_BOUNDS:
        lo, hi = INTEGER_BOUNDS[fmt]

        def check_int(v: Any) -> Any:
            t = type(v)
            if t is not int:
                if t is float and v.is_integer():
                    v = int(v)
                else:
                    raise _Broken("format", f"expected {fmt} (a whole number), got {t.__name__} {v!r}")
            if v < lo or v > hi:
                raise _Broken("format", f"{v} does not fit {fmt} ({lo}..{hi})")
            if in_range is not None:
                in_range(v)
            if in_list is not None:
                in_list(v)
            return v

        return check_int

    if fmt == "float":

        def check_float(v: Any) -> Any:
            t = type(v)
            if t is not float and t is not int:
                raise _Broken("format", f"expected float (a number), got {t.__name__} {v!r}")
            if t is float and not math.isfinite(v):
                raise _Broken("format", f"expected a finite number, got {v!r}")
            if in_range is not None:
                in_range(v)
            if in_list is not None:
                in_list(v)
            return v

        return check_float

    def check_text(v: Any) -> Any:
        if type(v) is not str:
            raise _Broken("format", f"expected {fmt} (text), got {type(v).__name__} {v!r}")
        if fmt == "hex" and not all(c in _HEX for c in v):
            raise _Broken("format", f"expected hex digits, got {v!r}")
        if in_list is not None:
            in_list(v)
        return v

    return check_text


_CACHE: dict[int, tuple[PropertySpec, Checker]] = {}


def checker_for(prop: PropertySpec) -> Checker:
    """The compiled value check of a property (cached), for hot paths.

    The checker raises an internal exception; use :func:`run_checker` to turn it into an
    :class:`InvalidValue` naming the device.
    """
    hit = _CACHE.get(id(prop))
    if hit is not None and hit[0] is prop:
        return hit[1]
    checker = _compile(prop)
    _CACHE[id(prop)] = (prop, checker)
    return checker


def run_checker(did: str, prop: PropertySpec, checker: Checker, value: Any) -> Any:
    """Apply a compiled checker, raising :class:`InvalidValue` for ``did`` on failure."""
    try:
        return checker(value)
    except _Broken as broken:
        raise InvalidValue(did, prop.siid, prop.iid, broken.rule, broken.detail, value=value) from None


def validate_value(did: str, prop: PropertySpec, value: Any, *, write: bool = False) -> Any:
    """Check ``value`` for property ``prop`` of device ``did`` and return it normalised.

    With ``write=True`` the property must also be writable. Raises :class:`InvalidValue`
    naming the device, siid/piid and the rule that was broken.
    """
    if write and not prop.writable:
        raise InvalidValue(
            did,
            prop.siid,
            prop.iid,
            "access",
            f"{prop.name} is read-only (access: {', '.join(prop.access) or 'none'})",
            value=value,
        )
    return run_checker(did, prop, checker_for(prop), value)


def validate_write(did: str, spec: DeviceSpec, siid: int, piid: int, value: Any) -> Any:
    """Check a write of ``value`` to ``(siid, piid)`` of a device with this spec."""
    prop = spec.properties.get((siid, piid))
    if prop is None:
        raise InvalidValue(did, siid, piid, "unknown-property", "the device has no such property")
    return validate_value(did, prop, value, write=True)


def validate_action(
    did: str, spec: DeviceSpec, siid: int, aiid: int, args: Sequence[Any]
) -> tuple[ActionSpec, list[Any]]:
    """Check the input arguments of an action call, in the order of the action's ``in``.

    Returns the action and its normalised arguments.
    """
    action = spec.actions.get((siid, aiid))
    if action is None:
        raise InvalidValue(did, siid, aiid, "unknown-action", "the device has no such action", kind="aiid")
    if len(args) != len(action.ins):
        raise InvalidValue(
            did,
            siid,
            aiid,
            "arguments",
            f"{action.name} takes {len(action.ins)} argument(s) (piids {list(action.ins)}), got {len(args)}",
            kind="aiid",
        )
    out = []
    for piid, arg in zip(action.ins, args, strict=True):
        prop = spec.properties.get((siid, piid))
        if prop is None:
            raise InvalidValue(did, siid, piid, "unknown-property", "action argument has no property spec")
        out.append(run_checker(did, prop, checker_for(prop), arg))
    return action, out
