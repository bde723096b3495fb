"""Light colours: names in three languages, the planner writing the spec's ``color``, the replies."""

from __future__ import annotations

import pytest

from copilot_world import make_home
from trilink.copilot.answers import render
from trilink.copilot.colors import COLORS, color_label, color_name, rgb_of
from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.offline import OfflineEngine
from trilink.copilot.planner import Planner
from trilink.copilot.vocabulary import Vocabulary
from trilink.kernel import Kernel


@pytest.fixture(scope="module")
def offline() -> OfflineEngine:
    return OfflineEngine()


def plan(kernel: Kernel, *intents: Intent, language: str = "en"):  # type: ignore[no-untyped-def]
    return Planner(kernel).plan(Understanding(language, intents, "test"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "language", "name"),
    [
        ("red", None, "red"),
        ("Red", "en", "red"),
        ("红色", "zh", "red"),
        ("紅色", "zh", "red"),
        ("赤", "ja", "red"),
        ("オレンジ", "ja", "orange"),
        ("橘色", "zh", "orange"),
        ("青", "ja", "blue"),
        ("青色", "ja", "blue"),  # blue in Japanese…
        ("青色", "zh", "cyan"),  # …cyan in Chinese
        ("パープル", None, "purple"),
        ("粉红色", None, "pink"),
        ("turquoise", None, "turquoise"),
    ],
)
def test_colour_words_of_three_languages(word: str, language: str | None, name: str) -> None:
    assert color_name(word, language) == name  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "rgb"),
    [
        ("red", 0xFF0000),
        ("蓝色", 0x0000FF),
        ("#00ff80", 0x00FF80),
        ("00FF80", 0x00FF80),
        (0x123456, 0x123456),
        (0, 0),
        ("black", None),  # a colour, but not one a light shows
        ("黑色", None),
        ("plaid", None),
        ("#12345", None),
        (-1, None),
        (0x1000000, None),
        (True, None),
        (2.5, None),
        (None, None),
    ],
)
def test_rgb_of_names_hex_and_integers(value: object, rgb: int | None) -> None:
    assert rgb_of(value) == rgb


def test_colours_are_said_back_in_the_request_language() -> None:
    assert color_label("red", "zh") == "红色" and color_label("red", "ja") == "赤"
    assert color_label(0x0000FF, "en") == "blue"  # an integer with a name
    assert color_label(0x123456, "ja") == "#123456"
    assert all(0 <= v <= 0xFFFFFF for v in COLORS.values())


def test_setting_a_colour_writes_the_spec_color_and_switches_the_light_on_first() -> None:
    kernel, _, _ = make_home()
    kernel.report("light-bedroom", 2, 1, False)
    p = plan(kernel, Intent("set", Target(names=("Bedroom Light",)), {"color": "red"}))
    assert [(s.did, s.siid, s.iid, s.value) for s in p.steps] == [
        ("light-bedroom", 2, 1, True),
        ("light-bedroom", 2, 4, 0xFF0000),
    ]
    assert render(p, mode="done") == "Done: turn on Bedroom Light, set Bedroom Light colour to red."
    p = plan(kernel, Intent("set", Target(names=("Bedroom Light",)), {"color": "蓝色"}), language="zh")
    assert p.steps[-1].value == 0x0000FF
    assert "把Bedroom Light的颜色调到蓝色" in render(p, mode="done")
    p = plan(kernel, Intent("set", Target(names=("Bedroom Light",)), {"color": 0x00FF00}), language="ja")
    assert "Bedroom Lightの色を緑に設定" in render(p, mode="done")


def test_a_colour_without_a_target_means_the_lights() -> None:
    kernel, _, _ = make_home()
    p = Planner(kernel).plan(
        Understanding("en", (Intent("set", Target(rooms=("here",)), {"color": "green"}),), "test"),
        speaker_room="kitchen",
    )
    assert {(s.did, s.value) for s in p.steps if s.iid == 4} == {("light-kitchen", 0x00FF00)}


@pytest.mark.parametrize("bad", ["black", "plaid", "", 0x1000000, -5])
def test_a_colour_no_light_shows_is_a_problem_said_once(bad: object) -> None:
    kernel, _, _ = make_home()
    p = plan(kernel, Intent("set", Target(kinds=("light",), everything=True), {"color": bad}))
    assert p.steps == [] and p.problems == [("no_color", str(bad))]
    # with another value the rest still goes
    p = plan(kernel, Intent("set", Target(names=("Kitchen Light",)), {"color": bad, "brightness": 30}))
    assert [(s.iid, s.value) for s in p.steps if s.what["op"] == "set"] == [(2, 30)]
    assert p.problems == [("no_color", str(bad))]


def test_no_colour_problem_is_said_in_three_languages() -> None:
    kernel, _, _ = make_home()
    for language, words in (
        ("en", "“black” is not a colour a light can show"),
        ("zh", "“black”不是灯能显示的颜色"),
        ("ja", "「black」はライトで表示できる色ではありません"),
    ):
        p = plan(kernel, Intent("set", Target(kinds=("light",)), {"color": "black"}), language=language)
        assert words in render(p, mode="done")


def test_a_device_without_colour_says_so() -> None:
    kernel, _, _ = make_home()
    p = plan(
        kernel, Intent("set", Target(names=("Living Room AC",), kinds=("air-conditioner",)), {"color": "red"})
    )
    assert p.steps == [] and p.problems == [("unsupported", "Living Room AC|color")]


@pytest.mark.parametrize(
    ("text", "language", "rgb"),
    [
        ("make the bedroom light red", "en", 0xFF0000),
        ("set the bedroom light colour to blue", "en", 0x0000FF),
        ("把卧室的灯调成红色", "zh", 0xFF0000),
        ("卧室灯换成紫色", "zh", 0x800080),
        ("寝室のライトを青にして", "ja", 0x0000FF),
        ("寝室の電気をオレンジにして", "ja", 0xFFA500),
    ],
)
def test_colour_requests_end_to_end(offline: OfflineEngine, text: str, language: str, rgb: int) -> None:
    kernel, _, _ = make_home()
    vocab = Vocabulary.from_kernel(kernel)
    p = Planner(kernel).plan(offline.understand(text, vocab, language), vocabulary=vocab)  # type: ignore[arg-type]
    assert [(s.did, s.value) for s in p.steps if s.iid == 4] == [("light-bedroom", rgb)]
    assert not p.problems


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("赤ちゃんが寝ているので寝室の電気を消して", "ja"),  # 赤 of 赤ちゃん is no colour
        ("打开蓝牙", "zh"),  # nor 蓝 of 蓝牙
        ("set the bedroom light to warm white", "en"),  # a white tint: a colour temperature
    ],
)
def test_colour_look_alikes_set_no_colour(offline: OfflineEngine, text: str, language: str) -> None:
    kernel, _, _ = make_home()
    vocab = Vocabulary.from_kernel(kernel)
    u = offline.understand(text, vocab, language)  # type: ignore[arg-type]
    assert all("color" not in i.values for i in u.intents)
