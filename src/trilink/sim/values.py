"""From physical values to reportable ones: clamp to the value-range, round to its step.

Physics produces floats such as ``26.043817``; a report must carry ``26.0`` for a
``[-30, 70, 0.1]`` property, and an ``int`` for a ``uint8``. :func:`quantize` does that
from the property's spec, so every report validates by construction.
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache
from typing import Any

from trilink.model import PropertySpec
from trilink.model.spec import INTEGER_BOUNDS


@cache
def _decimals(step: float) -> int:
    exponent = Decimal(repr(step)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 6


def quantize(prop: PropertySpec, value: Any) -> Any:
    """``value`` made valid for ``prop``: typed by format, clamped, on a step, in the value-list."""
    fmt = prop.format
    if fmt == "bool":
        return bool(value)
    if fmt in ("string", "hex"):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        x = 0.0
    if prop.value_list:
        # the nearest allowed value; physics should only produce listed values anyway
        return min((c.value for c in prop.value_list), key=lambda v: abs(float(v) - x))
    vr = prop.value_range
    decimals = 6
    if vr is not None:
        x = min(max(x, vr.min), vr.max)
        if vr.step:
            n = round((x - vr.min) / vr.step)
            if vr.min + n * vr.step > vr.max + 1e-9:
                n -= 1
            decimals = _decimals(vr.step)
            x = vr.min + n * vr.step
    if fmt in INTEGER_BOUNDS:
        lo, hi = INTEGER_BOUNDS[fmt]
        return min(max(round(x), lo), hi)
    return round(x, decimals) + 0.0  # "+ 0.0" turns -0.0 into 0.0
