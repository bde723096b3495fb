"""A plan: the commands the copilot will send for a request, and what it will say.

A plan is made before anything is sent. It is shown as it is for ``--dry-run``, sent
at once when nothing in it is risky, or held until the person confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from trilink.copilot.intent import Language, Understanding


@dataclass(frozen=True, slots=True)
class Step:
    """One command: set a property (``iid`` = piid) or call an action (``iid`` = aiid).

    ``what`` describes it for answers (``{"op": "turn_on", "device": "Bedroom Light"}``
    and the values set); ``risk`` is why it needs a confirmation (see
    :mod:`trilink.copilot.safety`), ``None`` if it does not.
    """

    kind: Literal["set", "call"]
    did: str
    siid: int
    iid: int
    value: Any = None
    args: tuple[Any, ...] = ()
    what: dict[str, Any] = field(default_factory=dict)
    risk: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing read from live state to answer a question."""

    did: str
    device: str
    subject: str
    value: Any
    unit: str | None = None


@dataclass(slots=True)
class Plan:
    """What the copilot will do for one request, and the reply in the request's language.

    ``steps`` are the commands; ``scenes`` are the ids of scenes to apply (through the
    automation engine, after the steps); ``facts`` answer a question; ``automation`` is
    an automation definition to save once confirmed; ``problems`` say what could not be
    planned (no such device, a value out of range); ``reply`` is the answer in the
    request's language.
    """

    language: Language
    understanding: Understanding
    steps: list[Step] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    automation: dict[str, Any] | None = None
    #: the automation's actions as steps (for the answer; they are not sent now)
    automation_steps: list[Step] = field(default_factory=list)
    #: scene ids to apply, in order
    scenes: list[str] = field(default_factory=list)
    #: scene id → its name (for the answer)
    scene_names: dict[str, str] = field(default_factory=dict)
    #: the scenes' writes as steps (judged for risks like any command; the engine sends them)
    scene_steps: list[Step] = field(default_factory=list)
    #: what could not be planned: ``(code, detail)``, rendered by :mod:`trilink.copilot.answers`
    problems: list[tuple[str, str]] = field(default_factory=list)
    reply: str = ""
    engine: str = "offline"

    @property
    def risks(self) -> list[str]:
        """Why this plan needs a confirmation (empty: it does not)."""
        out = [s.risk for s in (*self.steps, *self.scene_steps) if s.risk is not None]
        if self.automation is not None:
            out.append("new_automation")
        return sorted(set(out))

    @property
    def needs_confirmation(self) -> bool:
        """Whether the person must confirm before anything is sent or saved."""
        return bool(self.risks)
