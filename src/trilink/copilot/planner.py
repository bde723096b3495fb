"""From an understanding to a plan: resolve targets, pick spec properties, validate values.

The planner is the one place where intents meet devices, whichever engine understood
the request. Every value is checked with the model's validation before it becomes a
step (an explicit value out of range is a problem, not silently clamped; a relative
change is clamped to the range), and :mod:`trilink.copilot.safety` marks the steps that
need a confirmation. It reads live state but sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from trilink.copilot import capabilities as caps
from trilink.copilot.colors import rgb_of
from trilink.copilot.facts import answer_query
from trilink.copilot.intent import Intent, Understanding
from trilink.copilot.plan import Plan, Step
from trilink.copilot.safety import mark_risks
from trilink.copilot.targets import RoomConcept, resolve
from trilink.copilot.vocabulary import NamedDevice, Vocabulary
from trilink.kernel import Kernel
from trilink.model import InvalidValue, PropertySpec, validate_value

#: kinds an intent applies to when the request names none
_DEFAULT_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("set", "temperature"): ("air-conditioner",),
    ("set", "mode"): ("air-conditioner",),
    ("set", "fan_speed"): ("fan", "air-conditioner"),
    ("set", "brightness"): ("light",),
    ("set", "color_temperature"): ("light",),
    ("set", "color"): ("light",),
    ("set", "position"): ("curtain",),
    ("set", "charge_limit"): ("car",),
    ("adjust", "temperature"): ("air-conditioner",),
    ("adjust", "brightness"): ("light",),
    ("adjust", "position"): ("curtain",),
    ("open", ""): ("curtain",),
    ("close", ""): ("curtain",),
    ("lock", ""): ("lock", "car"),
    ("unlock", ""): ("lock", "car"),
    ("start", ""): ("vacuum",),
    ("stop", ""): ("vacuum",),
    ("pause", ""): ("vacuum",),
    ("dock", ""): ("vacuum",),
}

#: value key → (spec property name, unit shown in answers)
_PROPERTY_OF: dict[str, tuple[str, str]] = {
    "brightness": ("brightness", "%"),
    "color_temperature": ("color-temperature", "K"),
    "color": ("color", ""),
    "position": ("target-position", "%"),
    "temperature": ("target-temperature", "°C"),
    "charge_limit": ("charge-limit", "%"),
}


class Planner:
    """Turns an :class:`Understanding` into a :class:`Plan` against one home's live registry."""

    def __init__(
        self,
        kernel: Kernel,
        home_id: str = "home",
        *,
        concept_of: RoomConcept | None = None,
        zones: Callable[[], Mapping[str, tuple[float, float]]] | None = None,
        vocabulary: Callable[[], Vocabulary] | None = None,
    ) -> None:
        self.kernel = kernel
        self.home_id = home_id
        self.concept_of = concept_of
        self.zones = zones or (lambda: {})
        self._vocabulary = vocabulary or (lambda: Vocabulary.from_kernel(kernel, home_id))

    def vocabulary(self) -> Vocabulary:
        """The names of the home as of now."""
        return self._vocabulary()

    def plan(
        self,
        understanding: Understanding,
        *,
        speaker_room: str | None = None,
        person_id: str | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> Plan:
        """Plan every intent of ``understanding``; nothing is sent."""
        vocab = vocabulary or self.vocabulary()
        plan = Plan(understanding.language, understanding, engine=understanding.source)
        for intent in understanding.intents:
            self._plan_intent(plan, intent, vocab, speaker_room, person_id)
        # intents of one need may each switch the same device on: send each command once
        seen: set[tuple[str, str, int, int, str]] = set()
        unique: list[Step] = []
        for step in plan.steps:
            key = (step.kind, step.did, step.siid, step.iid, repr(step.value))
            if key not in seen:
                seen.add(key)
                unique.append(step)
        plan.steps[:] = unique
        mark_risks(plan, self.kernel, every_device=_touches_everything(understanding, vocab))
        return plan

    # ------------------------------------------------------------------ intents
    def _plan_intent(
        self, plan: Plan, intent: Intent, vocab: Vocabulary, room: str | None, person_id: str | None
    ) -> None:
        name = intent.name
        if name == "unknown":
            return
        if name == "query":
            answer_query(plan, intent, vocab, self.kernel, self.zones(), room, person_id, self.concept_of)
            return
        if name == "scene":
            self._scene(plan, str(intent.values.get("scene", "")), vocab)
            return
        if name == "automation":
            self._automation(plan, intent, vocab, room, person_id)
            return
        if "color" in intent.values and rgb_of(intent.values["color"]) is None:
            # not a light colour ("black", a word it does not know): said once, not per light
            plan.problems.append(("no_color", str(intent.values["color"])))
            values = {k: v for k, v in intent.values.items() if k != "color"}
            if name == "set" and not values:
                return
            intent = replace(intent, values=values)
        value_key = next(iter(intent.values), "") if name == "set" else next(iter(intent.deltas), "")
        defaults = _DEFAULT_KINDS.get((name, value_key if name in ("set", "adjust") else ""), ())
        if intent.target.feature is not None and not intent.target.kinds:
            defaults = ("car",)
        resolved = resolve(
            intent.target, vocab, speaker_room=room, concept_of=self.concept_of, default_kinds=defaults
        )
        plan.problems.extend(resolved.problems)
        if any(code == "ambiguous" for code, _ in resolved.problems):
            return
        for device in resolved.devices:
            steps = self._steps_for(plan, intent, device)
            plan.steps.extend(steps)

    def _steps_for(self, plan: Plan, intent: Intent, device: NamedDevice) -> list[Step]:
        spec = self.kernel.registry.devices[device.did].spec
        feature = intent.target.feature
        name = intent.name
        explicit = bool(intent.target.names) or device.kind in intent.target.kinds
        broad_skip = device.kind in ("car", "phone", "lock", "curtain", "vacuum") or caps.power(spec) is None
        if not explicit and name in ("turn_on", "turn_off") and broad_skip:
            # "turn off the bedroom" / "everything": what has a power switch, not the lock or the car
            return []
        if device.kind == "curtain" and name in ("turn_on", "turn_off"):
            name = "open" if name == "turn_on" else "close"
        if device.kind == "vacuum" and name in ("turn_on", "turn_off"):
            name = "start" if name == "turn_on" else "stop"
        if device.kind == "lock" and name in ("turn_on", "turn_off"):
            name = "lock" if name == "turn_on" else "unlock"
        if name in ("turn_on", "turn_off"):
            steps = self._power(plan, device, spec, name == "turn_on", feature)
            if name == "turn_on" and intent.values:
                steps += self._set(plan, device, spec, intent.values, feature, power_on=False)
            return steps
        if name == "set":
            return self._set(plan, device, spec, intent.values, feature, power_on=True)
        if name == "adjust":
            return self._adjust(plan, device, spec, intent.deltas, feature)
        if name in ("open", "close"):
            return self._open_close(plan, device, spec, name == "open")
        if name in ("lock", "unlock"):
            return self._call(plan, device, spec, name, (name,))
        if name in ("start", "stop") and (feature == "charging" or device.kind == "car"):
            return self._call(plan, device, spec, f"{name}_charging", (f"{name}-charging",))
        actions = {
            "start": ("start-sweep", "start-clean", "start"),
            "stop": ("stop-sweeping", "stop-clean", "stop"),
            "pause": ("pause-sweeping", "pause"),
            "dock": ("start-charge", "return-to-base", "dock"),
        }.get(name)
        if actions is not None:
            return self._call(plan, device, spec, name, actions)
        plan.problems.append(("unsupported", f"{device.name}|{name}"))
        return []

    # --------------------------------------------------------------- operations
    def _power(self, plan: Plan, device: NamedDevice, spec: Any, on: bool, feature: str | None) -> list[Step]:
        prop = caps.power(spec, feature)
        if prop is None:
            if device.kind == "car" and feature is None:
                prop = caps.power(spec, "climate")
            if prop is None:
                plan.problems.append(("unsupported", f"{device.name}|{'turn_on' if on else 'turn_off'}"))
                return []
        op = "turn_on" if on else "turn_off"
        return self._write(plan, device, prop, on, {"op": op})

    def _set(
        self,
        plan: Plan,
        device: NamedDevice,
        spec: Any,
        values: Mapping[str, Any],
        feature: str | None,
        *,
        power_on: bool,
    ) -> list[Step]:
        steps: list[Step] = []
        service = caps.feature_service(spec, feature)
        if service is None and device.kind == "car" and "temperature" in values:
            service = caps.feature_service(spec, "climate")
        for key, value in values.items():
            prop: PropertySpec | None
            shown: Any = value
            if key == "mode":
                prop = caps.find_property(spec, "mode", service=service, writable=True)
                value = caps.mode_value(prop, str(value)) if prop is not None else None
                if prop is not None and value is None:
                    plan.problems.append(("no_mode", f"{device.name}|{shown}"))
                    continue
            elif key == "fan_speed":
                prop = caps.find_property(spec, "fan-level", writable=True) or caps.find_property(
                    spec, "speed-level", writable=True
                )
                if prop is not None:
                    if isinstance(value, Mapping):
                        value = value.get("level")
                    else:
                        value = caps.level_for_percent(prop, float(value))
            elif key == "color":
                prop = caps.find_property(spec, "color", service=service, writable=True)
                value = rgb_of(value)
            elif key in _PROPERTY_OF:
                prop = caps.find_property(spec, _PROPERTY_OF[key][0], service=service, writable=True)
            else:
                plan.problems.append(("unsupported", f"{device.name}|{key}"))
                continue
            if prop is None:
                plan.problems.append(("unsupported", f"{device.name}|{key}"))
                continue
            unit = _PROPERTY_OF.get(key, ("", ""))[1]
            steps += self._write(
                plan, device, prop, value, {"op": "set", "key": key, "value": shown, "unit": unit}
            )
        if steps and power_on:
            steps = self._power_first(device, spec, service, steps)
        return steps

    def _power_first(
        self, device: NamedDevice, spec: Any, service: str | None, steps: list[Step]
    ) -> list[Step]:
        """Switch a device on before setting its values, if it is off (an AC told 24 °C).

        The switch is the ``on`` of the service being set (the car's climate for its
        cabin temperature); lights, ACs and fans also use their main switch for values
        in other services (an AC's fan level).
        """
        svc_name = service or next((svc.name for svc in spec.services if svc.iid == steps[0].siid), None)
        prop = caps.find_property(spec, "on", service=svc_name, writable=True) if svc_name else None
        if prop is None and device.kind in ("air-conditioner", "light", "fan"):
            prop = caps.power(spec)
        if prop is None or any(s.siid == prop.siid and s.iid == prop.iid for s in steps):
            return steps
        reading = self.kernel.state.get(device.did, prop.siid, prop.iid)
        if reading is not None and reading[0] is True:
            return steps
        on = Step("set", device.did, prop.siid, prop.iid, True, what={"op": "turn_on", "device": device.name})
        return [on, *steps]

    def _adjust(
        self, plan: Plan, device: NamedDevice, spec: Any, deltas: Mapping[str, float], feature: str | None
    ) -> list[Step]:
        service = caps.feature_service(spec, feature)
        values: dict[str, Any] = {}
        for key, delta in deltas.items():
            name = _PROPERTY_OF.get(key, ("", ""))[0]
            prop = caps.find_property(spec, name, service=service, writable=True) if name else None
            if prop is None:
                plan.problems.append(("unsupported", f"{device.name}|{key}"))
                continue
            reading = self.kernel.state.get(device.did, prop.siid, prop.iid)
            base = reading[0] if reading is not None and isinstance(reading[0], int | float) else None
            if base is None or isinstance(base, bool):
                vr = prop.value_range
                base = (vr.min + vr.max) / 2 if vr is not None else 0
            values[key] = caps.fit(prop, float(base) + float(delta))
        return self._set(plan, device, spec, values, feature, power_on=True) if values else []

    def _open_close(self, plan: Plan, device: NamedDevice, spec: Any, opening: bool) -> list[Step]:
        op = "open" if opening else "close"
        prop = caps.find_property(spec, "target-position", writable=True)
        if prop is not None:
            return self._write(plan, device, prop, 100 if opening else 0, {"op": op})
        motor = caps.find_property(spec, "motor-control", writable=True)
        if motor is not None:
            value = caps.mode_value(replace(motor), "open" if opening else "close")
            for choice in motor.value_list or ():
                if choice.description.strip().casefold() in (op, f"{op}ing"):
                    value = choice.value
            if value is not None:
                return self._write(plan, device, motor, value, {"op": op})
        plan.problems.append(("unsupported", f"{device.name}|{op}"))
        return []

    def _call(
        self, plan: Plan, device: NamedDevice, spec: Any, op: str, names: tuple[str, ...]
    ) -> list[Step]:
        action = caps.find_action(spec, names)
        if action is None:
            plan.problems.append(("unsupported", f"{device.name}|{op}"))
            return []
        return [Step("call", device.did, action.siid, action.aiid, what={"op": op, "device": device.name})]

    def _write(
        self, plan: Plan, device: NamedDevice, prop: PropertySpec, value: Any, what: dict[str, Any]
    ) -> list[Step]:
        try:
            checked = validate_value(device.did, prop, value, write=True)
        except InvalidValue as exc:
            plan.problems.append(("invalid", f"{device.name}|{exc.detail}"))
            return []
        return [Step("set", device.did, prop.siid, prop.iid, checked, what={**what, "device": device.name})]

    # -------------------------------------------------------------------- scenes
    def _scene(self, plan: Plan, said: str, vocab: Vocabulary) -> None:
        """Plan a scene's activation: by its id or name, case- and space-insensitively."""
        folded = " ".join(said.casefold().split())
        scene = next(
            (
                s
                for s in vocab.scenes
                if folded and folded in (s.id.casefold(), " ".join(s.name.casefold().split()))
            ),
            None,
        )
        if scene is None:
            plan.problems.append(("no_scene", said))
            return
        if scene.id in plan.scenes:
            return
        plan.scenes.append(scene.id)
        plan.scene_names[scene.id] = scene.name
        devices = self.kernel.registry.devices
        for did, siid, piid, value in scene.states:
            device = devices.get(did)
            if device is not None:
                what = {"op": "set", "scene": scene.name, "device": device.name}
                plan.scene_steps.append(Step("set", did, siid, piid, value, what=what))

    # --------------------------------------------------------------- automations
    def _automation(
        self, plan: Plan, intent: Intent, vocab: Vocabulary, room: str | None, person_id: str | None
    ) -> None:
        definition = dict(intent.values.get("definition") or {})
        inner = Plan(plan.language, plan.understanding)
        for then in intent.values.get("then", ()):
            if isinstance(then, Intent):
                self._plan_intent(inner, then, vocab, room, person_id)
        plan.problems.extend(inner.problems)
        if not inner.steps:
            plan.problems.append(("no_actions", ""))
            return
        actions: list[dict[str, Any]] = []
        for step in inner.steps:
            if step.kind == "set":
                actions.append(
                    {"set": {"device": step.did, "property": f"{step.siid}.{step.iid}", "value": step.value}}
                )
            else:
                actions.append({"call": {"device": step.did, "action": f"{step.siid}.{step.iid}"}})
        definition["actions"] = actions
        plan.automation = definition
        plan.automation_steps.extend(inner.steps)


def _touches_everything(understanding: Understanding, vocab: Vocabulary) -> bool:
    """Whether a request is about every device at once ("turn everything off")."""
    return any(
        i.target.everything and not i.target.kinds and not i.target.rooms and not i.target.floors
        for i in understanding.intents
        if i.name not in ("query", "automation", "unknown")
    )
