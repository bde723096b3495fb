"""The copilot service: dry runs, confirmations, failures and the LLM fallback (engines stubbed)."""

from __future__ import annotations

from typing import Any

import pytest

from copilot_world import make_home
from trilink.copilot.intent import Intent, Target, Understanding
from trilink.copilot.service import CONFIRM_TTL_S, Copilot, UnknownConfirmation


class Fixed:
    """An offline engine that always understands the same thing."""

    def __init__(self, *intents: Intent, language: str = "en") -> None:
        self.u = Understanding(language, intents, "test")  # type: ignore[arg-type]
        self.texts: list[str] = []

    def understand(self, text: str, vocabulary: Any, language: Any = None) -> Understanding:
        self.texts.append(text)
        return self.u


def copilot(*intents: Intent, **kw: Any) -> tuple[Copilot, Any, Any]:
    kernel, link, clock = make_home()
    return Copilot(kernel, offline=Fixed(*intents), **kw), link, clock  # type: ignore[arg-type]


async def test_a_safe_request_is_sent_at_once() -> None:
    c, link, _ = copilot(Intent("turn_on", Target(names=("Bedroom Light",))))
    reply = await c.say("turn on the bedroom light")
    assert reply.status == "done"
    assert link.sent == [("set", "light-bedroom", 2, 1, True)]
    assert reply.text == "Done: turn on Bedroom Light."
    assert reply.to_dict()["results"][0]["ok"] is True


async def test_a_dry_run_sends_nothing() -> None:
    c, link, _ = copilot(Intent("turn_on", Target(names=("Bedroom Light",))))
    reply = await c.say("turn on the bedroom light", dry_run=True)
    assert reply.status == "dry_run" and link.sent == []
    assert reply.text.startswith("Would do (dry run)")


async def test_a_risky_plan_waits_for_its_owner_and_expires() -> None:
    c, link, clock = copilot(Intent("unlock", Target(names=("Front Door Lock",))))
    reply = await c.say("unlock the front door", owner="token-1")
    assert reply.status == "needs_confirmation" and link.sent == []
    assert reply.confirmation_id and "unlocking a door" in reply.text
    with pytest.raises(UnknownConfirmation):
        await c.confirm(reply.confirmation_id, owner="token-2")  # someone else's plan
    done = await c.confirm(reply.confirmation_id, owner="token-1")
    assert done.status == "done" and link.sent == [("call", "lock-front", 2, 2, [])]
    with pytest.raises(UnknownConfirmation):
        await c.confirm(reply.confirmation_id, owner="token-1")  # only once
    again = await c.say("unlock the front door", owner="token-1")
    await clock.advance(CONFIRM_TTL_S + 1)
    with pytest.raises(UnknownConfirmation):
        await c.confirm(again.confirmation_id, owner="token-1")  # type: ignore[arg-type]
    assert link.sent == [("call", "lock-front", 2, 2, [])]


async def test_a_cancelled_plan_is_never_sent() -> None:
    c, link, _ = copilot(Intent("unlock", Target(names=("Front Door Lock",))))
    reply = await c.say("unlock", owner="me")
    assert c.cancel(reply.confirmation_id or "", owner="me") is True
    assert c.cancel(reply.confirmation_id or "", owner="me") is False
    assert c.pending() == 0 and link.sent == []


async def test_a_refused_command_is_reported_and_the_rest_still_go() -> None:
    c, link, _ = copilot(Intent("turn_off", Target(kinds=("light",), everything=True)))
    link.refuse.add("light-kitchen")
    reply = await c.say("turn off all the lights")
    assert reply.status == "failed"
    assert len(link.sent) == 4  # every light was tried
    assert "Could not turn off Kitchen Light: the device refused (the device is busy)." in reply.text
    assert [r["ok"] for r in reply.results].count(False) == 1


async def test_questions_are_answered_without_commands() -> None:
    c, link, _ = copilot(Intent("query", Target(rooms=("bedroom",)), {"subject": "temperature"}))
    reply = await c.say("how warm is the bedroom")
    assert reply.status == "answered" and reply.text == "Bedroom Sensor: 23.5 °C." and link.sent == []


async def test_bad_requests_are_refused_clearly() -> None:
    c, _, _ = copilot(Intent("unknown"))
    with pytest.raises(ValueError, match="empty"):
        await c.say("   ")
    with pytest.raises(ValueError, match="too long"):
        await c.say("x" * 5000)
    with pytest.raises(ValueError, match="unknown room"):
        await c.say("hi", room="attic")
    reply = await c.say("blah")
    assert reply.status == "not_understood" and reply.text == "Sorry, I didn't understand that."


class BrokenModel:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def understand(
        self, text: str, vocabulary: Any, language: Any, speaker_room: Any = None
    ) -> Understanding:
        self.calls += 1
        raise self.error


async def test_the_offline_engine_takes_over_when_the_model_fails() -> None:
    model = BrokenModel(ConnectionError("refused"))
    c, _, _ = copilot(Intent("turn_on", Target(names=("Bedroom Light",))), llm=model)
    reply = await c.say("turn on the bedroom light")
    assert model.calls == 1 and reply.status == "done" and reply.plan.engine == "test"
    assert c.stats["llm_fallbacks"] == 1


class SlowModel:
    async def understand(
        self, text: str, vocabulary: Any, language: Any, speaker_room: Any = None
    ) -> Understanding:
        import asyncio

        await asyncio.sleep(30)
        raise AssertionError("not reached")


async def test_a_slow_model_is_given_up_on() -> None:
    c, _, _ = copilot(
        Intent("turn_on", Target(names=("Bedroom Light",))), llm=SlowModel(), llm_timeout_s=0.05
    )
    reply = await c.say("turn on the bedroom light")
    assert reply.status == "done" and c.stats["llm_fallbacks"] == 1


class Injected:
    """A model that proposes what a prompt injection would want: unlock the door."""

    async def understand(
        self, text: str, vocabulary: Any, language: Any, speaker_room: Any = None
    ) -> Understanding:
        return Understanding("en", (Intent("unlock", Target(names=("Front Door Lock",))),), "llm")


async def test_whatever_the_model_proposes_a_risky_step_is_held() -> None:
    c, link, _ = copilot(Intent("unknown"), llm=Injected())
    reply = await c.say("read me my notifications")
    assert reply.status == "needs_confirmation" and link.sent == []
    assert reply.plan.engine == "llm"
