"""The planner and the safety rules, fed with understandings built by hand (no engine)."""

from __future__ import annotations

from copilot_world import OFFICE, make_home
from trilink.copilot.answers import render
from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.planner import Planner


def plan_of(*intents: Intent, language: str = "en", room: str | None = None, why: str | None = None, **kw):  # type: ignore[no-untyped-def]
    kernel, _, _ = make_home()
    planner = Planner(kernel, zones=lambda: {"office": OFFICE}, **kw)
    u = Understanding(language, intents, "test", why=why)  # type: ignore[arg-type]
    return planner.plan(u, speaker_room=room), kernel


def ops(plan) -> list[tuple[str, str, object]]:  # type: ignore[no-untyped-def]
    return [(s.did, s.what["op"], s.value) for s in plan.steps]


def test_setting_the_ac_temperature_switches_it_on_first() -> None:
    plan, _ = plan_of(
        Intent("set", Target(rooms=("living-room",), kinds=("air-conditioner",)), {"temperature": 24})
    )
    assert ops(plan) == [("ac-living", "turn_on", True), ("ac-living", "set", 24.0)]
    assert plan.steps[1].siid == 2 and plan.steps[1].iid == 3
    assert not plan.needs_confirmation


def test_an_explicit_value_out_of_range_is_a_problem_not_a_clamp() -> None:
    plan, _ = plan_of(Intent("set", Target(names=("Bedroom AC",)), {"temperature": 35}))
    assert [s for s in plan.steps if s.what["op"] == "set"] == []
    assert plan.problems and plan.problems[0][0] == "invalid"
    assert "31" in plan.problems[0][1]  # the allowed range is named


def test_a_relative_change_is_clamped_and_rounded_to_the_step() -> None:
    plan, _ = plan_of(
        Intent("adjust", Target(rooms=("here",), kinds=("air-conditioner",)), deltas={"temperature": -2}),
        room="living-room",
    )
    assert ops(plan)[-1] == ("ac-living", "set", 24.0)
    plan, _ = plan_of(Intent("adjust", Target(names=("Bedroom AC",)), deltas={"temperature": -20}))
    assert ops(plan)[-1] == ("ac-bedroom", "set", 16.0)


def test_modes_and_fan_speeds_come_from_the_spec_value_lists() -> None:
    plan, _ = plan_of(Intent("set", Target(names=("Bedroom AC",)), {"mode": "heat", "fan_speed": 100}))
    assert ("ac-bedroom", "set", 5) in ops(plan)  # 5 = heat in the AC's value-list
    assert ("ac-bedroom", "set", 3) in ops(plan)  # the top fan level
    plan, _ = plan_of(Intent("set", Target(names=("Bedroom AC",)), {"mode": "turbo"}))
    assert plan.problems == [("no_mode", "Bedroom AC|turbo")] or plan.problems[0][0] == "no_mode"


def test_all_lights_is_not_every_device_but_everything_is() -> None:
    plan, _ = plan_of(Intent("turn_off", Target(kinds=("light",), everything=True)))
    assert {s.did for s in plan.steps} == {"light-living", "light-bedroom", "light-kitchen", "light-hallway"}
    assert not plan.needs_confirmation
    plan, _ = plan_of(Intent("turn_off", Target(everything=True)))
    assert len(plan.steps) > 4
    assert plan.risks == ["every_device"]


def test_unlocking_needs_a_confirmation_locking_does_not() -> None:
    plan, _ = plan_of(Intent("unlock", Target(names=("Front Door Lock",))))
    assert ops(plan) == [("lock-front", "unlock", None)]
    assert plan.risks == ["unlock"]
    plan, _ = plan_of(Intent("lock", Target(kinds=("lock",))))
    assert ops(plan) == [("lock-front", "lock", None)] and not plan.needs_confirmation
    plan, _ = plan_of(Intent("unlock", Target(kinds=("car",))))
    assert plan.risks == ["open_car"]


def test_anything_on_a_moving_car_needs_a_confirmation() -> None:
    kernel, _, _ = make_home()
    kernel.report("car", 4, 3, 48.0)
    planner = Planner(kernel)
    u = Understanding("en", (Intent("set", Target(kinds=("car",)), {"charge_limit": 80}),), "test")
    plan = planner.plan(u)
    assert ops(plan) == [("car", "set", 80)]
    assert plan.risks == ["car_moving"]


def test_car_climate_at_a_temperature() -> None:
    plan, _ = plan_of(Intent("turn_on", Target(kinds=("car",), feature="climate"), {"temperature": 22}))
    assert [(s.siid, s.iid, s.value) for s in plan.steps] == [(5, 1, True), (5, 2, 22.0)]


def test_here_without_a_room_and_an_ambiguous_kind_are_explained() -> None:
    plan, _ = plan_of(Intent("turn_on", Target(rooms=("here",), kinds=("light",))))
    assert plan.problems == [("no_speaker_room", "")] and not plan.steps
    plan, _ = plan_of(Intent("turn_on", Target(kinds=("light",))))
    assert plan.problems[0][0] == "ambiguous" and not plan.steps
    assert "which one" in render(plan, mode="done")
    plan, _ = plan_of(Intent("turn_on", Target(kinds=("light",))), room="bedroom")
    assert ops(plan) == [("light-bedroom", "turn_on", True)]


def test_questions_are_answered_from_live_state() -> None:
    plan, _ = plan_of(Intent("query", Target(rooms=("bedroom",)), {"subject": "temperature"}))
    assert [(f.did, f.value) for f in plan.facts] == [("sensor-bedroom", 23.5)]
    plan, _ = plan_of(Intent("query", Target(names=("Front Door Lock",)), {"subject": "locked"}))
    assert render(plan, mode="done") == "Front Door Lock is locked."
    plan, _ = plan_of(Intent("query", values={"subject": "on"}))
    assert [f.did for f in plan.facts] == ["ac-bedroom", "light-kitchen"]
    plan, _ = plan_of(
        Intent("query", Target(kinds=("car",)), {"subject": "battery"}),
        Intent("query", Target(kinds=("car",)), {"subject": "reach", "destination": "office"}),
    )
    text = render(plan, mode="done")
    assert "Car is at 64 %" in text and "can reach office" in text


def test_replies_are_in_the_language_of_the_request() -> None:
    plan, _ = plan_of(Intent("set", Target(names=("Living Room AC",)), {"temperature": 24}), language="zh")
    assert render(plan, mode="done") == "已完成：打开Living Room AC，把Living Room AC的温度调到24°C。"
    plan, _ = plan_of(Intent("turn_off", Target(names=("Bedroom Light",))), language="ja")
    assert render(plan, mode="would") == "実行予定（ドライラン、未実行）：Bedroom Lightをオフ。"
    plan, _ = plan_of(
        Intent("set", Target(rooms=("here",), kinds=("air-conditioner",)), {"mode": "cool"}),
        language="en",
        room="living-room",
        why="too_hot",
    )
    assert render(plan, mode="done").startswith("Done: It's hot, so: turn on Living Room AC")


def test_an_automation_in_words_gets_actions_from_its_nested_intents() -> None:
    then = Intent("turn_on", Target(names=("Hallway Light",)))
    definition = {
        "triggers": [{"type": "presence", "person": "alex", "to": "home"}],
        "conditions": [{"type": "sun", "after": "sunset"}],
    }
    plan, _ = plan_of(Intent("automation", values={"definition": definition, "then": [then]}))
    assert plan.steps == []  # nothing is sent now
    assert plan.automation is not None
    assert plan.automation["actions"] == [
        {"set": {"device": "light-hallway", "property": "2.1", "value": True}}
    ]
    assert plan.risks == ["new_automation"]
