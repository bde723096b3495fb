"""Scenes by voice: the grammar's scene names, the plan's scenes, their risks, and applying them."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_world import make_home
from trilink.automation import AutomationEngine, MemoryAutomationStore
from trilink.copilot.answers import render
from trilink.copilot.grammar import GrammarEngine
from trilink.copilot.intent import Intent, Understanding
from trilink.copilot.planner import Planner
from trilink.copilot.service import Copilot
from trilink.copilot.vocabulary import NamedScene, Vocabulary
from trilink.kernel import Context, Device, Kernel
from trilink.model import parse_spec

MOVIE = NamedScene("movie", "Movie Time", (("light-living", 2, 1, False), ("curtain-living", 2, 3, 0)))
PARTY = NamedScene("party", "聚会模式", (("light-living", 2, 1, True),))
NIGHT = NamedScene("night", "おやすみモード", (("light-bedroom", 2, 1, False),))


def vocab(kernel: Kernel) -> Vocabulary:
    return Vocabulary.from_kernel(kernel, scenes=(MOVIE, PARTY, NIGHT))


def plan(kernel: Kernel, *intents: Intent, language: str = "en"):  # type: ignore[no-untyped-def]
    u = Understanding(language, intents, "test")  # type: ignore[arg-type]
    return Planner(kernel).plan(u, vocabulary=vocab(kernel))


@pytest.fixture(scope="module")
def grammar() -> GrammarEngine:
    return GrammarEngine()


def test_bare_scene_names_are_scenes_whose_id_is_their_name() -> None:
    v = Vocabulary((), (), scenes=("Evening",))  # type: ignore[arg-type]
    assert v.scenes == (NamedScene("Evening", "Evening"),) and v.scene_names == ("Evening",)


@pytest.mark.parametrize(
    ("text", "language", "scene"),
    [
        ("activate movie time", "en", "Movie Time"),
        ("turn on movie time", "en", "Movie Time"),
        ("启动聚会模式", "zh", "聚会模式"),
        ("切换到聚会模式", "zh", "聚会模式"),
    ],
)
def test_the_grammar_reads_a_scene_named_in_a_turn_on(
    grammar: GrammarEngine, text: str, language: str, scene: str
) -> None:
    kernel, _, _ = make_home()
    u = grammar.understand(text, vocab(kernel), language)  # type: ignore[arg-type]
    assert u is not None and u.intents == (Intent("scene", values={"scene": scene}),)


def test_a_scene_cannot_be_turned_off(grammar: GrammarEngine) -> None:
    kernel, _, _ = make_home()
    u = grammar.understand("turn off movie time", vocab(kernel), "en")
    assert u is None or all(i.name != "scene" for i in u.intents)


def test_a_scene_is_planned_by_name_or_id_once() -> None:
    kernel, _, _ = make_home()
    p = plan(
        kernel,
        Intent("scene", values={"scene": "movie  TIME"}),
        Intent("scene", values={"scene": "movie"}),
        Intent("scene", values={"scene": "Part"}),  # an id is matched whole, not in part
    )
    assert p.scenes == ["movie"] and p.steps == [] and p.problems == [("no_scene", "Part")]
    assert [(s.did, s.iid, s.value) for s in p.scene_steps] == [
        ("light-living", 1, False),
        ("curtain-living", 3, 0),
    ]
    assert not p.needs_confirmation
    assert render(p, mode="would").startswith("Would do (dry run): activate the scene “Movie Time”.")


@pytest.mark.parametrize(
    ("language", "done", "missing"),
    [
        ("en", "Done: activate the scene “Movie Time”.", "There is no scene called “nope”."),
        ("zh", "已完成：启用场景“Movie Time”。", "没有叫“nope”的场景。"),
        ("ja", "完了しました：シーン「Movie Time」を適用。", "「nope」というシーンはありません。"),
    ],
)
def test_scene_replies_in_three_languages(language: str, done: str, missing: str) -> None:
    kernel, _, _ = make_home()
    p = plan(kernel, Intent("scene", values={"scene": "Movie Time"}), language=language)
    assert render(p, mode="done") == done
    p = plan(kernel, Intent("scene", values={"scene": "nope"}), language=language)
    assert render(p, mode="done") == missing


def test_an_empty_or_unknown_scene_is_a_problem_not_a_plan() -> None:
    kernel, _, _ = make_home()
    for said in ("", "   ", "movie time please"):
        p = plan(kernel, Intent("scene", values={"scene": said}))
        assert p.scenes == [] and p.problems == [("no_scene", said)]
    p = plan(kernel, Intent("scene"))
    assert p.scenes == [] and p.problems == [("no_scene", "")]


def test_a_scene_that_drives_a_moving_car_needs_a_confirmation() -> None:
    kernel, _, _ = make_home()
    kernel.report("car", 4, 3, 50.0)  # driving at 50 km/h
    road = NamedScene("road", "Road Trip", (("car", 5, 1, True),))
    u = Understanding("en", (Intent("scene", values={"scene": "Road Trip"}),), "test")
    p = Planner(kernel).plan(u, vocabulary=Vocabulary.from_kernel(kernel, scenes=(road,)))
    assert p.scenes == ["road"] and p.risks == ["car_moving"] and p.needs_confirmation


def test_a_scene_that_opens_the_garage_needs_a_confirmation() -> None:
    kernel, _, _ = make_home()
    spec = parse_spec(
        {
            "type": "urn:miot-spec-v2:device:garage-door:0000A0FF:test-garage:1",
            "description": "Garage Door",
            "services": [
                {
                    "iid": 2,
                    "type": "urn:miot-spec-v2:service:garage-door:00007800:test-garage:1",
                    "description": "Garage Door",
                    "properties": [
                        {
                            "iid": 1,
                            "type": "urn:miot-spec-v2:property:target-position:00000051:test-garage:1",
                            "description": "Target Position",
                            "format": "uint8",
                            "access": ["read", "write"],
                            "value-range": [0, 100, 1],
                        }
                    ],
                }
            ],
        }
    )
    kernel.add_device(Device("garage", "Garage Door", "test.garage", spec, "test", "home"))
    home = NamedScene("arrive", "Arrive Home", (("garage", 2, 1, 100), ("light-hallway", 2, 1, True)))
    u = Understanding("en", (Intent("scene", values={"scene": "arrive home"}),), "test")
    p = Planner(kernel).plan(u, vocabulary=Vocabulary.from_kernel(kernel, scenes=(home,)))
    assert p.scenes == ["arrive"] and p.risks == ["open_garage"] and p.needs_confirmation
    assert (
        render(p, mode="confirm") == "Please confirm (opening the garage): activate the scene “Arrive Home”."
    )


class Scenes:
    """The scene part of the automation engine, recorded."""

    def __init__(self, fail: str | None = None, raises: bool = False) -> None:
        self.applied: list[tuple[str, Context]] = []
        self.fail = fail
        self.raises = raises

    def check_data(self, data: Any, source: str) -> list[Any]:
        return []

    def load_data(self, data: Any, source: str) -> Any:
        return None

    def zones(self) -> list[dict[str, Any]]:
        return []

    def scenes(self) -> list[dict[str, Any]]:
        return [
            {
                "id": "movie",
                "name": "Movie Time",
                "states": [
                    {"device": "light-living", "property": "2.1", "value": False},
                    {"device": "curtain-living", "property": "bad", "value": 0},  # skipped
                ],
            }
        ]

    async def apply_scene(self, scene_id: str, context: Context) -> list[dict[str, Any]]:
        if self.raises:
            raise KeyError(f"unknown scene {scene_id!r}")
        self.applied.append((scene_id, context))
        result = {"device": "light-living", "property": "2.1", "value": False, "ok": self.fail is None}
        if self.fail is not None:
            result |= {"error": "the device is busy", "code": self.fail}
        return [result]


async def test_the_service_applies_a_scene_through_the_engine() -> None:
    kernel, link, _ = make_home()
    sink = Scenes()
    copilot = Copilot(kernel, automations=sink)  # type: ignore[arg-type]
    (scene,) = copilot.vocabulary().scenes
    assert scene == NamedScene("movie", "Movie Time", (("light-living", 2, 1, False),))
    reply = await copilot.say("activate movie time", person_id="alex")
    assert reply.status == "done", reply.text
    assert reply.text == "Done: activate the scene “Movie Time”."
    assert [sid for sid, _ in sink.applied] == ["movie"] and link.sent == []
    assert sink.applied[0][1].actor == "copilot"
    body = reply.to_dict()
    assert body["scenes"] == [{"id": "movie", "name": "Movie Time"}]
    assert body["results"][0]["kind"] == "scene" and body["results"][0]["ok"] is True
    # a dry run applies nothing
    reply = await copilot.say("activate movie time", dry_run=True)
    assert reply.status == "dry_run" and len(sink.applied) == 1


@pytest.mark.parametrize(
    ("sink", "said"),
    [
        (Scenes(fail="device-refused"), "the device refused (the device is busy)"),
        (Scenes(fail="device-offline"), "the device is offline"),
        (Scenes(raises=True), "something went wrong"),
    ],
)
async def test_a_scene_that_fails_is_reported(sink: Scenes, said: str) -> None:
    kernel, _, _ = make_home()
    reply = await Copilot(kernel, automations=sink).say("activate movie time")  # type: ignore[arg-type]
    assert reply.status == "failed"
    assert reply.text.startswith("Could not activate the scene “Movie Time”: " + said), reply.text


async def test_without_an_automation_engine_there_are_no_scenes() -> None:
    kernel, _, _ = make_home()
    copilot = Copilot(kernel)
    assert copilot.vocabulary().scenes == ()
    reply = await copilot.say("activate movie time")
    assert reply.status in ("not_understood", "failed") and not reply.plan.scenes


async def test_a_scene_of_the_real_engine_is_applied_by_voice() -> None:
    kernel, link, _ = make_home()
    engine = AutomationEngine(kernel, MemoryAutomationStore())
    await engine.start()
    try:
        report = engine.load_data(
            {
                "scenes": [
                    {
                        "id": "evening",
                        "name": "Evening",
                        "states": [
                            {"device": "light-living", "property": "2.1", "value": True},
                            {"device": "light-living", "property": "light.brightness", "value": 60},
                        ],
                    }
                ]
            },
            "test",
        )
        assert not report.errors
        copilot = Copilot(kernel, automations=engine)
        for text in ("activate evening", "晚上好", "启动Evening"):
            link.sent.clear()
            reply = await copilot.say(text)
            if text == "晚上好":  # not the scene's name: no scene
                assert not reply.plan.scenes
                continue
            assert reply.status == "done", reply.text
            assert sorted(link.sent) == [
                ("set", "light-living", 2, 1, True),
                ("set", "light-living", 2, 2, 60),
            ]
    finally:
        await engine.stop()
