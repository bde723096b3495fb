"""Printing for the client commands: aligned tables, values with units, event lines, JSON.

Only the standard library and click: the client commands must start fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import click

#: MIoT unit names and how a person reads them.
UNITS: Final[dict[str, str]] = {
    "celsius": "°C",
    "fahrenheit": "°F",
    "kelvin": "K",
    "percentage": "%",
    "degree": "°",
    "arcdegrees": "°",
    "seconds": "s",
    "minutes": "min",
    "hours": "h",
    "days": "d",
    "lux": "lx",
    "pascal": "Pa",
    "watt": "W",
    "m3/h": "m³/h",
    "mg/m3": "mg/m³",
    "μg/m3": "µg/m³",
    "none": "",
}

# units written straight after the number, as people write them
_TIGHT: Final = frozenset({"%", "°"})


def unit_label(unit: str | None) -> str:
    """How a MIoT unit is shown (``celsius`` → ``°C``); unknown units as they are."""
    if not unit:
        return ""
    return UNITS.get(unit, unit)


def format_value(value: Any, unit: str | None = None) -> str:
    """A value for people: ``24.5 °C``, ``80%``, ``true``, text as it is."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        return value
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    label = unit_label(unit)
    if not label or isinstance(value, bool):
        return text
    return f"{text}{label}" if label in _TIGHT else f"{text} {label}"


def format_time(ts: float | None, *, with_date: bool = True) -> str:
    """Local time of an epoch timestamp."""
    if ts is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S", time.localtime(ts))


def format_duration(seconds: float) -> str:
    """``3h 12m``, ``45s`` — for uptimes."""
    s = int(seconds)
    days, s = divmod(s, 86_400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {s}s"
    return f"{s}s"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under headers, columns aligned, two spaces apart, no trailing blanks."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line([h.upper() for h in headers]), *(line(r) for r in rows)])


def pairs(items: Sequence[tuple[str, str]]) -> str:
    """``key  value`` lines with the values aligned."""
    width = max((len(k) for k, _ in items), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}".rstrip() for k, v in items)


def flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested mappings as dotted ``(key, value)`` pairs, for status counters."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(flatten(value, name + "."))
        else:
            out.append((name, format_value(value)))
    return out


def _cause(event: Mapping[str, Any]) -> str:
    ctx = event.get("context") or {}
    actor, actor_id = ctx.get("actor"), ctx.get("actor_id")
    if not actor or actor == "device":
        return ""
    return f"  (by {actor} {actor_id})" if actor_id else f"  (by {actor})"


def _outcome(event: Mapping[str, Any]) -> str:
    return "ok" if event.get("ok") else f"failed: {event.get('error') or 'unknown error'}"


def event_line(event: Mapping[str, Any]) -> str:
    """One readable line for an event as the API sends it."""
    kind = event.get("kind", "?")
    if kind == "dropped":
        return f"… {event.get('count')} event(s) dropped: this client read too slowly"
    did = event.get("did", "")
    if kind == "property-changed":
        what = f"{did} {event['siid']}.{event['piid']} = {format_value(event.get('value'))}"
        if event.get("old_value") is not None:
            what += f" (was {format_value(event['old_value'])})"
    elif kind == "property-written":
        what = (
            f"{did} {event['siid']}.{event['piid']} ← {format_value(event.get('value'))}: {_outcome(event)}"
        )
    elif kind == "action-invoked":
        args = ", ".join(format_value(a) for a in event.get("arguments") or [])
        what = f"{did} {event['siid']}.{event['aiid']}({args}): {_outcome(event)}"
        if event.get("out"):
            what += f" → {format_value(event['out'])}"
    elif kind == "device-event":
        args = ", ".join(f"{a['piid']}={format_value(a['value'])}" for a in event.get("arguments") or [])
        what = f"{did} event {event['siid']}.{event['eiid']} {args}".rstrip()
    elif kind == "availability":
        what = f"{did} is {'online' if event.get('online') else 'offline'}"
    elif kind == "registry":
        change = "removed" if event.get("removed") else "added or changed"
        what = f"{event.get('entity')} {event.get('id')} {change}"
    else:
        what = json.dumps({k: v for k, v in event.items() if k not in ("kind", "ts")}, ensure_ascii=False)
    stamp = format_time(event.get("ts"), with_date=False) if event.get("ts") is not None else " " * 8
    return f"{stamp}  {kind:<17} {what}{_cause(event)}"


def print_json(data: Any) -> None:
    """Machine output: indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def definition_error_line(error: Mapping[str, Any], source: str | None = None) -> str:
    """A refused definition as ``file:line: path: reason``; ``source`` replaces the hub's name for it."""
    where = source or str(error.get("source") or "?")
    if error.get("line") is not None:
        where += f":{error['line']}"
    path = error.get("path")
    reason = error.get("reason") or error.get("message") or "refused"
    return f"{where}: {path}: {reason}" if path else f"{where}: {reason}"


def _values(values: Any) -> str:
    if not isinstance(values, Mapping) or not values:
        return ""
    return "  (" + ", ".join(f"{k}={format_value(v)}" for k, v in values.items()) + ")"


def _condition_lines(conditions: Sequence[Any], indent: str) -> list[str]:
    lines: list[str] = []
    for number, condition in enumerate(conditions, 1):
        if not isinstance(condition, Mapping):
            continue
        result = condition.get("result")
        verdict = "true" if result is True else "false" if result is False else "not checked"
        label = f"{condition.get('index', number)}"
        line = f"{indent}condition {label}: {condition.get('description', '?')}: {verdict}"
        if condition.get("reason"):
            line += f" — {condition['reason']}"
        lines.append(line + _values(condition.get("values")))
        lines.extend(_condition_lines(condition.get("conditions") or [], indent + "  "))
    return lines


def _action_line(action: Mapping[str, Any]) -> str:
    path = ".".join(str(p) for p in action.get("path") or [])
    what = action.get("description") or action.get("type") or "?"
    result = action.get("result")
    if result == "error":
        outcome = f"error: {action.get('error') or 'unknown error'}"
    elif result is None:
        outcome = "not finished"
    else:
        outcome = str(result)
    return f"  action {path or '?'}: {what}: {outcome}" + _values(action.get("details"))


def trace_lines(trace: Mapping[str, Any]) -> list[str]:
    """A trace for people: when and how it ended, the trigger, each condition and each action."""
    head = f"{format_time(trace.get('started'))}  {trace.get('kind', 'run')}"
    if trace.get("run_id"):
        head += f" {trace['run_id']}"
    head += f": {trace.get('message') or trace.get('outcome') or 'still running'}"
    lines = [head]
    trigger = trace.get("trigger")
    if isinstance(trigger, Mapping):
        what = trigger.get("description") or trigger.get("type") or "?"
        lines.append(f"  trigger: {what}{_values(trigger.get('values'))}")
    lines.extend(_condition_lines(trace.get("conditions") or [], "  "))
    lines.extend(_action_line(a) for a in trace.get("actions") or [] if isinstance(a, Mapping))
    lines.extend(f"  note: {note}" for note in trace.get("notes") or [])
    return lines
