"""Spec loading: every real MIoT spec file loads and round-trips; bad specs are refused clearly."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from trilink.model import SpecError, Urn, builtin_spec, builtin_specs, load_spec_file, parse_spec
from trilink.model.library import BUILTIN_MODELS

SPECS = Path(__file__).resolve().parents[2] / "shared" / "data" / "miot-specs"
SPEC_FILES = sorted(SPECS.glob("*.json"))


def test_real_spec_files_are_present() -> None:
    assert len(SPEC_FILES) == 10, f"expected the 10 real spec files in {SPECS}"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_real_spec_loads_and_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text("utf-8"))
    spec = load_spec_file(path)
    assert spec.to_dict() == raw
    # the indexes agree with the document
    n_props = sum(len(s.get("properties", [])) for s in raw["services"])
    n_actions = sum(len(s.get("actions", [])) for s in raw["services"])
    n_events = sum(len(s.get("events", [])) for s in raw["services"])
    assert (len(spec.properties), len(spec.actions), len(spec.events)) == (n_props, n_actions, n_events)


def test_vacuum_counts_match_the_data_readme() -> None:
    spec = load_spec_file(SPECS / "xiaomi.vacuum.ov42gl.json")
    assert (len(spec.services), len(spec.properties), len(spec.actions), len(spec.events)) == (
        19,
        161,
        89,
        11,
    )


def test_nine_field_urn_and_vendor_namespace() -> None:
    spec = load_spec_file(SPECS / "xiaomi.airp.mb5.json")
    assert spec.urn.namespace == "miot-spec-v2"
    assert len(Urn.parse(spec.type).rest) >= 2
    plug = load_spec_file(SPECS / "xiaomi.plug.04.json")
    assert any(s.type.startswith("urn:xiaomi-spec:") for s in plug.services)


def test_float_range_with_fractional_step() -> None:
    spec = load_spec_file(SPECS / "xiaomi.aircondition.ma2.json")
    prop = spec.properties[(2, 3)]
    assert prop.value_range is not None and prop.value_range.step == 0.5
    assert prop.unit == "celsius" and prop.writable and prop.name == "target-temperature"


@pytest.mark.parametrize("model", BUILTIN_MODELS)
def test_builtin_specs_load_and_round_trip(model: str) -> None:
    spec = builtin_spec(model)
    assert parse_spec(spec.to_dict()) == spec
    assert spec.service(1) is not None and spec.service(1).name == "device-information"  # type: ignore[union-attr]


def test_builtin_car_and_phone_have_what_the_hub_needs() -> None:
    specs = builtin_specs()
    car = specs["trilink.car.sim1"]
    names = {(car.service(p.siid).name, p.name) for p in car.iter_properties()}  # type: ignore[union-attr]
    for needed in [
        ("traction-battery", "state-of-charge"),
        ("traction-battery", "range"),
        ("traction-battery", "state-of-health"),
        ("charging", "charging-state"),
        ("charging", "charging-power"),
        ("charging", "charge-limit"),
        ("location", "latitude"),
        ("location", "speed"),
        ("cabin-climate", "temperature"),
        ("cabin-climate", "on"),
        ("cabin-climate", "target-temperature"),
        ("car-doors", "locked"),
    ]:
        assert needed in names, needed
    phone = specs["trilink.phone.sim1"]
    assert phone.find_property("alarm-clock", "next-alarm") is not None
    assert phone.find_property("do-not-disturb", "on") is not None
    assert phone.find_property("battery", "battery-level") is not None


def _valid() -> dict[str, Any]:
    return copy.deepcopy(builtin_spec("trilink.light.sim1").to_dict())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("services"), "missing field 'services'"),
        (lambda d: d.update(type="not-a-urn"), "not a MIoT URN"),
        (lambda d: d["services"][1]["properties"][0].update(format="int128"), "unknown format 'int128'"),
        (lambda d: d["services"][1]["properties"][0].update(access=["read", "fly"]), "unknown access"),
        (lambda d: d["services"][1]["properties"][1].update({"value-range": [100, 1, 1]}), "min > max"),
        (lambda d: d["services"][1]["properties"][1].update({"value-range": [1, "x", 1]}), "value-range"),
        (
            lambda d: d["services"][1]["properties"].append(d["services"][1]["properties"][0]),
            "duplicate piid",
        ),
        (lambda d: d["services"].append(d["services"][0]), "duplicate siid"),
        (lambda d: d["services"][1].update(iid="2"), "'iid' must be int"),
        (lambda d: d["services"][1]["properties"][0].update(iid=True), "'iid' must be int"),
        (lambda d: d["services"][1].update(properties="none"), "'properties' must be a list"),
        (
            lambda d: d["services"][1]["properties"][1].update({"value-list": [{"description": "x"}]}),
            "no 'value'",
        ),
    ],
)
def test_malformed_specs_are_refused_with_the_place(mutate: Any, message: str) -> None:
    doc = _valid()
    mutate(doc)
    with pytest.raises(SpecError, match=message):
        parse_spec(doc)


@pytest.mark.parametrize("doc", [None, [], "spec", 3, {"type": 1, "services": []}])
def test_non_object_specs_are_refused(doc: Any) -> None:
    with pytest.raises(SpecError):
        parse_spec(doc)


def test_unreadable_spec_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match=r"broken\.json: not valid JSON"):
        load_spec_file(bad)
    with pytest.raises(SpecError, match=r"missing\.json: cannot read"):
        load_spec_file(tmp_path / "missing.json")
    with pytest.raises(SpecError, match="no built-in spec"):
        builtin_spec("acme.toaster.v1")
