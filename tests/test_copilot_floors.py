"""Floors in requests: the grammar's floor slot, resolving floors to rooms, and the replies."""

from __future__ import annotations

from dataclasses import replace

import pytest

from copilot_world import make_home
from trilink.copilot.answers import render
from trilink.copilot.grammar import GrammarEngine
from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.offline import OfflineEngine
from trilink.copilot.planner import Planner
from trilink.copilot.targets import match_floors, resolve
from trilink.copilot.vocabulary import Vocabulary
from trilink.kernel import Floor, Kernel


def home_with_floors() -> Kernel:
    """The simulated home on two floors: living room and kitchen downstairs, the rest upstairs."""
    kernel, _, _ = make_home()
    kernel.add_floor(Floor("ground", "home", "Ground Floor", ("downstairs", "一楼", "1階"), level=0))
    kernel.add_floor(Floor("upper", "home", "First Floor", ("upstairs", "二楼", "2階"), level=1))
    kernel.add_floor(Floor("attic", "home", "Attic", level=2))  # no rooms on it
    for rid, floor in (("living-room", "ground"), ("kitchen", "ground"), ("bedroom", "upper")):
        kernel.add_room(replace(kernel.registry.rooms[rid], floor_id=floor))
    return kernel


@pytest.fixture(scope="module")
def grammar() -> GrammarEngine:
    return GrammarEngine()


@pytest.fixture(scope="module")
def offline(grammar: GrammarEngine) -> OfflineEngine:
    return OfflineEngine(grammar)


def plan(kernel: Kernel, *intents: Intent, language: str = "en"):  # type: ignore[no-untyped-def]
    u = Understanding(language, intents, "test")  # type: ignore[arg-type]
    return Planner(kernel).plan(u)


def test_the_vocabulary_reads_floors_and_the_floor_of_each_room() -> None:
    vocab = Vocabulary.from_kernel(home_with_floors())
    assert [f.id for f in vocab.floors] == ["ground", "upper", "attic"]  # lowest first
    rooms = {r.id: r.floor_id for r in vocab.rooms}
    assert rooms == {"living-room": "ground", "kitchen": "ground", "bedroom": "upper", "hallway": None}


def test_floors_match_by_id_name_or_alias_case_insensitively() -> None:
    vocab = Vocabulary.from_kernel(home_with_floors())
    assert [f.id for f in match_floors("first floor", vocab.floors)] == ["upper"]
    assert [f.id for f in match_floors("UPSTAIRS", vocab.floors)] == ["upper"]
    assert [f.id for f in match_floors("ground", vocab.floors)] == ["ground"]
    assert [f.id for f in match_floors("一楼", vocab.floors)] == ["ground"]
    assert match_floors("cellar", vocab.floors) == []
    assert match_floors("  ", vocab.floors) == []


def test_a_floor_stands_for_the_rooms_on_it() -> None:
    vocab = Vocabulary.from_kernel(home_with_floors())
    found = resolve(Target(kinds=("light",), floors=("downstairs",)), vocab)
    assert {d.did for d in found.devices} == {"light-living", "light-kitchen"} and not found.problems
    # a room and a floor: the rooms said that are on it
    found = resolve(Target(rooms=("kitchen",), kinds=("light",), floors=("Ground Floor",)), vocab)
    assert [d.did for d in found.devices] == ["light-kitchen"]
    found = resolve(Target(rooms=("bedroom",), kinds=("light",), floors=("Ground Floor",)), vocab)
    assert found.devices == [] and found.problems == [("nothing", "")]
    # a name on a floor
    found = resolve(Target(names=("light",), floors=("upstairs",)), vocab)
    assert [d.did for d in found.devices] == ["light-bedroom"]


def test_an_unknown_floor_and_a_floor_without_rooms_are_problems() -> None:
    kernel = home_with_floors()
    p = plan(kernel, Intent("turn_on", Target(kinds=("light",), floors=("cellar",))))
    assert p.steps == [] and ("no_floor", "cellar") in p.problems
    assert "couldn't find a floor called “cellar”" in render(p, mode="done")
    p = plan(kernel, Intent("turn_on", Target(kinds=("light",), floors=("cellar",))), language="zh")
    assert "没有找到叫“cellar”的楼层" in render(p, mode="done")
    p = plan(kernel, Intent("turn_on", Target(kinds=("light",), floors=("cellar",))), language="ja")
    assert "「cellar」という階が見つかりません" in render(p, mode="done")
    p = plan(kernel, Intent("turn_off", Target(kinds=("light",), floors=("attic",))))
    assert p.steps == [] and p.problems == [("nothing", "")]
    # a home without floors: any floor is unknown
    bare, _, _ = make_home()
    p = plan(bare, Intent("turn_off", Target(floors=("upstairs",))))
    assert p.steps == [] and ("no_floor", "upstairs") in p.problems


def test_turning_off_a_floor_is_not_every_device() -> None:
    p = plan(home_with_floors(), Intent("turn_off", Target(everything=True, floors=("upstairs",))))
    assert {s.did for s in p.steps} == {"ac-bedroom", "light-bedroom"}
    assert not p.needs_confirmation


@pytest.mark.parametrize(
    ("text", "floor"),
    [
        ("turn on the lights upstairs", "First Floor"),
        ("turn off the lights on the ground floor", "Ground Floor"),
        ("打开一楼的灯", "Ground Floor"),
        ("打開二楼的燈", "First Floor"),
    ],
)
def test_the_grammar_fills_the_floor_slot_from_the_home(
    grammar: GrammarEngine, text: str, floor: str
) -> None:
    vocab = Vocabulary.from_kernel(home_with_floors())
    u = grammar.understand(text, vocab, "en" if text.isascii() else "zh")
    assert u is not None
    (intent,) = u.intents
    assert intent.target.floors == (floor,) and intent.target.kinds == ("light",)
    assert intent.target.rooms == () and not intent.target.everything


@pytest.mark.parametrize(
    ("text", "language", "steps"),
    [
        ("turn on the lights upstairs", "en", [("light-bedroom", "turn_on")]),
        ("turn off everything upstairs", "en", [("ac-bedroom", "turn_off"), ("light-bedroom", "turn_off")]),
        ("2階の電気をつけて", "ja", [("light-bedroom", "turn_on")]),  # the rules read floors too
    ],
)
def test_floor_commands_end_to_end(
    offline: OfflineEngine, text: str, language: str, steps: list[tuple[str, str]]
) -> None:
    kernel = home_with_floors()
    vocab = Vocabulary.from_kernel(kernel)
    p = Planner(kernel).plan(offline.understand(text, vocab, language), vocabulary=vocab)  # type: ignore[arg-type]
    assert sorted((s.did, s.what["op"]) for s in p.steps) == steps
    assert not p.needs_confirmation


@pytest.mark.parametrize(
    ("text", "language"), [("what is the temperature downstairs", "en"), ("一楼的温度是多少", "zh")]
)
def test_floor_questions_read_the_rooms_on_the_floor(
    offline: OfflineEngine, text: str, language: str
) -> None:
    kernel = home_with_floors()
    vocab = Vocabulary.from_kernel(kernel)
    p = Planner(kernel).plan(offline.understand(text, vocab, language), vocabulary=vocab)  # type: ignore[arg-type]
    assert {f.did for f in p.facts} == {"sensor-living", "sensor-kitchen"} and not p.steps


@pytest.mark.parametrize(
    ("text", "language"),
    [("what is on downstairs", "en"), ("一楼有什么开着", "zh"), ("which lights are on downstairs", "en")],
)
def test_what_is_on_on_a_floor(offline: OfflineEngine, text: str, language: str) -> None:
    kernel = home_with_floors()
    for did in ("light-living", "light-bedroom", "light-kitchen", "light-hallway"):
        kernel.report(did, 2, 1, did != "light-kitchen")
    vocab = Vocabulary.from_kernel(kernel)
    p = Planner(kernel).plan(offline.understand(text, vocab, language), vocabulary=vocab)  # type: ignore[arg-type]
    assert {f.did for f in p.facts if f.value is True and f.did.startswith("light")} == {"light-living"}
    assert not any(f.did in ("light-bedroom", "light-hallway") for f in p.facts)
