"""Blueprints: automations with blanks, filled in with a few inputs to make a real automation.

A blueprint file has two sections::

    blueprint:
      id: door-check-night
      name: Lock the door at night
      description: …
      inputs:
        lock: {description: The door lock, default: lock-front}
        time: {description: When to check, default: "23:00"}
    automation:
      triggers:
        - {type: time, at: !input time}
      …

``automation`` is an automation in the usual format without an ``id`` (it is given when the
blueprint is used); ``!input NAME`` stands anywhere a value can go and is replaced by the
input's value, of whatever type it is. An input without ``default`` must be given.
:func:`instantiate` returns a plain automation definition, checked afterwards like any other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from trilink.automation.errors import DefinitionError
from trilink.automation.yamlsrc import InputRef, Located, Path, load_yaml, path_text

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_SECTIONS = ("blueprint", "automation")
_META_FIELDS = ("id", "name", "description", "inputs")
_INPUT_FIELDS = ("description", "default")


@dataclass(frozen=True, slots=True)
class BlueprintInput:
    """One blank of a blueprint; ``required`` when it has no default."""

    name: str
    description: str = ""
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class Blueprint:
    """A parsed blueprint: its metadata, inputs and the automation body with :class:`InputRef` blanks."""

    id: str
    name: str
    description: str
    inputs: dict[str, BlueprintInput]
    body: Any
    source: str = ""


def load_blueprint(text: str, source: str) -> Blueprint:
    """Parse a blueprint file; :class:`DefinitionError` with the line for anything wrong in it."""
    located = load_yaml(text, source)
    doc = located.data
    if not isinstance(doc, dict):
        raise _fail(located, (), "a blueprint file has two sections, blueprint and automation")
    for key in doc:
        if key not in _SECTIONS:
            raise _fail(
                located, (str(key),), "unknown section; a blueprint file has blueprint and automation"
            )
    for section in _SECTIONS:
        if section not in doc:
            raise _fail(located, (), f"the {section} section is missing")
    meta = doc["blueprint"]
    if not isinstance(meta, dict):
        raise _fail(located, ("blueprint",), "must be a mapping with id, name, description and inputs")
    _no_inputs_in(located, meta, ("blueprint",))
    for key in meta:
        if key not in _META_FIELDS:
            raise _fail(
                located, ("blueprint", str(key)), f"unknown field; allowed: {', '.join(_META_FIELDS)}"
            )
    blueprint_id = meta.get("id")
    if not isinstance(blueprint_id, str) or not _SLUG.match(blueprint_id):
        raise _fail(
            located, ("blueprint", "id"), "an id of lower-case letters, digits, '-' and '_' is required"
        )
    name = _text(located, meta, ("blueprint", "name"), required=True)
    description = _text(located, meta, ("blueprint", "description"), required=False)
    inputs = _inputs(located, meta.get("inputs"))
    body = doc["automation"]
    if not isinstance(body, dict):
        raise _fail(located, ("automation",), "must be a mapping: an automation without its id")
    if "id" in body:
        raise _fail(
            located, ("automation", "id"), "a blueprint's automation has no id: it is given when used"
        )
    used: set[str] = set()
    for ref, path in _refs(body, ("automation",)):
        if ref.name not in inputs:
            declared = ", ".join(inputs) or "none"
            raise _fail(
                located, path, f"!input {ref.name} is not declared in blueprint.inputs (declared: {declared})"
            )
        used.add(ref.name)
    for input_name in inputs:
        if input_name not in used:
            raise _fail(located, ("blueprint", "inputs", input_name), "input is declared but never used")
    return Blueprint(blueprint_id, name, description, inputs, body, source)


def instantiate(
    blueprint: Blueprint,
    automation_id: str,
    inputs: Mapping[str, Any],
    name: str | None = None,
    *,
    source: str = "api",
) -> dict[str, Any]:
    """A plain automation definition from ``blueprint``: id ``automation_id``, every ``!input`` filled.

    ``inputs`` override the defaults; ``name`` overrides the automation's name (else the
    body's ``name``, else the blueprint's). ``source`` names where the inputs came from,
    for errors: an unknown input, a missing required one.
    """
    if not isinstance(automation_id, str) or not automation_id:
        raise DefinitionError(source, None, "id", "an automation made from a blueprint needs an id")
    for key in inputs:
        if key not in blueprint.inputs:
            allowed = ", ".join(blueprint.inputs) or "none"
            raise DefinitionError(
                source,
                None,
                path_text(("inputs", key)),
                f"{blueprint.id} has no such input (inputs: {allowed})",
            )
        for _, path in _refs(inputs[key], ("inputs", key)):
            raise DefinitionError(source, None, path_text(path), "an input's value cannot be another !input")
    values: dict[str, Any] = {}
    for spec in blueprint.inputs.values():
        if spec.name in inputs:
            values[spec.name] = inputs[spec.name]
        elif spec.required:
            what = f" ({spec.description})" if spec.description else ""
            raise DefinitionError(
                source, None, path_text(("inputs", spec.name)), f"{blueprint.id} needs this input{what}"
            )
        else:
            values[spec.name] = spec.default
    body = _fill(blueprint.body, values)
    assert isinstance(body, dict)
    body_name = body.pop("name", None)
    title = name if name is not None else body_name if body_name is not None else blueprint.name
    return {"id": automation_id, "name": title, **body}


def builtin_blueprints() -> dict[str, Blueprint]:
    """The blueprints shipped with trilink, by id (``src/trilink/automation/blueprints/*.yaml``)."""
    folder = resources.files("trilink").joinpath("automation", "blueprints")
    found: dict[str, Blueprint] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            blueprint = load_blueprint(entry.read_text(encoding="utf-8"), f"blueprints/{entry.name}")
            found[blueprint.id] = blueprint
    return found


def _inputs(located: Located, data: Any) -> dict[str, BlueprintInput]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(
            located, ("blueprint", "inputs"), "must be a mapping of input names to {description, default}"
        )
    inputs: dict[str, BlueprintInput] = {}
    for input_name, spec in data.items():
        path: Path = ("blueprint", "inputs", str(input_name))
        if not isinstance(input_name, str) or not _INPUT_NAME.match(input_name):
            raise _fail(
                located, path, "an input name is letters, digits, '-' and '_', starting with a letter"
            )
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise _fail(located, path, "must be a mapping with description and (optionally) default")
        for key in spec:
            if key not in _INPUT_FIELDS:
                raise _fail(located, (*path, str(key)), f"unknown field; allowed: {', '.join(_INPUT_FIELDS)}")
        description = _text(located, spec, (*path, "description"), required=False)
        inputs[input_name] = BlueprintInput(
            input_name, description, spec.get("default"), required="default" not in spec
        )
    return inputs


def _text(located: Located, data: dict[Any, Any], path: Path, *, required: bool) -> str:
    value = data.get(path[-1])
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(located, path, "text is required" if value is None else f"{value!r} is not text")
    return value.strip()


def _no_inputs_in(located: Located, data: Any, where: Path) -> None:
    for ref, path in _refs(data, where):
        raise _fail(located, path, f"!input {ref.name} can only be used in the automation section")


def _refs(data: Any, path: Path) -> Iterator[tuple[InputRef, Path]]:
    """Every :class:`InputRef` in ``data`` with its path."""
    if isinstance(data, InputRef):
        yield data, path
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _refs(value, (*path, key if isinstance(key, str | int) else str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _refs(value, (*path, i))


def _fill(data: Any, values: Mapping[str, Any]) -> Any:
    """A copy of ``data`` with each :class:`InputRef` replaced by (a copy of) its value."""
    if isinstance(data, InputRef):
        return copy.deepcopy(values[data.name])
    if isinstance(data, dict):
        return {key: _fill(value, values) for key, value in data.items()}
    if isinstance(data, list):
        return [_fill(value, values) for value in data]
    return data


def _fail(located: Located, path: Path, reason: str) -> DefinitionError:
    return DefinitionError(located.source, located.line_of(path), path_text(path), reason)
