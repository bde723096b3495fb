"""Run modes: single, restart, queued and parallel (with max), and the traces of dropped triggers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from test_automation_engine import T0, World, make_world
from trilink.automation.modes import RunGate


@pytest.fixture
async def world() -> AsyncIterator[World]:
    w = await make_world()
    yield w
    await w.engine.stop()


def automation(mode: str, extra: str = "") -> str:
    return f"""
automations:
  - id: slow
    mode: {mode}
    {extra}
    triggers: [{{type: webhook, id: slow-hook-id}}]
    actions:
      - set: {{device: light-living, property: 2.1, value: true}}
      - delay: 60 s
      - set: {{device: light-kitchen, property: 2.1, value: true}}
"""


async def fire(world: World, times: int) -> None:
    for _ in range(times):
        world.engine.webhook("slow-hook-id", {})
        await world.settle()


async def test_single_drops_a_trigger_while_running_and_says_so(world: World) -> None:
    await world.load(automation("single"))
    await fire(world, 2)
    (skipped,) = await world.runs("slow", kind="not-run")
    assert skipped["outcome"] == "skipped: already running (mode single)"
    why = world.engine.why_not("slow")
    assert (
        why is not None
        and why["message"] == "did not run at 16:00:00: skipped: already running (mode single)"
    )
    assert world.engine.automations()[0].running == 1
    await world.advance(60, step=20)
    (run,) = await world.runs("slow")
    assert run["outcome"] == "finished"
    assert len(world.link.sets("light-kitchen")) == 1
    assert world.engine.stats["skipped"] == 1


async def test_restart_cancels_the_running_run(world: World) -> None:
    await world.load(automation("restart"))
    await fire(world, 1)
    await world.advance(30, step=10)
    await fire(world, 1)
    (cancelled,) = await world.runs("slow")
    assert cancelled["outcome"] == "cancelled by restart"
    await world.advance(59, step=10)
    assert world.link.sets("light-kitchen") == []  # the first run never got there
    await world.advance(1)
    runs = await world.runs("slow", 2)
    assert runs[1]["outcome"] == "finished" and runs[1]["ended"] == T0 + 90
    assert len(world.link.sets("light-kitchen")) == 1
    assert world.store.pending == {}


async def test_queued_runs_one_after_another_up_to_max(world: World) -> None:
    await world.load(automation("queued", "max: 2"))
    await fire(world, 3)
    (skipped,) = await world.runs("slow", kind="not-run")
    assert skipped["outcome"] == "skipped: the queue is full (mode queued, max 2)"
    await world.advance(60, step=10)
    await world.runs("slow")
    assert len(world.link.sets("light-living")) == 2  # the queued run started when the first ended
    await world.advance(60, step=10)
    runs = await world.runs("slow", 2)
    assert [r["ended"] for r in runs] == [T0 + 60, T0 + 120]
    assert runs[1]["started"] == T0  # triggered at once, ran when its turn came
    assert len(world.link.sets("light-kitchen")) == 2


async def test_parallel_runs_together_up_to_max(world: World) -> None:
    await world.load(automation("parallel", "max: 2"))
    await fire(world, 3)
    (skipped,) = await world.runs("slow", kind="not-run")
    assert skipped["outcome"] == "skipped: 2 runs already running (mode parallel, max 2)"
    assert world.engine.automations()[0].running == 2
    await world.advance(60, step=10)
    runs = await world.runs("slow", 2)
    assert [r["ended"] for r in runs] == [T0 + 60, T0 + 60]
    assert len(world.link.sets("light-kitchen")) == 2


def test_run_gate_decisions() -> None:
    gate: RunGate[str] = RunGate("queued", 3)
    assert gate.admit("a").start
    assert gate.admit("b").queued and gate.admit("c").queued
    assert gate.admit("d").skip is not None
    assert gate.finished("a") == "b"
    assert gate.running == ["b"] and list(gate.waiting) == ["c"]
    restart: RunGate[str] = RunGate("restart")
    restart.admit("a")
    admission = restart.admit("b")
    assert admission.start and admission.cancel == ("a",) and restart.running == ["b"]
