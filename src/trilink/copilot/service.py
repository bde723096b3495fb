"""The copilot: a person says something; the hub does it, asks first, or explains.

``say`` understands the request (the LLM engine when configured and answering in time,
else the offline engine), plans it, and then either sends the commands, returns the plan
unsent (``dry_run``), or holds it for a confirmation when a step is risky or it creates
an automation. ``confirm`` sends a held plan; held plans expire after a few minutes and
belong to the person who asked.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from trilink.copilot.answers import render
from trilink.copilot.intent import Language, Understanding
from trilink.copilot.lang import detect_language
from trilink.copilot.offline import OfflineEngine
from trilink.copilot.plan import Plan, Step
from trilink.copilot.planner import Planner
from trilink.copilot.targets import RoomConcept
from trilink.copilot.vocabulary import NamedScene, Vocabulary
from trilink.kernel import CommandTimeout, Context, DeviceOffline, DeviceRefused, Kernel, NoTransport
from trilink.model import InvalidValue

log = logging.getLogger(__name__)

#: how long a plan waits for its confirmation
CONFIRM_TTL_S = 300.0
#: longest request text accepted
MAX_TEXT = 2000


class LanguageModel(Protocol):
    """What the copilot needs of an LLM engine (see :mod:`trilink.copilot.llm`)."""

    async def understand(
        self, text: str, vocabulary: Vocabulary, language: Language, speaker_room: str | None = None
    ) -> Understanding:
        """Understand ``text`` or raise (any exception means: fall back to the offline engine)."""
        ...


class AutomationSink(Protocol):
    """What the copilot needs of the automation engine."""

    def check_data(self, data: Any, source: str) -> list[Any]:
        """Errors of a definition document, without loading it."""
        ...

    def load_data(self, data: Any, source: str) -> Any:
        """Load and store a definition document."""
        ...

    def zones(self) -> list[dict[str, Any]]:
        """The zones: id, name, latitude, longitude."""
        ...

    def scenes(self) -> list[dict[str, Any]]:
        """The scenes: id, name and states (``device``, ``property`` "siid.piid", ``value``).

        Optional: without it the copilot knows no scenes.
        """
        ...

    async def apply_scene(self, scene_id: str, context: Context) -> list[dict[str, Any]]:
        """Apply a scene now; one result (``ok``, ``error``) per state. Optional, as ``scenes``."""
        ...


class UnknownConfirmation(KeyError):
    """No held plan with this id (never made, expired, already confirmed, or someone else's)."""


@dataclass(slots=True)
class Reply:
    """The copilot's answer to one request or confirmation."""

    text: str
    plan: Plan
    status: str  # "done" | "dry_run" | "needs_confirmation" | "answered" | "not_understood" | "failed"
    confirmation_id: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    automation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's response)."""
        plan = self.plan
        return {
            "status": self.status,
            "text": self.text,
            "language": plan.language,
            "engine": plan.engine,
            "why": plan.understanding.why,
            "intents": [
                {
                    "name": i.name,
                    "target": {
                        "names": list(i.target.names),
                        "rooms": list(i.target.rooms),
                        "floors": list(i.target.floors),
                        "kinds": list(i.target.kinds),
                        "everything": i.target.everything,
                        "feature": i.target.feature,
                    },
                    "values": {k: v for k, v in i.values.items() if k not in ("then", "definition")},
                    "deltas": dict(i.deltas),
                }
                for i in plan.understanding.intents
            ],
            "steps": [_step_dict(s) for s in plan.steps],
            "scenes": [{"id": sid, "name": plan.scene_names.get(sid, sid)} for sid in plan.scenes],
            "facts": [
                {"did": f.did, "device": f.device, "subject": f.subject, "value": f.value, "unit": f.unit}
                for f in plan.facts
            ],
            "automation": plan.automation,
            "problems": [{"code": c, "detail": d} for c, d in plan.problems],
            "risks": plan.risks,
            "needs_confirmation": self.status == "needs_confirmation",
            "confirmation_id": self.confirmation_id,
            "results": self.results,
            "automation_id": self.automation_id,
        }


def _step_dict(step: Step) -> dict[str, Any]:
    return {
        "kind": step.kind,
        "did": step.did,
        "siid": step.siid,
        "iid": step.iid,
        "value": step.value,
        "args": list(step.args),
        "what": step.what,
        "risk": step.risk,
    }


@dataclass(slots=True)
class _Held:
    plan: Plan
    person_id: str | None
    owner: str | None
    expires: float


class Copilot:
    """Understands, plans, confirms and sends requests for one home."""

    def __init__(
        self,
        kernel: Kernel,
        *,
        home_id: str = "home",
        automations: AutomationSink | None = None,
        llm: LanguageModel | None = None,
        offline: OfflineEngine | None = None,
        concept_of: RoomConcept | None = None,
        llm_timeout_s: float = 10.0,
    ) -> None:
        self.kernel = kernel
        self.home_id = home_id
        self.automations = automations
        self.llm = llm
        self.llm_timeout_s = llm_timeout_s
        self.offline = offline or OfflineEngine()
        if concept_of is None:
            from trilink.copilot.lexicon import room_concept

            concept_of = room_concept
        self.planner = Planner(
            kernel, home_id, concept_of=concept_of, zones=self._zones, vocabulary=self.vocabulary
        )
        self._held: dict[str, _Held] = {}
        self.stats = {"requests": 0, "llm": 0, "llm_fallbacks": 0, "confirmed": 0, "sent": 0, "failed": 0}

    def _zones(self) -> Mapping[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        if self.automations is not None:
            for zone in self.automations.zones():
                for key in (zone.get("id"), zone.get("name")):
                    if key:
                        out[str(key)] = (float(zone["latitude"]), float(zone["longitude"]))
        return out

    def _scenes(self) -> tuple[NamedScene, ...]:
        scenes = getattr(self.automations, "scenes", None)
        if scenes is None:
            return ()
        out: list[NamedScene] = []
        for scene in scenes():
            states: list[tuple[str, int, int, Any]] = []
            for state in scene.get("states") or ():
                siid, _, piid = str(state.get("property", "")).partition(".")
                if siid.isdigit() and piid.isdigit():
                    states.append((str(state.get("device", "")), int(siid), int(piid), state.get("value")))
            out.append(NamedScene(str(scene["id"]), str(scene.get("name") or scene["id"]), tuple(states)))
        return tuple(out)

    def vocabulary(self) -> Vocabulary:
        """The home's names as of now (scenes and zones included)."""
        return Vocabulary.from_kernel(
            self.kernel, self.home_id, scenes=self._scenes(), zones=tuple(self._zones())
        )

    # --------------------------------------------------------------- requests
    async def understand(
        self, text: str, *, room: str | None = None, vocabulary: Vocabulary | None = None
    ) -> Understanding:
        """Understand ``text``: the LLM when configured and answering in time, else offline."""
        vocab = vocabulary or self.vocabulary()
        language = detect_language(text)
        if self.llm is not None:
            try:
                understanding = await asyncio.wait_for(
                    self.llm.understand(text, vocab, language, room), self.llm_timeout_s
                )
                self.stats["llm"] += 1
                return understanding
            except Exception as exc:  # any failure of the model: fall back, and say so in the log
                self.stats["llm_fallbacks"] += 1
                log.warning("the language model did not answer usefully (%s); using the offline engine", exc)
        return self.offline.understand(text, vocab, language)

    async def say(
        self,
        text: str,
        *,
        person_id: str | None = None,
        room: str | None = None,
        dry_run: bool = False,
        owner: str | None = None,
        actor: Callable[[], Context] | None = None,
    ) -> Reply:
        """Handle one request. Raises ``ValueError`` for empty or over-long text or an unknown room.

        ``person_id`` is who speaks (for "me"), ``room`` where (for "here"); ``owner`` is
        who may confirm a held plan (an API token id); ``actor`` makes the commands' context.
        """
        text = text.strip()
        if not text:
            raise ValueError("say something: the text is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"the text is too long ({len(text)} characters; at most {MAX_TEXT})")
        if room is not None and room not in self.kernel.registry.rooms:
            raise ValueError(f"unknown room {room!r}")
        self.stats["requests"] += 1
        vocab = self.vocabulary()
        understanding = await self.understand(text, room=room, vocabulary=vocab)
        plan = self.planner.plan(understanding, speaker_room=room, person_id=person_id, vocabulary=vocab)
        self._check_automation(plan)
        if not understanding.understood:
            return Reply(render(plan, mode="done"), plan, "not_understood")
        if not plan.steps and not plan.scenes and plan.automation is None:
            status = "answered" if plan.facts else "failed"
            return Reply(render(plan, mode="done"), plan, status)
        if dry_run:
            return Reply(render(plan, mode="would"), plan, "dry_run")
        if plan.needs_confirmation:
            self._expire()
            cid = secrets.token_urlsafe(12)
            self._held[cid] = _Held(plan, person_id, owner, self.kernel.clock.now() + CONFIRM_TTL_S)
            return Reply(render(plan, mode="confirm"), plan, "needs_confirmation", confirmation_id=cid)
        return await self._carry_out(plan, person_id, actor)

    async def confirm(
        self, confirmation_id: str, *, owner: str | None = None, actor: Callable[[], Context] | None = None
    ) -> Reply:
        """Send a held plan. Raises :class:`UnknownConfirmation` (also for someone else's plan)."""
        self._expire()
        held = self._held.get(confirmation_id)
        if held is None or held.owner != owner:
            raise UnknownConfirmation(confirmation_id)
        del self._held[confirmation_id]
        self.stats["confirmed"] += 1
        return await self._carry_out(held.plan, held.person_id, actor)

    def cancel(self, confirmation_id: str, *, owner: str | None = None) -> bool:
        """Drop a held plan; whether there was one."""
        held = self._held.get(confirmation_id)
        if held is None or held.owner != owner:
            return False
        del self._held[confirmation_id]
        return True

    def pending(self) -> int:
        """How many plans wait for a confirmation."""
        self._expire()
        return len(self._held)

    # ---------------------------------------------------------------- internals
    def _expire(self) -> None:
        now = self.kernel.clock.now()
        for cid in [c for c, h in self._held.items() if h.expires <= now]:
            del self._held[cid]

    def _check_automation(self, plan: Plan) -> None:
        """Validate an automation in words now, so the person confirms something that loads."""
        if plan.automation is None:
            return
        if self.automations is None:
            plan.problems.append(("no_actions", ""))
            plan.automation = None
            return
        definition = plan.automation
        definition.setdefault("id", "copilot-" + secrets.token_hex(4))
        definition.setdefault("name", str(plan.understanding.text)[:80] or definition["id"])
        errors = self.automations.check_data({"automations": [definition]}, "copilot")
        if errors:
            plan.problems.extend(("invalid", f"automation|{e}") for e in errors)
            plan.automation = None

    async def _carry_out(
        self, plan: Plan, person_id: str | None, actor: Callable[[], Context] | None
    ) -> Reply:
        context = actor() if actor is not None else Context.new("copilot", person_id or "copilot")
        results: list[dict[str, Any]] = []
        pairs: list[tuple[Step, str | None]] = []
        for step in plan.steps:
            error = await self._send(step, context)
            pairs.append((step, error))
            results.append({**_step_dict(step), "ok": error is None, "error": error})
            self.stats["sent" if error is None else "failed"] += 1
        scene_results: list[tuple[str, str | None]] = []
        for scene_id in plan.scenes:
            error, states = await self._apply_scene(scene_id, context)
            scene_results.append((scene_id, error))
            results.append(
                {"kind": "scene", "scene": scene_id, "ok": error is None, "error": error, "states": states}
            )
            self.stats["sent" if error is None else "failed"] += 1
        automation_id = None
        if plan.automation is not None and self.automations is not None:
            report = self.automations.load_data({"automations": [plan.automation]}, "copilot")
            errors = list(getattr(report, "errors", []))
            if errors:
                plan.problems.extend(("invalid", f"automation|{e}") for e in errors)
            else:
                automation_id = str(plan.automation["id"])
        text = render(plan, mode="done", results=pairs, scene_results=scene_results)
        failed = any(r["error"] for r in results) or (plan.automation is not None and automation_id is None)
        return Reply(text, plan, "failed" if failed else "done", results=results, automation_id=automation_id)

    async def _apply_scene(self, scene_id: str, context: Context) -> tuple[str | None, list[dict[str, Any]]]:
        """Apply a scene through the automation engine: its error (``None`` if every state was
        written) and the result of each state."""
        apply = getattr(self.automations, "apply_scene", None)
        if apply is None:
            return "error: no automation engine to apply scenes", []
        try:
            states: list[dict[str, Any]] = list(await apply(scene_id, context))
        except Exception as exc:  # the scene was removed meanwhile, or the engine failed
            log.warning("copilot: scene %s could not be applied: %s", scene_id, exc)
            return f"error: {exc}", []
        failed = next((s for s in states if not s.get("ok", False)), None)
        if failed is None:
            return None, states
        code = str(failed.get("code") or "")
        if code in ("device-offline", "timeout", "no-transport"):
            return code, states
        return f"refused: {failed.get('error') or code or 'failed'}", states

    async def _send(self, step: Step, context: Context) -> str | None:
        """Send one step; ``None`` if it worked, else what went wrong as ``code`` or ``code: detail``."""
        try:
            if step.kind == "set":
                outcome = await self.kernel.set_property(step.did, step.siid, step.iid, step.value, context)
            else:
                outcome = await self.kernel.call_action(
                    step.did, step.siid, step.iid, list(step.args), context
                )
        except DeviceRefused as exc:
            return f"refused: {exc.device_message or exc.device_code}"
        except (DeviceOffline, CommandTimeout, NoTransport) as exc:
            return exc.code
        except InvalidValue as exc:
            return f"invalid: {exc.detail}"
        except Exception as exc:  # anything else: the person hears it, the log has the trace
            log.exception("copilot step %s failed", step)
            return f"error: {exc}"
        if not outcome.ok:
            return f"refused: {outcome.message or outcome.code}"
        return None
