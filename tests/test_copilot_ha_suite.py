"""The copilot on Home Assistant's intent test suite (en, zh-CN, zh-TW, zh-HK, ja).

Runs bench/copilot_eval.py's scoring over every in-scope test sentence: the grammar
engine's understanding, planned by the planner against a home built from the test file,
compared with what Home Assistant's slot semantics expect. The same scoring of plain
hassil (every intent of the language) checks the harness itself: Home Assistant's own
reading must agree with the expectations the harness derives from the test files.

Test data: "Home Assistant intents, Open Home Foundation contributors", CC BY 4.0.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import copilot_eval as ce
from trilink.copilot.intent import Understanding
from trilink.copilot.plan import Plan, Step
from trilink.copilot.vocabulary import Vocabulary

pytestmark = pytest.mark.skipif(not ce.SUITE.is_dir(), reason=f"no test suite at {ce.SUITE}")

#: accuracy reached per language (grammar engine + planner); every scored sentence passes
MIN_ACCURACY = {"en": 1.0, "zh-CN": 1.0, "zh-TW": 1.0, "zh-HK": 1.0, "ja": 1.0}
#: sentences scored per language: a case moving to "not representable" must be noticed
MIN_SCORED = {"en": 494, "zh-CN": 316, "zh-TW": 284, "zh-HK": 156, "ja": 71}


@pytest.fixture(scope="module")
def report() -> ce.Report:
    return ce.evaluate(ce.load_suite(), ce.grammar_engine(), baseline=True)


@pytest.mark.parametrize("lang", ce.LANGUAGES)
def test_accuracy_per_language(report: ce.Report, lang: str) -> None:
    row = report.language(lang)
    assert row.scored >= MIN_SCORED[lang]
    accuracy = row.ours_ok / row.scored
    failures = "\n".join(f"{f['where']}: {f['sentence']} — {f['why']}" for f in row.failures[:20])
    assert accuracy >= MIN_ACCURACY[lang], f"{lang}: {accuracy:.3f}\n{failures}"


def test_offline_engine_keeps_the_grammar_s_accuracy() -> None:
    """The copilot's offline engine (grammar and rules merged) on the same suite."""
    try:
        engine = ce.offline_engine()
    except ImportError as exc:  # its parts are being written
        pytest.skip(f"the offline engine cannot be loaded: {exc}")
    report = ce.evaluate(ce.load_suite(), engine, baseline=False)
    for lang in ce.LANGUAGES:
        row = report.language(lang)
        failures = "\n".join(f"{f['where']}: {f['sentence']} — {f['why']}" for f in row.failures[:20])
        assert row.ours_ok / row.scored >= 0.97, f"{lang}\n{failures}"


@pytest.mark.parametrize("lang", ce.LANGUAGES)
def test_home_assistant_agrees_with_the_expectations(report: ce.Report, lang: str) -> None:
    row = report.language(lang)
    failures = "\n".join(f"{f['where']}: {f['sentence']} — {f['why']}" for f in row.base_failures[:20])
    assert row.base_ok / row.scored >= 0.97, failures


def test_nothing_is_silently_dropped(report: ce.Report) -> None:
    for lang in ce.LANGUAGES:
        row = report.language(lang)
        assert row.sentences == row.scored + row.not_representable + row.unscorable
        assert row.unscorable == 0, row.reasons
    en = report.language("en").reasons
    # what trilink has no model for is counted, never scored or dropped
    assert en["domain:script"] > 0 and en["domain:valve"] > 0 and en["domain:binary_sensor"] > 0
    # floors, colours, scenes and people are scored now
    for lang in ce.LANGUAGES:
        reasons = report.language(lang).reasons
        assert not any(r in reasons for r in ("floor", "color", "domain:scene", "domain:person")), reasons


def test_the_whole_suite_runs_in_seconds(report: ce.Report) -> None:
    assert len(report.ours_total_s) == sum(report.language(lg).scored for lg in ce.LANGUAGES)
    p95 = ce.latency(report.ours_total_s)["p95_ms"]
    assert p95 is not None and p95 < 20


# --------------------------------------------------------- the scoring itself
def _case(lang: str, intent: str, file: str, index: int = 0) -> tuple[ce.Group, ce.World, ce.Expected]:
    group = next(g for g in ce.load_suite([lang], [intent]) if g.file == file and g.index == index)
    world = ce.build_world(group, devices=20)
    expected = ce.expected_for(world, group)
    assert isinstance(expected, ce.Expected)
    return group, world, expected


def _plan(steps: list[Step]) -> Plan:
    return Plan("en", Understanding("en", (), "test"), steps=steps)


def test_a_plan_on_other_devices_fails() -> None:
    _, world, expected = _case("en", "HassTurnOff", "area_domain")  # the kitchen lights
    (did,) = expected.alternatives[0]
    other = next(e.did for e in world.entities if e.did and e.domain == "light" and e.did != did)
    assert ce.score_plan(_plan([Step("set", did, 2, 1, False)]), expected, world) == (True, "")
    assert not ce.score_plan(_plan([Step("set", other, 2, 1, False)]), expected, world)[0]
    both = [Step("set", did, 2, 1, False), Step("set", other, 2, 1, False)]
    assert not ce.score_plan(_plan(both), expected, world)[0]
    assert not ce.score_plan(_plan([]), expected, world)[0]
    assert not ce.score_plan(_plan([Step("set", did, 2, 1, True)]), expected, world)[0]  # on, not off


def test_a_wrong_value_fails() -> None:
    _, world, expected = _case("en", "HassLightSet", "name_brightness")  # bedroom lamp to 50 %
    (did,) = expected.alternatives[0]
    on = Step("set", did, 2, 1, True)
    assert ce.score_plan(_plan([on, Step("set", did, 2, 2, 50)]), expected, world)[0]
    assert not ce.score_plan(_plan([on, Step("set", did, 2, 2, 60)]), expected, world)[0]
    assert not ce.score_plan(_plan([on]), expected, world)[0]


def test_fan_speed_may_be_a_level_or_a_percentage() -> None:
    _, world, expected = _case("en", "HassFanSetSpeed", "name_only")  # ceiling fan to 50 %
    (did,) = expected.alternatives[0]
    assert ce.score_plan(_plan([Step("set", did, 2, 3, 50)]), expected, world)[0]  # speed-level 50 %
    assert ce.score_plan(_plan([Step("set", did, 2, 2, 2)]), expected, world)[0]  # level 2 of 3
    assert not ce.score_plan(_plan([Step("set", did, 2, 2, 3)]), expected, world)[0]


def test_a_question_must_be_answered_from_the_right_devices() -> None:
    _, world, expected = _case("en", "HassClimateGetTemperature", "area_only")
    from trilink.copilot.plan import Fact

    (did,) = expected.alternatives[0]
    answer = Plan("en", Understanding("en", (), "test"), facts=[Fact(did, "x", "temperature", 20.0)])
    assert ce.score_plan(answer, expected, world)[0]
    other = next(e.did for e in world.entities if e.did and e.did != did)
    wrong = Plan("en", Understanding("en", (), "test"), facts=[Fact(other, "x", "temperature", 20.0)])
    assert not ce.score_plan(wrong, expected, world)[0]
    assert not ce.score_plan(_plan([Step("set", did, 2, 1, True)]), expected, world)[0]


def test_a_floor_request_on_the_whole_home_fails() -> None:
    _, world, expected = _case("en", "HassTurnOn", "floor_domain")  # the lights on the first floor
    (did,) = expected.alternatives[0]
    lights = [e.did for e in world.entities if e.did and e.domain == "light"]
    assert len(lights) > 1 and world.floor_of_area[next(e.area for e in world.entities if e.did == did)]
    assert ce.score_plan(_plan([Step("set", did, 2, 1, True)]), expected, world)[0]
    every = [Step("set", d, 2, 1, True) for d in lights]
    assert not ce.score_plan(_plan(every), expected, world)[0]


def test_a_wrong_colour_fails() -> None:
    _, world, expected = _case("en", "HassLightSet", "name_color")  # bedroom lamp to red
    (did,) = expected.alternatives[0]
    on = Step("set", did, 2, 1, True)
    assert ce.score_plan(_plan([on, Step("set", did, 2, 4, 0xFF0000)]), expected, world)[0]
    assert ce.score_plan(_plan([on, Step("set", did, 2, 4, 0xE01010)]), expected, world)[0]  # a red
    for wrong in (0x0000FF, 0xFFFFFF, 0xFFA500, 0):
        assert not ce.score_plan(_plan([on, Step("set", did, 2, 4, wrong)]), expected, world)[0], hex(wrong)
    assert not ce.score_plan(_plan([on]), expected, world)[0]


def test_a_scene_must_be_applied() -> None:
    _, world, expected = _case("en", "HassTurnOn", "name_scene")  # activate party mode
    (scene_id,) = expected.alternatives[0]
    (scene,) = world.vocabulary.scenes
    assert scene.id == scene_id and scene.name == "Party Mode"
    applied = _plan([])
    applied.scenes.append(scene_id)
    assert ce.score_plan(applied, expected, world) == (True, "")
    assert not ce.score_plan(_plan([]), expected, world)[0]
    did, siid, piid, value = scene.states[0]
    assert not ce.score_plan(_plan([Step("set", did, siid, piid, value)]), expected, world)[0]


def test_a_question_about_a_person_reads_their_phone() -> None:
    from trilink.copilot.plan import Fact

    _, world, expected = _case("en", "HassGetState", "name_where")  # where is jane
    (did,) = expected.alternatives[0]
    jane = next(p for p in world.kernel.registry.people.values() if p.name == "Jane")
    assert jane.phone_did == did
    answer = Plan(
        "en", Understanding("en", (), "test"), facts=[Fact(did, "Jane", "where", {"place": "home"})]
    )
    assert ce.score_plan(answer, expected, world)[0]
    other = next(e.did for e in world.entities if e.did and e.did != did)
    wrong = Plan("en", Understanding("en", (), "test"), facts=[Fact(other, "x", "where", None)])
    assert not ce.score_plan(wrong, expected, world)[0]


def test_an_engine_that_drops_floors_fails_the_floor_cases() -> None:
    engine = ce.grammar_engine()

    def no_floors(text: str, vocabulary: Vocabulary, world: ce.World) -> Understanding | None:
        u = engine(text, vocabulary, world)
        if u is None:
            return None
        intents = tuple(
            replace(
                i,
                target=replace(i.target, floors=(), everything=i.target.everything or bool(i.target.floors)),
            )
            for i in u.intents
        )
        return replace(u, intents=intents)

    groups = [g for g in ce.load_suite(["en"]) if g.slots.get("floor")]
    assert len(groups) >= 10
    good = ce.evaluate(groups, engine, baseline=False).language("en")
    bad = ce.evaluate(groups, no_floors, baseline=False).language("en")
    assert good.scored == bad.scored > 0 and good.ours_ok == good.scored
    assert bad.ours_ok < good.scored / 2
