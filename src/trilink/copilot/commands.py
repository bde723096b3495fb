"""Explicit commands: one clause's verbs, targets and values become intents.

A verb means different things to different devices ("打开" a light is ``turn_on``, a
curtain ``open``, a door ``unlock``), so each kind said gets the intent its verb means
for it; kinds that end up with different intents get one intent each. Values are read
by :mod:`trilink.copilot.values`. A clause that says what to do but not to what takes
the target of the clause before it ("打开空调，调到24度"); with no clause before, the
value or verb says the kind ("调到24度" is an AC, "开锁" a door lock).

The car: "preheat", "车里空调", a temperature → its climate (``feature="climate"``);
"charge"/"充电" → its charging (``start``/``stop``, ``feature="charging"``), a percent
with it → ``charge_limit``. The vacuum cleans the whole home: rooms said with it are not
kept ("扫一下客厅" starts the vacuum).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

from trilink.copilot import questions
from trilink.copilot.clauses import Said, anchored, gather, split, to_value
from trilink.copilot.intent import Intent, Target
from trilink.copilot.values import Settings, settings
from trilink.copilot.wording import Mark, Reading

#: the kind a value belongs to when nothing else is said
DEFAULT_KIND: Final = {
    "temperature": "air-conditioner",
    "mode": "air-conditioner",
    "fan_speed": "air-conditioner",
    "brightness": "light",
    "color_temperature": "light",
    "position": "curtain",
    "charge_limit": "car",
}

#: what a verb means for a kind (``None``: any other kind)
_OPS: Final[dict[str, dict[str | None, str]]] = {
    "on": {"curtain": "open", "lock": "unlock", "vacuum": "start", None: "turn_on"},
    "off": {"curtain": "close", "lock": "lock", "vacuum": "stop", None: "turn_off"},
    "open": {"curtain": "open", "lock": "unlock", "car": "unlock", "vacuum": "start", None: "turn_on"},
    "close": {"curtain": "close", "lock": "lock", "car": "lock", "vacuum": "stop", None: "turn_off"},
    "lock": {"lock": "lock", "car": "lock", None: "lock"},
    "unlock": {"lock": "unlock", "car": "unlock", None: "unlock"},
    "start": {"vacuum": "start", "curtain": "open", None: "turn_on"},
    "clean": {"vacuum": "start"},
    "stop": {"vacuum": "stop", "curtain": "stop", None: "turn_off"},
    "pause": {"vacuum": "pause", "curtain": "stop"},
    "dock": {"vacuum": "dock"},
}
#: the kind a verb means when no kind is said
_VERB_KIND: Final = {"lock": "lock", "unlock": "lock", "clean": "vacuum", "dock": "vacuum", "pause": "vacuum"}
#: dock words that also mean "go home" for people: only with a vacuum said
_GENERIC_DOCK: Final = re.compile(r"^(?:回家|回去|go home|戻って|戻して|帰して|帰らせて)$")
_CLEANING: Final = re.compile(r"扫|掃除|clean|vacuum|sweep|hoover")
_CHARGING: Final = re.compile(r"充|charg")
#: room words that also mean the front door
_DOOR_ROOM: Final = re.compile(r"玄関|玄关|门口|entrance|entryway|foyer")


@dataclass(frozen=True, slots=True)
class Carry:
    """A clause's target for the clauses after it, with the kinds its verbs acted on."""

    target: Target
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a clause asked for: its intents and what later clauses may refer to."""

    intents: tuple[Intent, ...]
    carry: Carry | None = None
    timed: bool = False  # it names a delay ("in 10 minutes"): not something to do now


def command(reading: Reading, said: Said, carry: Carry | None) -> Outcome:
    """The intents one clause asks for (an empty outcome when it asks for nothing)."""
    verbs = [v for v in said.verbs if not v.negated]
    if said.verbs and not verbs:
        return Outcome(())  # "别关灯", "don't turn off the light"
    if any(n.quantity is not None and n.quantity.unit in ("minute", "hour") for n in said.numbers):
        return Outcome((), timed=True)
    if said.scenes and (not verbs or verbs[0].value in ("on", "start", "open")):
        return Outcome(tuple(Intent("scene", values={"scene": s}) for s in said.scenes))
    cleaning = any(v.value == "clean" or _CLEANING.search(v.detail or "") for v in verbs)
    main = next((v for v in verbs if v.value.startswith(("up", "down"))), None)  # "开低一点"
    main = main or next((v for v in verbs if v.value != "clean"), None)
    verb = main.value if main is not None else ("clean" if cleaning else None)
    verb_said = (main.detail or "") if main is not None else ""

    said = _rooms_for_names(reading, said)
    said_kinds = list(dict.fromkeys(said.kinds))
    if cleaning and not said_kinds and not said.names:
        said_kinds.append("vacuum")
    kinds = [*said_kinds, *(m.detail for m in said.names if m.detail and m.detail not in said_kinds)]
    attrs = list(said.attrs)
    features = list(dict.fromkeys(said.features))
    if "fan" in kinds and "air-conditioner" in kinds:  # "the AC's fan"
        _drop("fan", kinds, said_kinds)
        attrs.append("fan_speed")
    if "car" in kinds and "air-conditioner" in kinds:  # "车里的空调"
        _drop("air-conditioner", kinds, said_kinds)
        features.append("climate")
    if said.modes and not ({"air-conditioner", "car"} & set(kinds)) and not said.names:
        said_kinds.append("air-conditioner")
        kinds.append("air-conditioner")
    own = said.has_target or bool(said_kinds)
    if not own and carry is not None:
        kinds = list(carry.kinds)
    elif own and carry is not None and not kinds and said.rooms and not said.everything:
        kinds = list(carry.kinds)  # "把卧室空调关掉，客厅的打开": the living room's AC
        said_kinds = [k for k in carry.target.kinds if k in kinds] or list(carry.kinds)
    feature = features[0] if features else None
    said_verb = verb is not None
    if "charging" not in features and any(
        v.value in ("stop", "start", "pause") and _CHARGING.search(v.detail or "") for v in verbs
    ):
        features.append("charging")  # "别充了"
        feature = feature or "charging"
    found = settings(reading, said, verb, kinds, attrs, feature)
    verb = found.verb
    climate = "temperature" in found.values or "temperature" in found.deltas or "mode" in found.values
    if climate and ("car" in kinds or feature is not None):
        feature = feature or "climate"
        found.values.pop("mode", None)

    if own:
        target = said.target(())
    elif carry is not None:
        target = carry.target
    elif said_verb or feature is not None or said.attrs or said.modes or said.colors or said.levels:
        target = Target()
    elif found.any and any(to_value(reading, n) for n in said.numbers):
        target = Target()  # "调到26度", "set it to 50%" (a number alone is not a request)
    else:
        return Outcome(())
    if not kinds and not target.names:
        if verb in ("open", "close", "lock", "unlock") and _DOOR_ROOM.search(" ".join(said.room_words)):
            implied: tuple[str, ...] = ("lock",)  # "玄関を開けて": the front door
        elif verb in ("open", "close") and target.rooms and not found.any:
            implied = ("curtain",)  # "open up the living room": its curtains
        elif verb == "on" and target.rooms and not found.any:
            implied = ("light",)  # "turn on the kitchen": its lights
        else:
            implied = _implied_kinds(verb, verb_said, found, feature)
        if not implied and not own:
            return Outcome(())
        said_kinds += implied
        kinds += implied
    if feature == "charging" and "vacuum" in kinds:
        feature, verb = None, verb if verb in ("stop", "pause") else "dock"  # "扫地机回去充电"
    if feature is not None and "car" not in kinds and not target.names:
        said_kinds.append("car")
        kinds.append("car")
    if own or carry is None:
        target = replace(target, kinds=tuple(dict.fromkeys(said_kinds)))
    if "vacuum" in kinds and target.rooms and not target.names:
        target = replace(target, rooms=())
    intents = _intents(target, kinds, verb, verb_said, found, feature, said)
    if not intents:
        return Outcome(())
    return Outcome(tuple(intents), Carry(replace(target, feature=None), tuple(kinds)))


def _drop(kind: str, *lists: list[str]) -> None:
    for ks in lists:
        while kind in ks:
            ks.remove(kind)


def _rooms_for_names(reading: Reading, said: Said) -> Said:
    """Names said next to other rooms count as their room and kind.

    "turn on the kitchen and living room lights": "living room light" is a device's name,
    but with "kitchen" beside it the request means the lights of both rooms.
    """
    if not said.rooms or not said.names:
        return said
    devices = reading.tables.named
    keep: list[Mark] = []
    for m in said.names:
        device = devices.get(m.value)
        if device is not None and device.room_id and device.kind:
            said.rooms.append(device.room_id)
            said.kinds.append(device.kind)
        else:
            keep.append(m)
    said.names = keep
    return said


def _implied_kinds(verb: str | None, verb_said: str, found: Settings, feature: str | None) -> tuple[str, ...]:
    for key in (*found.values, *found.deltas):
        if key in DEFAULT_KIND:
            return (DEFAULT_KIND[key],)
    if feature is not None:
        return ("car",)
    if verb == "dock" and _GENERIC_DOCK.match(verb_said):
        return ()
    if verb in ("stop", "start", "pause") and _CLEANING.search(verb_said):
        return ("vacuum",)
    if verb in _VERB_KIND:
        return (_VERB_KIND[verb],)
    return ()


def _intents(
    target: Target,
    kinds: list[str],
    verb: str | None,
    verb_said: str,
    found: Settings,
    feature: str | None,
    said: Said,
) -> list[Intent]:
    values, deltas = found.values, found.deltas
    if feature == "charging":
        return _charging(target, verb, values, said)
    if "car" in kinds and verb not in ("lock", "unlock", "open", "close"):
        return _car(target, verb, found, feature)
    if values or deltas:
        if verb in ("off", "stop") and not values:
            return [Intent("turn_off", target)]
        out = []
        if values:
            out.append(Intent("set", target, values=values))
        if deltas:
            out.append(Intent("adjust", target, deltas=deltas))
        return out
    if verb is None or (verb == "dock" and "vacuum" not in kinds and _GENERIC_DOCK.match(verb_said)):
        return []
    return _by_kind(target, kinds, verb, said)


def _charging(target: Target, verb: str | None, values: dict[str, object], said: Said) -> list[Intent]:
    car = replace(target, kinds=tuple(k for k in target.kinds if k != "lock") or ("car",))
    out = []
    if "charge_limit" in values:
        out.append(Intent("set", replace(car, feature=None), values={"charge_limit": values["charge_limit"]}))
    if verb in ("stop", "off", "pause"):
        out.append(Intent("stop", replace(car, feature="charging")))
    elif verb in (None, "start", "on", "clean") and (not out or "charging" in said.features):
        out.append(Intent("start", replace(car, feature="charging")))
    return out


def _car(target: Target, verb: str | None, found: Settings, feature: str | None) -> list[Intent]:
    values, deltas = found.values, found.deltas
    if "charge_limit" in values:
        return [Intent("set", replace(target, feature=None), values={"charge_limit": values["charge_limit"]})]
    if feature != "climate" and not values and not deltas:
        return []  # "开车" is driving: the car's climate needs a word for it
    climate = replace(target, feature="climate")
    if verb in ("off", "stop"):
        return [Intent("turn_off", climate)]
    if deltas and not values and not found.relative:
        return [Intent("adjust", climate, deltas=deltas)]
    return [Intent("turn_on", climate, values={k: v for k, v in values.items() if k == "temperature"})]


def _by_kind(target: Target, kinds: list[str], verb: str, said: Said) -> list[Intent]:
    ops = _OPS.get(verb, {})
    groups: dict[str, list[str | None]] = {}
    each: list[str | None] = list(kinds) or [None]
    for kind in each:
        op = ops.get(kind, ops.get(None))
        if op is not None:
            groups.setdefault(op, []).append(kind)
    if len(groups) <= 1:
        return [Intent(op, target) for op in groups]
    out = []
    for op, group in groups.items():
        names = tuple(m.value for m in said.names if m.detail in group)
        sub = replace(target, kinds=tuple(k for k in target.kinds if k in group), names=names)
        if sub.kinds or sub.names:
            out.append(Intent(op, sub))
    return out


def clause_intents(reading: Reading, start: int = 0, end: int | None = None) -> tuple[list[Intent], bool]:
    """The intents of every clause of ``[start, end)``; and whether one names a delay.

    A clause that names only a target ("客厅、卧室的灯都关掉", "… and living room lights")
    joins the clause after it, or, at the end, the command before it.
    """
    clauses = split(reading, start, end)
    done: list[tuple[tuple[Mark, ...], Carry | None, list[Intent]]] = []  # marks, carried in, intents
    carry: Carry | None = None
    pending: tuple[Mark, ...] = ()
    timed = False
    for i, clause in enumerate(clauses):
        marks = pending + clause.marks
        said = gather(marks)
        asked = questions.understand(reading, clause, said, carry.target if carry else None)
        if asked:
            done.append(((), carry, asked))
            pending = ()
            target = next((a.target for a in reversed(asked) if a.target != Target()), None)
            if target is not None:
                carry = Carry(target, target.kinds)
            continue
        if not said.has_action and not said.numbers and said.has_target:
            if i == len(clauses) - 1 and done and done[-1][0] and done[-1][2]:
                prior, carried, _ = done.pop()
                marks = prior + marks
                result = command(reading, gather(marks), carried)
                done.append((marks, carried, list(result.intents)))
            else:
                pending = marks
            continue
        pending = ()
        if (
            clause.asked
            and not (said.verbs or said.modes or said.levels or said.colors)
            and not any(anchored(reading, n) for n in said.numbers)
        ):
            continue  # a question this engine does not know is not a command ("車の充電は？")
        result = command(reading, said, carry)
        timed = timed or result.timed
        done.append((marks, carry, list(result.intents)))
        if result.carry is not None:
            carry = result.carry
    out: list[Intent] = []
    for _, _, intents in done:
        out.extend(i for i in intents if i not in out)  # "开始扫地": one start
    return out, timed
