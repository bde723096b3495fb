"""Durability: pending ``for`` timers, delays and waits survive a restart and fire exactly once.

A restart is a new kernel (its state restored, as the hub restores it from its store) and a
new engine on the same ``MemoryAutomationStore``, on the same ``ManualClock``; time "while
the hub is down" is clock time that passes with no engine running. A crash is a new engine
built while the old one is stuck mid-action and was never stopped.
"""

from __future__ import annotations

import logging

import pytest

from test_automation_engine import T0, World, make_kernel, make_world
from trilink.automation import AutomationEngine
from trilink.automation.engine import RESUME_GRACE

FOR_10_MIN = """
automations:
  - id: hall
    triggers: [{type: property, device: light-hallway, property: 2.1, to: true, for: 10 min}]
    actions:
      - set: {device: light-hallway, property: 2.1, value: false}
      - set: {device: light-kitchen, property: 2.1, value: true}
"""

DELAY_IN_A_BRANCH = """
automations:
  - id: later
    triggers: [{type: webhook, id: later-hook-1}]
    actions:
      - set: {device: light-living, property: 2.1, value: true}
      - if: [{type: online, device: light-living}]
        then:
          - delay: 10 min
          - notify: {person: sam, title: Later, message: "asked by {{ trigger.payload.who }}"}
          - set: {device: light-living, property: 2.1, value: false}
"""

WAIT_FOR_THE_DOOR = """
automations:
  - id: door
    triggers: [{type: webhook, id: door-hook-1}]
    actions:
      - wait: {trigger: {type: property, device: light-hallway, property: 2.1, to: true}, timeout: 5 min}
      - choose:
          - conditions: [{type: waited, completed: true}]
            actions: [{set: {device: light-kitchen, property: 2.1, value: true}}]
        default:
          - call: {device: lock-front, action: lock.lock}
"""


async def restart(old: World, *, down: float = 0.0, stop: bool = True) -> World:
    """A new hub on the same store and clock after ``down`` seconds with no engine running."""
    if stop:
        await old.engine.stop()
    if down:
        await old.clock.advance(down)
    kernel, link = make_kernel(old.clock)
    for did, readings in old.kernel.state.values.items():
        kernel.restore(did, dict(readings))
    engine = AutomationEngine(kernel, old.store)
    new = World(old.clock, kernel, link, old.store, engine)
    await engine.start()
    return new


async def started_for(text: str = FOR_10_MIN) -> World:
    w = await make_world()
    await w.load(text)
    w.kernel.report("light-hallway", 2, 1, True)
    await w.settle()
    record = w.store.pending["for/hall/0"]
    assert record["deadline"] == T0 + 600 and record["kind"] == "for"
    return w


@pytest.mark.parametrize("elapsed", [0, 300, 540])
async def test_a_pending_for_fires_at_its_deadline_after_a_restart(elapsed: float) -> None:
    w = await started_for()
    await w.advance(elapsed, step=30)
    w = await restart(w, down=30)
    try:
        assert w.engine.automations()[0].pending_timers == 1
        await w.advance(T0 + 600 - w.clock.now() - 1, step=30)
        assert w.count("hall") == 0
        await w.advance(1)
        (trace,) = await w.runs("hall")
        assert trace["trigger"]["values"]["ts"] == T0 + 600
        assert trace["started"] == T0 + 600
        assert w.store.pending == {}
        await w.advance(1200, step=60)
        assert w.count("hall") == 1 and len(w.link.sets("light-kitchen")) == 1
    finally:
        await w.engine.stop()


async def test_a_for_whose_deadline_passed_while_down_fires_once_at_start() -> None:
    w = await started_for()
    await w.advance(300, step=60)
    w = await restart(w, down=3600)
    try:
        assert w.count("hall") == 0  # not before the devices had RESUME_GRACE to report again
        await w.advance(RESUME_GRACE)
        (trace,) = await w.runs("hall")
        assert trace["started"] == T0 + 3900 + RESUME_GRACE
        assert trace["trigger"]["values"]["ts"] == T0 + 3900 + RESUME_GRACE
        assert w.store.pending == {}
        w2 = await restart(w)  # and never again
        w = w2
        await w.advance(1200, step=60)
        assert w.count("hall") == 1
    finally:
        await w.engine.stop()


async def test_a_for_whose_state_changed_while_down_does_not_fire() -> None:
    w = await started_for()
    await w.engine.stop()
    # the light was switched off while the hub was down: the restored state says so
    w.kernel.restore("light-hallway", {(2, 1): (False, T0 + 100)})
    w = await restart(w, down=1200, stop=False)
    try:
        await w.advance(600, step=60)
        assert w.count("hall") == 0 and w.store.pending == {}
    finally:
        await w.engine.stop()


async def test_a_crash_after_the_for_fired_does_not_fire_it_again() -> None:
    w = await started_for()
    w.link.silent.add("light-hallway")  # the hub dies in the middle of the first action
    await w.advance(600, step=60)
    assert w.link.sets("light-hallway") and "for/hall/0" not in w.store.pending
    crashed = w
    w = await restart(crashed, stop=False)
    try:
        await w.advance(1800, step=60)
        assert w.link.sent == [] and w.count("hall") == 0
    finally:
        await w.engine.stop()
        await crashed.engine.stop()


async def test_a_delay_resumes_at_the_same_step_with_the_same_variables() -> None:
    w = await make_world()
    await w.load(DELAY_IN_A_BRANCH)
    w.engine.webhook("later-hook-1", {"who": "alex"})
    await w.settle()
    await w.advance(240, step=60)
    (record,) = w.store.pending.values()
    assert record["path"] == [1, "then", 0] and record["deadline"] == T0 + 600
    assert record["variables"]["trigger"]["payload"] == {"who": "alex"}
    w = await restart(w, down=60)
    try:
        await w.advance(T0 + 599 - w.clock.now(), step=60)
        assert w.link.sent == []
        await w.advance(1)
        (trace,) = await w.runs("later")
        assert trace["outcome"] == "finished" and trace["ended"] == T0 + 600
        assert [a["path"] for a in trace["actions"]] == [
            [0],
            [1],
            [1, "then", 0],
            [1, "then", 1],
            [1, "then", 2],
        ]
        assert trace["actions"][2]["started"] == T0 and trace["actions"][2]["ended"] == T0 + 600
        assert any("resumed" in note for note in trace["notes"])
        assert w.engine.notifications()[0]["message"] == "asked by alex"
        assert [s[1:5] for s in w.link.sets()] == [("light-living", 2, 1, False)]
        assert w.store.pending == {}
        await w.advance(1200, step=60)
        assert len(w.link.sent) == 1
    finally:
        await w.engine.stop()


async def test_a_delay_that_ended_while_down_continues_once_at_start() -> None:
    w = await make_world()
    await w.load(DELAY_IN_A_BRANCH)
    w.engine.webhook("later-hook-1", {"who": "sam"})
    await w.settle()
    w = await restart(w, down=7200)
    try:
        (trace,) = await w.runs("later")
        assert trace["ended"] == T0 + 7200
        w2 = await restart(w)
        w = w2
        await w.advance(600, step=60)
        assert w.count("later") == 1
    finally:
        await w.engine.stop()


async def test_a_crash_between_steps_after_a_delay_does_not_repeat_it() -> None:
    w = await make_world()
    await w.load(DELAY_IN_A_BRANCH)
    w.engine.webhook("later-hook-1", {"who": "alex"})
    await w.settle()
    w.link.silent.add("phone-alex")
    w.kernel.registry.people["sam"] = w.kernel.registry.people["alex"]  # sam's notification goes to a phone
    w.link.silent.add("light-living")
    await w.advance(600, step=60)
    assert w.store.pending == {}
    crashed = w
    w = await restart(crashed, stop=False)
    try:
        await w.advance(1200, step=60)
        assert w.link.sent == []
    finally:
        await w.engine.stop()
        await crashed.engine.stop()


async def test_a_wait_resumes_and_completes_when_its_trigger_comes() -> None:
    w = await make_world()
    await w.load(WAIT_FOR_THE_DOOR)
    w.engine.webhook("door-hook-1", {})
    await w.settle()
    await w.advance(120, step=60)
    (record,) = w.store.pending.values()
    assert record["step"] == "wait" and record["deadline"] == T0 + 300
    w = await restart(w, down=60)
    try:
        w.kernel.report("light-hallway", 2, 1, True)
        (trace,) = await w.runs("door")
        assert trace["actions"][1]["details"]["chosen"] == 0
        assert [s[1] for s in w.link.sets()] == ["light-kitchen"] and w.link.calls() == []
        assert w.store.pending == {}
    finally:
        await w.engine.stop()


async def test_a_wait_that_timed_out_while_down_continues_at_start() -> None:
    w = await make_world()
    await w.load(WAIT_FOR_THE_DOOR)
    w.engine.webhook("door-hook-1", {})
    await w.settle()
    w = await restart(w, down=900)
    try:
        (trace,) = await w.runs("door")
        assert trace["actions"][0]["details"]["completed"] is False
        assert trace["actions"][1]["details"]["chosen"] == "default"
        assert [c[1] for c in w.link.calls()] == ["lock-front"]
        w.kernel.report("light-hallway", 2, 1, True)
        await w.advance(600, step=60)
        assert w.count("door") == 1 and w.link.sets() == []
    finally:
        await w.engine.stop()


@pytest.mark.parametrize("change", ["edited", "removed"])
async def test_pending_state_of_an_automation_changed_while_down_is_dropped(
    caplog: pytest.LogCaptureFixture, change: str
) -> None:
    w = await started_for()
    await w.engine.stop()
    if change == "edited":
        w.store.documents[("automation", "hall")].data["triggers"][0]["for"] = "5 min"
    else:
        w.store.delete_document("automation", "hall")
    caplog.set_level(logging.INFO, logger="trilink.automation.engine")
    w = await restart(w, stop=False)
    try:
        assert w.store.pending == {}
        assert any("changed or removed while the hub was down" in r.message for r in caplog.records)
        await w.advance(900, step=60)
        assert w.link.sent == []  # an edited definition waits for a new change
    finally:
        await w.engine.stop()


async def test_replacing_or_removing_an_automation_drops_its_pending_state() -> None:
    w = await make_world()
    try:
        await w.load(DELAY_IN_A_BRANCH)
        w.engine.webhook("later-hook-1", {"who": "alex"})
        await w.settle()
        assert len(w.store.pending) == 1
        await w.load(DELAY_IN_A_BRANCH.replace("10 min", "20 min"))
        (trace,) = await w.runs("later")
        assert trace["outcome"] == "cancelled: the automation was replaced"
        assert w.store.pending == {}
        w.engine.webhook("later-hook-1", {"who": "alex"})
        await w.settle()
        w.engine.remove("later")
        assert w.store.pending == {}
        await w.settle()
        assert w.engine.stats["running"] == 0
        assert w.store.traces("later")[0]["outcome"] == "cancelled: the automation was removed"
    finally:
        await w.engine.stop()


async def test_definitions_and_traces_survive_a_restart() -> None:
    w = await make_world()
    await w.load(FOR_10_MIN)
    w.engine.set_enabled("hall", False)
    w = await restart(w)
    try:
        (info,) = w.engine.automations()
        assert info.id == "hall" and info.enabled is False
        w.engine.set_enabled("hall", True)
        w.kernel.report("light-hallway", 2, 1, True)
        await w.settle()
        await w.advance(600, step=60)
        await w.runs("hall")
        w2 = await restart(w)
        w = w2
        assert w.engine.traces("hall")[0]["outcome"] == "finished"
    finally:
        await w.engine.stop()
