"""Colloquial and implicit requests in Chinese, English and Japanese, against the rules engine.

The cases live in ``tests/data/copilot_colloquial.yaml``. A target is compared by the
devices it means in the simulated home, so "the bedroom light" said as a name and as
room + kind are the same answer; values and deltas are compared exactly.

:func:`evaluate` and :func:`accuracy` take any ``understand(text, vocabulary, language)``
callable, so another engine (the grammar, a model) can be scored on the same set::

    from test_copilot_colloquial import accuracy
    accuracy(GrammarEngine().understand)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from copilot_world import DEVICES as SIM_DEVICES
from trilink.clock import ManualClock
from trilink.copilot.intent import Intent, Language, Target, Understanding
from trilink.copilot.lang import detect_language
from trilink.copilot.lexicon import room_concept
from trilink.copilot.rules import RulesEngine
from trilink.copilot.vocabulary import Vocabulary
from trilink.kernel import Device, Home, Kernel, Person, Room
from trilink.model import builtin_spec

CASES_FILE = Path(__file__).parent / "data" / "copilot_colloquial.yaml"
DEFAULT_ROOM = "living-room"


Understand = Callable[[str, Vocabulary, Language], Understanding | None]


def make_kernel() -> Kernel:
    """A kernel with the simulated world's home, rooms, people and devices."""
    kernel = Kernel(ManualClock(1_800_000_000.0))
    kernel.add_home(Home("home", "Home", 31.2304, 121.4737, "Asia/Shanghai"))
    for room in ("living-room", "bedroom", "kitchen", "hallway"):
        kernel.add_room(Room(room, "home", room.replace("-", " ").capitalize()))
    kernel.add_person(Person("alex", "home", "Alex", phone_did="phone-alex", car_did="car"))
    kernel.add_person(Person("sam", "home", "Sam"))
    for did, model, room, name in SIM_DEVICES:
        owner = "alex" if did in ("car", "phone-alex") else None
        kernel.add_device(Device(did, name, model, builtin_spec(model), "test", "home", room, owner))
    return kernel


def sim_vocabulary() -> Vocabulary:
    """The names of the simulated home."""
    return Vocabulary.from_kernel(make_kernel())


def load_cases(path: Path = CASES_FILE) -> list[dict[str, Any]]:
    """The cases of the set."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(cases, list)
    return cases


# --------------------------------------------------------------------- comparing
def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("-", " ").replace("_", " ").split())


def devices_meant(target: Target, vocab: Vocabulary, speaker_room: str) -> frozenset[str]:
    """The dids (and ``person:<id>``) a target means in the home, resolved simply and strictly."""
    out: set[str] = set()
    rooms: set[str] | None = None
    if target.rooms:
        rooms = set()
        for said in target.rooms:
            if said == "here":
                rooms.add(speaker_room)
                continue
            concept = room_concept(said)
            for r in vocab.rooms:
                if _fold(said) in {_fold(r.id), _fold(r.name)} or (
                    concept is not None and concept in {room_concept(r.id), room_concept(r.name)}
                ):
                    rooms.add(r.id)
            if not any(r.id in rooms for r in vocab.rooms):
                rooms.add(f"?{said}")
    kinds = set(target.kinds)
    for said in target.names:
        people = [p for p in vocab.people if _fold(p.name) == _fold(said) or p.id == said]
        out.update(f"person:{p.id}" for p in people)
        for d in vocab.devices:
            if _fold(said) in {_fold(d.name), *(_fold(a) for a in d.aliases)}:
                out.add(d.did)
        if not people and not any(_fold(said) == _fold(d.name) for d in vocab.devices):
            out.add(f"?{said}")
    if target.names:
        return frozenset(out)
    for d in vocab.devices:
        if kinds and d.kind not in kinds:
            continue
        if rooms is not None and d.room_id not in rooms:
            continue
        if not kinds and rooms is None and not target.everything:
            continue
        out.add(d.did)
    out.update(r for r in rooms or () if r.startswith("?"))
    return frozenset(out)


def _same_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) < 1e-6
    return bool(a == b)


def _same_mapping(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    if set(expected) != set(actual):
        return False
    return all(_same_number(expected[k], actual[k]) for k in expected)


def intent_problem(spec: Mapping[str, Any], intent: Intent, vocab: Vocabulary, room: str) -> str | None:
    """Why ``intent`` does not meet ``spec`` (``None`` when it does)."""
    if intent.name != spec["name"]:
        return f"intent {intent.name!r}, expected {spec['name']!r}"
    if intent.name == "automation":
        return _automation_problem(spec, intent, vocab, room)
    want = Target(
        names=tuple(spec.get("names", ())),
        rooms=tuple(spec.get("rooms", ())),
        kinds=tuple(spec.get("kinds", ())),
        everything=bool(spec.get("everything", False)),
        feature=spec.get("feature"),
    )
    if intent.target.feature != want.feature:
        return f"feature {intent.target.feature!r}, expected {want.feature!r}"
    got_devices = devices_meant(intent.target, vocab, room)
    want_devices = devices_meant(want, vocab, room)
    if got_devices != want_devices:
        return f"target {intent.target} means {sorted(got_devices)}, expected {sorted(want_devices)}"
    if intent.name == "query" and intent.target.everything != want.everything and not want.kinds:
        return f"everything={intent.target.everything}, expected {want.everything}"
    if not _same_mapping(spec.get("values", {}), intent.values):
        return f"values {intent.values}, expected {spec.get('values', {})}"
    if not _same_mapping(spec.get("deltas", {}), intent.deltas):
        return f"deltas {intent.deltas}, expected {spec.get('deltas', {})}"
    return None


def _automation_problem(spec: Mapping[str, Any], intent: Intent, vocab: Vocabulary, room: str) -> str | None:
    definition = intent.values.get("definition")
    if not isinstance(definition, dict):
        return "no definition"
    triggers = definition.get("triggers", [])
    conditions = definition.get("conditions", [])
    types = [t.get("type") for t in triggers]
    if "triggers" in spec and types != spec["triggers"]:
        return f"triggers {types}, expected {spec['triggers']}"
    ctypes = [c.get("type") for c in conditions]
    if "conditions" in spec and ctypes != spec["conditions"]:
        return f"conditions {ctypes}, expected {spec['conditions']}"
    first = triggers[0] if triggers else {}
    for key in ("at", "weekdays", "person"):
        if key in spec and first.get(key) != spec[key]:
            return f"trigger {key} {first.get(key)!r}, expected {spec[key]!r}"
    then = intent.values.get("then", [])
    return intents_problem(spec.get("then", []), then, vocab, room)


def intents_problem(specs: list[Any], intents: Any, vocab: Vocabulary, room: str) -> str | None:
    """Why ``intents`` do not meet ``specs`` (in order), or ``None``."""
    intents = list(intents)
    if len(intents) != len(specs):
        return f"{len(intents)} intents {[i.name for i in intents]}, expected {[s['name'] for s in specs]}"
    for i, (spec, intent) in enumerate(zip(specs, intents, strict=True)):
        problem = intent_problem(spec, intent, vocab, room)
        if problem is not None:
            return f"intent {i}: {problem}"
    return None


def case_problem(
    case: Mapping[str, Any], understanding: Understanding | None, vocab: Vocabulary
) -> str | None:
    """Why an engine's answer to a case is wrong (``None``: right)."""
    room = case.get("room", DEFAULT_ROOM)
    expected = case.get("intents", [])
    if understanding is None or not understanding.understood:
        return None if not expected else "not understood"
    if not expected:
        return f"understood {[i.name for i in understanding.intents]}, expected nothing"
    if "why" in case and understanding.why != case["why"]:
        return f"why {understanding.why!r}, expected {case['why']!r}"
    return intents_problem(expected, understanding.intents, vocab, room)


# --------------------------------------------------------------------- scoring
@dataclass
class Score:
    """How an engine did on the set."""

    passed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (text, why it failed)

    @property
    def total(self) -> int:
        return self.passed + len(self.failures)

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0


def evaluate(understand: Understand, cases: list[dict[str, Any]] | None = None) -> Score:
    """Run every case through ``understand(text, vocabulary, language)`` and score it."""
    vocab = sim_vocabulary()
    score = Score()
    for case in cases if cases is not None else load_cases():
        text = case["text"]
        language: Language = case.get("lang") or detect_language(text)
        try:
            understanding = understand(text, vocab, language)
        except Exception as exc:  # an engine's error counts as a failure, not a crash of the benchmark
            score.failures.append((text, f"raised {exc!r}"))
            continue
        problem = case_problem(case, understanding, vocab)
        if problem is None:
            score.passed += 1
        else:
            score.failures.append((text, problem))
    return score


def accuracy(understand: Understand, cases: list[dict[str, Any]] | None = None) -> float:
    """The share of cases ``understand`` gets right (0..1)."""
    return evaluate(understand, cases).accuracy


# --------------------------------------------------------------------- tests
CASES = load_cases()
VOCAB = sim_vocabulary()
ENGINE = RulesEngine(strict=True)


def test_the_set_is_large_and_covers_three_languages() -> None:
    langs = [detect_language(c["text"]) for c in CASES]
    assert len(CASES) >= 150
    for lang in ("zh", "en", "ja"):
        assert langs.count(lang) >= 45, lang
    assert len({c["text"] for c in CASES}) == len(CASES), "duplicate cases"
    assert sum(1 for c in CASES if c.get("why")) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:40] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    text = case["text"]
    understanding = ENGINE.understand(text, VOCAB, detect_language(text))
    problem = case_problem(case, understanding, VOCAB)
    assert problem is None, f"{text!r}: {problem}"
    if understanding is not None and "why" not in case:
        assert understanding.why is None, f"{text!r}: explicit, but why={understanding.why!r}"


def test_accuracy_of_the_rules_engine() -> None:
    score = evaluate(ENGINE.understand)
    assert score.total == len(CASES)
    assert score.accuracy == 1.0, score.failures[:5]


def test_accuracy_scores_any_callable() -> None:
    def nothing(text: str, vocabulary: Vocabulary, language: Language) -> Understanding | None:
        return None

    def broken(text: str, vocabulary: Vocabulary, language: Language) -> Understanding | None:
        raise RuntimeError("boom")

    empty = sum(1 for c in CASES if not c.get("intents"))
    assert accuracy(nothing) == pytest.approx(empty / len(CASES))
    score = evaluate(broken)
    assert score.passed == 0 and all("raised" in why for _, why in score.failures)


def test_targets_compare_by_the_devices_they_mean() -> None:
    by_name = Target(names=("Bedroom Light",))
    by_room = Target(rooms=("卧室",), kinds=("light",))
    assert (
        devices_meant(by_name, VOCAB, "kitchen")
        == devices_meant(by_room, VOCAB, "kitchen")
        == {"light-bedroom"}
    )
    assert devices_meant(Target(rooms=("here",), kinds=("light",)), VOCAB, "kitchen") == {"light-kitchen"}
    assert "?study" in devices_meant(Target(rooms=("study",)), VOCAB, "kitchen")
