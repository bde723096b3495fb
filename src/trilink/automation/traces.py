"""Traces: what happened in a run — and why an automation did not run.

A trace is plain JSON-ready data, stored through the :class:`AutomationStore`:

- ``kind``: ``run`` (actions ran) or ``not-run`` (a condition was false, or the run mode
  dropped the trigger);
- ``run_id``, ``automation_id``, ``started`` / ``ended`` (clock time);
- ``trigger``: its ``type``, a ``description`` and the ``values`` it carried;
- ``conditions``: each with its ``result``, the ``values`` it saw and, when false, why;
- ``actions``: each with its ``path`` in the action tree, ``started``, ``ended``,
  ``result`` (``ok`` or ``error``), ``error`` and ``details``;
- ``outcome``: ``finished``, ``stopped: <reason>``, ``failed: <error>``, ``cancelled by
  restart``, … and, for a non-run, ``message``: the sentence ``why`` prints.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from trilink.automation.conditions import ConditionResult

#: How many traces the store keeps per automation.
TRACES_KEPT = 50

#: Turns a clock time into local time text for sentences.
TimeText = Callable[[float], str]


class TraceBuilder:
    """Collects one run's trace as it happens; resumable from its own ``to_dict()``."""

    def __init__(self, run_id: str, automation_id: str, trigger: dict[str, Any], started: float) -> None:
        self.data: dict[str, Any] = {
            "kind": "run",
            "run_id": run_id,
            "automation_id": automation_id,
            "started": started,
            "ended": None,
            "trigger": trigger,
            "conditions": [],
            "actions": [],
            "outcome": None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TraceBuilder:
        """Continue a trace saved with a pending run."""
        builder = cls.__new__(cls)
        builder.data = copy.deepcopy(data)
        return builder

    def to_dict(self) -> dict[str, Any]:
        """A copy of the trace so far."""
        return copy.deepcopy(self.data)

    def conditions(self, results: Sequence[ConditionResult]) -> None:
        """Record the automation's condition results."""
        self.data["conditions"] = [_numbered(i, r) for i, r in enumerate(results)]

    def action_started(
        self, path: Sequence[str | int], kind: str, description: str, ts: float
    ) -> dict[str, Any]:
        """Open an action's entry; the returned dict is filled in by :meth:`action_ended`."""
        entry: dict[str, Any] = {
            "path": list(path),
            "type": kind,
            "description": description,
            "started": ts,
            "ended": None,
            "result": None,
        }
        self.data["actions"].append(entry)
        return entry

    def open_action(self, path: Sequence[str | int]) -> dict[str, Any] | None:
        """The entry of an action at ``path`` that has not ended (a resumed delay or wait)."""
        for entry in reversed(self.data["actions"]):
            if entry["path"] == list(path) and entry["ended"] is None:
                return entry  # type: ignore[no-any-return]
        return None

    @staticmethod
    def action_ended(
        entry: dict[str, Any], ts: float, error: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        """Close an action's entry with its result."""
        entry["ended"] = ts
        entry["result"] = "ok" if error is None else "error"
        if error is not None:
            entry["error"] = error
        if details:
            entry.setdefault("details", {}).update(details)

    def note(self, text: str) -> None:
        """Add a remark (e.g. "resumed after a restart")."""
        self.data.setdefault("notes", []).append(text)

    def finish(self, outcome: str, ts: float) -> dict[str, Any]:
        """Close the trace with its outcome and return it."""
        self.data["outcome"] = outcome
        self.data["ended"] = ts
        return self.to_dict()


def _numbered(index: int, result: ConditionResult) -> dict[str, Any]:
    return {"index": index + 1, **result.to_dict()}


def not_run_for_condition(
    run_id: str,
    automation_id: str,
    trigger: dict[str, Any],
    results: Sequence[ConditionResult],
    ts: float,
    time_text: TimeText,
) -> dict[str, Any]:
    """The trace of a trigger whose conditions were false (the last result is the false one)."""
    failed = results[-1]
    number = len(results)
    reason = f"condition {number} ({failed.description}) was false"
    if failed.reason:
        reason += f": {failed.reason}"
    return {
        "kind": "not-run",
        "run_id": run_id,
        "automation_id": automation_id,
        "started": ts,
        "ended": ts,
        "trigger": trigger,
        "conditions": [_numbered(i, r) for i, r in enumerate(results)],
        "actions": [],
        "outcome": "not run: condition false",
        "reason": reason,
        "failed_condition": {"index": number, **failed.to_dict()},
        "message": f"did not run at {time_text(ts)}: {reason}",
    }


def not_run_for_mode(
    run_id: str,
    automation_id: str,
    trigger: dict[str, Any],
    results: Sequence[ConditionResult],
    reason: str,
    ts: float,
    time_text: TimeText,
) -> dict[str, Any]:
    """The trace of a trigger the run mode dropped (``reason``: "skipped: already running …")."""
    return {
        "kind": "not-run",
        "run_id": run_id,
        "automation_id": automation_id,
        "started": ts,
        "ended": ts,
        "trigger": trigger,
        "conditions": [_numbered(i, r) for i, r in enumerate(results)],
        "actions": [],
        "outcome": reason,
        "reason": reason,
        "message": f"did not run at {time_text(ts)}: {reason}",
    }


def why_not(trace: dict[str, Any]) -> dict[str, Any]:
    """The answer to "why did it not run?" from a not-run trace: a sentence and the facts."""
    out: dict[str, Any] = {
        "automation_id": trace["automation_id"],
        "run_id": trace["run_id"],
        "at": trace["started"],
        "message": trace["message"],
        "reason": trace["reason"],
        "trigger": trace["trigger"],
    }
    failed = trace.get("failed_condition")
    if failed is not None:
        out["condition"] = failed
    return out
