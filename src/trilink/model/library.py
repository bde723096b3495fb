"""Where specs come from: the built-in specs shipped with trilink, and spec files on disk.

Built-in models use the MIoT namespace where MIoT has a type (light, lock, …) and the
``trilink-spec`` namespace where it has none (the electric car, the phone, the AC's
operating telemetry). Reading these package files is the model layer's only I/O.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from trilink.model.errors import SpecError
from trilink.model.spec import DeviceSpec, parse_spec

#: Built-in model ids, e.g. ``trilink.car.sim1``.
BUILTIN_MODELS: tuple[str, ...] = (
    "trilink.aircondition.sim1",
    "trilink.light.sim1",
    "trilink.lock.sim1",
    "trilink.curtain.sim1",
    "trilink.vacuum.sim1",
    "trilink.plug.sim1",
    "trilink.fan.sim1",
    "trilink.sensor_ht.sim1",
    "trilink.car.sim1",
    "trilink.phone.sim1",
)


@cache
def builtin_spec(model: str) -> DeviceSpec:
    """The built-in spec of ``model``; raises :class:`SpecError` for an unknown model."""
    if model not in BUILTIN_MODELS:
        raise SpecError(f"no built-in spec for model {model!r} (known: {', '.join(BUILTIN_MODELS)})")
    text = resources.files("trilink.model").joinpath("specs", f"{model}.json").read_text("utf-8")
    return parse_spec(json.loads(text))


def builtin_specs() -> dict[str, DeviceSpec]:
    """Every built-in spec by model id."""
    return {model: builtin_spec(model) for model in BUILTIN_MODELS}


def load_spec_file(path: str | Path) -> DeviceSpec:
    """Load a MIoT-Spec-V2 instance from a JSON file; errors name the file."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p}: cannot read spec file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SpecError(f"{p}: not valid JSON: {exc}") from exc
    try:
        return parse_spec(raw)
    except SpecError as exc:
        raise SpecError(f"{p}: {exc}") from exc
