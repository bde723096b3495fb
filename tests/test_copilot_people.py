"""People in questions: "where is Alex", "is Alex home", "who is home", answered from their phones."""

from __future__ import annotations

import pytest

from copilot_world import OFFICE, make_home
from trilink.copilot.answers import render
from trilink.copilot.grammar import GrammarEngine
from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.planner import Planner
from trilink.copilot.vocabulary import Vocabulary
from trilink.kernel import Device, Kernel, Person
from trilink.model import builtin_spec


@pytest.fixture(scope="module")
def grammar() -> GrammarEngine:
    return GrammarEngine()


def family() -> Kernel:
    """The simulated home with Alex (at home) and Sam, whose phone is at the office."""
    kernel, _, _ = make_home()
    kernel.add_device(
        Device(
            "phone-sam",
            "Sam's Phone",
            "trilink.phone.sim1",
            builtin_spec("trilink.phone.sim1"),
            "test",
            "home",
        )
    )
    kernel.add_person(Person("sam", "home", "Sam", phone_did="phone-sam"))
    kernel.report("phone-sam", 2, 1, OFFICE[0])
    kernel.report("phone-sam", 2, 2, OFFICE[1])
    return kernel


def answer(kernel: Kernel, target: Target, language: str = "en"):  # type: ignore[no-untyped-def]
    u = Understanding(language, (Intent("query", target, {"subject": "where"}),), "test")  # type: ignore[arg-type]
    return Planner(kernel, zones=lambda: {"office": OFFICE}).plan(u)


@pytest.mark.parametrize(
    ("text", "language", "target"),
    [
        ("where is sam", "en", Target(names=("Sam",))),
        ("is alex home", "en", Target(names=("Alex",))),
        ("is sam in the office", "en", Target(names=("Sam",))),  # a place of the home, not the study
        ("who is home", "en", Target(everything=True)),
        ("is anyone home", "en", Target(everything=True)),
        ("Sam在哪里", "zh", Target(names=("Sam",))),
        ("Alex在家吗", "zh", Target(names=("Alex",))),
        ("谁在家", "zh", Target(everything=True)),
    ],
)
def test_the_grammar_asks_where_people_are(
    grammar: GrammarEngine, text: str, language: str, target: Target
) -> None:
    vocab = Vocabulary.from_kernel(family(), zones=("office",))
    u = grammar.understand(text, vocab, language)  # type: ignore[arg-type]
    assert u is not None and u.intents == (Intent("query", target, {"subject": "where"}),)


@pytest.mark.parametrize(("text", "language"), [("who is in the kitchen", "en"), ("谁在厨房", "zh")])
def test_who_is_in_a_room_is_not_a_place_trilink_knows(
    grammar: GrammarEngine, text: str, language: str
) -> None:
    vocab = Vocabulary.from_kernel(family())
    assert grammar.understand(text, vocab, language) is None  # type: ignore[arg-type]


def test_a_person_is_where_their_phone_is() -> None:
    kernel = family()
    p = answer(kernel, Target(names=("sam",)))
    assert [f.did for f in p.facts] == ["phone-sam"] and p.facts[0].value["place"] == "office"
    assert render(p, mode="done") == "Sam is at office."
    p = answer(kernel, Target(names=("Alex",)), "zh")
    assert render(p, mode="done") == "Alex在家。"


def test_who_is_home_reads_everyone_with_a_phone() -> None:
    kernel = family()
    kernel.add_person(Person("kid", "home", "Kid"))  # no phone: nothing says where they are
    p = answer(kernel, Target(everything=True))
    assert {f.did for f in p.facts} == {"phone-alex", "phone-sam"} and not p.problems
    assert render(p, mode="done") == "Alex is at home. Sam is at office."
    p = answer(kernel, Target(everything=True), "ja")
    assert render(p, mode="done") == "Alexは家にいます。Samはofficeにいます。"


def test_an_unknown_person_and_a_home_without_people_are_problems() -> None:
    kernel = family()
    p = answer(kernel, Target(names=("Nobody",)))
    assert p.facts == [] and p.problems == [("no_device", "Nobody")]
    bare, _, _ = make_home()
    del bare.registry.people["alex"]
    for language, said in (
        ("en", "Nobody here has a phone that says where they are."),
        ("zh", "家里没有人的手机能告诉我他们在哪里。"),
        ("ja", "居場所が分かるスマートフォンを持っている人がいません。"),
    ):
        p = answer(bare, Target(everything=True), language)
        assert p.facts == [] and p.problems == [("no_people", "")]
        assert render(p, mode="done") == said
