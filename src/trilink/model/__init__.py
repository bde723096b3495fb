"""The device model: MIoT-Spec-V2 specs and the one validation function. No I/O."""

from trilink.model.errors import InvalidValue, SpecError
from trilink.model.library import builtin_spec, builtin_specs, load_spec_file
from trilink.model.spec import (
    ActionSpec,
    DeviceSpec,
    EventSpec,
    PropertySpec,
    ServiceSpec,
    Urn,
    ValueChoice,
    ValueRange,
    parse_spec,
)
from trilink.model.validate import (
    checker_for,
    run_checker,
    validate_action,
    validate_value,
    validate_write,
)

__all__ = [
    "ActionSpec",
    "DeviceSpec",
    "EventSpec",
    "InvalidValue",
    "PropertySpec",
    "ServiceSpec",
    "SpecError",
    "Urn",
    "ValueChoice",
    "ValueRange",
    "builtin_spec",
    "builtin_specs",
    "checker_for",
    "load_spec_file",
    "parse_spec",
    "run_checker",
    "validate_action",
    "validate_value",
    "validate_write",
]
