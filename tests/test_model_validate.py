"""The one validation function, checked by property-based tests over every format."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from trilink.model import InvalidValue, PropertySpec, builtin_spec, parse_spec, validate_value, validate_write
from trilink.model.spec import INTEGER_BOUNDS
from trilink.model.validate import validate_action


def make_prop(
    fmt: str,
    rng: list[float] | None = None,
    values: list[Any] | None = None,
    access: tuple[str, ...] = ("read", "write", "notify"),
) -> PropertySpec:
    prop: dict[str, Any] = {
        "iid": 1,
        "type": "urn:miot-spec-v2:property:x:00000001:test:1",
        "description": "x",
        "format": fmt,
        "access": list(access),
    }
    if rng is not None:
        prop["value-range"] = rng
    if values is not None:
        prop["value-list"] = [{"value": v, "description": str(v)} for v in values]
    doc = {
        "type": "urn:miot-spec-v2:device:x:0000A001:test:1",
        "services": [
            {
                "iid": 2,
                "type": "urn:miot-spec-v2:service:x:00007801:test:1",
                "description": "x",
                "properties": [prop],
            }
        ],
    }
    return parse_spec(doc).properties[(2, 1)]


INT_FORMATS = sorted(INTEGER_BOUNDS)


@given(fmt=st.sampled_from(INT_FORMATS), data=st.data())
def test_integers_inside_the_format_pass_and_outside_fail(fmt: str, data: st.DataObject) -> None:
    lo, hi = INTEGER_BOUNDS[fmt]
    prop = make_prop(fmt)
    inside = data.draw(st.integers(lo, hi))
    assert validate_value("d", prop, inside) == inside
    outside = data.draw(st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)))
    with pytest.raises(InvalidValue) as err:
        validate_value("d", prop, outside)
    assert err.value.rule == "format"


@given(
    fmt=st.sampled_from(INT_FORMATS),
    value=st.one_of(st.text(), st.booleans(), st.none(), st.lists(st.integers())),
)
def test_integers_refuse_other_types(fmt: str, value: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        validate_value("dev1", make_prop(fmt), value)
    assert err.value.rule == "format" and "dev1 siid 2 piid 1" in str(err.value)


@given(value=st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
def test_fractional_float_is_not_an_integer(value: float) -> None:
    with pytest.raises(InvalidValue):
        validate_value("d", make_prop("int32"), value)


@given(value=st.integers(-1000, 1000))
def test_integral_float_becomes_int(value: int) -> None:
    out = validate_value("d", make_prop("int32"), float(value))
    assert out == value and type(out) is int


@given(lo=st.integers(-1000, 1000), span=st.integers(0, 1000), step=st.integers(1, 50), data=st.data())
def test_integer_ranges_and_steps(lo: int, span: int, step: int, data: st.DataObject) -> None:
    hi = lo + span
    prop = make_prop("int32", [lo, hi, step])
    value = data.draw(st.integers(lo - 100, hi + 100))
    ok = lo <= value <= hi and (value - lo) % step == 0
    if ok:
        assert validate_value("d", prop, value) == value
    else:
        with pytest.raises(InvalidValue) as err:
            validate_value("d", prop, value)
        assert err.value.rule == ("range" if not lo <= value <= hi else "step")


@given(k=st.integers(0, 30), off=st.floats(0.01, 0.49))
def test_float_steps_of_one_half(k: int, off: float) -> None:
    prop = make_prop("float", [16, 31, 0.5])
    assert validate_value("d", prop, 16 + 0.5 * k) == 16 + 0.5 * k
    bad = 16 + 0.5 * k + off * 0.5 * 0.99
    assume(bad <= 31)
    with pytest.raises(InvalidValue) as err:
        validate_value("d", prop, bad)
    assert err.value.rule == "step"


@given(value=st.floats())
def test_floats_without_range(value: float) -> None:
    prop = make_prop("float")
    if math.isfinite(value):
        assert validate_value("d", prop, value) == value
    else:
        with pytest.raises(InvalidValue):
            validate_value("d", prop, value)


@given(value=st.one_of(st.booleans(), st.integers(), st.text(), st.none()))
def test_bool_accepts_only_bool(value: Any) -> None:
    prop = make_prop("bool")
    if isinstance(value, bool):
        assert validate_value("d", prop, value) is value
    else:
        with pytest.raises(InvalidValue):
            validate_value("d", prop, value)


@given(text=st.text())
def test_strings_and_hex(text: str) -> None:
    assert validate_value("d", make_prop("string"), text) == text
    is_hex = all(c in "0123456789abcdefABCDEF" for c in text)
    if is_hex:
        assert validate_value("d", make_prop("hex"), text) == text
    else:
        with pytest.raises(InvalidValue):
            validate_value("d", make_prop("hex"), text)
    with pytest.raises(InvalidValue):
        validate_value("d", make_prop("string"), 5)


@given(choices=st.sets(st.integers(0, 20), min_size=1, max_size=6), value=st.integers(0, 20))
def test_value_lists(choices: set[int], value: int) -> None:
    prop = make_prop("uint8", values=sorted(choices))
    if value in choices:
        assert validate_value("d", prop, value) == value
    else:
        with pytest.raises(InvalidValue) as err:
            validate_value("d", prop, value)
        assert err.value.rule == "value-list"


def test_read_only_write_is_refused_but_a_report_is_fine() -> None:
    prop = make_prop("float", access=("read", "notify"))
    assert validate_value("d", prop, 1.5) == 1.5
    with pytest.raises(InvalidValue) as err:
        validate_value("d", prop, 1.5, write=True)
    assert err.value.rule == "access" and "read-only" in str(err.value)


def test_errors_name_device_iids_rule_and_allowed_values() -> None:
    spec = builtin_spec("trilink.aircondition.sim1")
    with pytest.raises(InvalidValue) as err:
        validate_write("ac-living", spec, 2, 3, 40)
    data = err.value.to_dict()
    assert data["did"] == "ac-living" and data["siid"] == 2 and data["piid"] == 3
    assert data["rule"] == "range" and "16..31 step 0.5 celsius" in data["message"]
    with pytest.raises(InvalidValue, match="unknown-property"):
        validate_write("ac-living", spec, 9, 9, 1)


def test_action_arguments() -> None:
    phone = builtin_spec("trilink.phone.sim1")
    action, args = validate_action("p", phone, 6, 1, ["Hi", "Car charged"])
    assert action.name == "notify" and args == ["Hi", "Car charged"]
    with pytest.raises(InvalidValue, match="takes 2 argument"):
        validate_action("p", phone, 6, 1, ["only one"])
    with pytest.raises(InvalidValue) as err:
        validate_action("p", phone, 6, 1, ["Hi", 3])
    assert err.value.rule == "format"
    with pytest.raises(InvalidValue, match="unknown-action"):
        validate_action("p", phone, 6, 9, [])
