"""The copilot service with its real parts: the LLM engine against the local test server,
the offline fallback, and automations in words saved into the real automation engine."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from copilot_world import make_home
from llm_server import FakeLLM, call, error_reply, tool_reply
from trilink.automation import AutomationEngine, MemoryAutomationStore
from trilink.copilot.llm import LLMEngine
from trilink.copilot.llm_settings import LLMSettings
from trilink.copilot.service import Copilot


@pytest.fixture
async def server() -> AsyncIterator[FakeLLM]:
    s = FakeLLM()
    await s.start()
    yield s
    await s.stop()


async def test_the_models_plan_is_validated_and_sent(server: FakeLLM) -> None:
    kernel, link, _ = make_home()
    settings = LLMSettings(base_url=server.base_url, model=server.model, api_key=server.api_key, timeout_s=3)
    llm = LLMEngine.for_kernel(settings, kernel)
    try:
        copilot = Copilot(kernel, llm=llm)
        server.push(
            tool_reply(
                call(
                    "control",
                    {"intent": "set", "names": ["Bedroom AC (2.6 kW)"], "values": {"temperature": 23}},
                )
            )
        )
        reply = await copilot.say("bedroom a bit warmer please, 23")
        assert reply.status == "done" and reply.plan.engine == "llm", reply.text
        assert ("set", "ac-bedroom", 2, 3, 23.0) in link.sent
        assert server.violations == []
        # a value the spec refuses is reported, not sent
        server.push(
            tool_reply(
                call(
                    "control",
                    {"intent": "set", "names": ["Bedroom AC (2.6 kW)"], "values": {"temperature": 40}},
                )
            )
        )
        link.sent.clear()
        reply = await copilot.say("make the bedroom 40 degrees")
        assert link.sent == [] and reply.plan.problems and reply.plan.problems[0][0] == "invalid"
        # the model proposes an unlock: held, whatever it says
        server.push(tool_reply(call("control", {"intent": "unlock", "names": ["Front Door Lock"]})))
        reply = await copilot.say("let my friend in")
        assert reply.status == "needs_confirmation" and link.sent == []
        # the server fails: the offline engine answers instead
        server.push(error_reply(500, "overloaded"))
        reply = await copilot.say("关掉厨房的灯")
        assert reply.status == "done" and reply.plan.engine != "llm"
        assert ("set", "light-kitchen", 2, 1, False) in link.sent
        assert copilot.stats["llm_fallbacks"] == 1
    finally:
        await llm.aclose()


async def test_an_automation_in_words_is_saved_only_when_confirmed() -> None:
    kernel, _, _ = make_home()
    engine = AutomationEngine(kernel, MemoryAutomationStore())
    await engine.start()
    try:
        copilot = Copilot(kernel, automations=engine)
        reply = await copilot.say("when I get home after dark, turn on the hallway light", owner="me")
        assert reply.status == "needs_confirmation", reply.text
        assert reply.plan.risks == ["new_automation"]
        definition = reply.plan.automation
        assert definition is not None and engine.automations() == []
        assert definition["actions"] == [
            {"set": {"device": "light-hallway", "property": "2.1", "value": True}}
        ]
        assert [t["type"] for t in definition["triggers"]] == ["presence"]
        done = await copilot.confirm(reply.confirmation_id or "", owner="me")
        assert done.status == "done" and done.automation_id is not None
        (info,) = engine.automations()
        assert info.id == done.automation_id and info.enabled
    finally:
        await engine.stop()


async def test_an_automation_in_words_that_would_not_load_is_refused_before_confirming() -> None:
    kernel, _, _ = make_home()
    engine = AutomationEngine(kernel, MemoryAutomationStore())
    await engine.start()
    try:
        copilot = Copilot(kernel, automations=engine)
        # a nested action the planner cannot make: there is no such device
        reply = await copilot.say("when I get home, turn on the sauna", owner="me")
        assert reply.status != "needs_confirmation" and reply.confirmation_id is None
        assert engine.automations() == []
    finally:
        await engine.stop()
