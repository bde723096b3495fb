"""The diagnostics service and its reminders, with a stand-in detector on the simulated home."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from copilot_world import make_home
from trilink.diagnostics.base import Finding, Sample
from trilink.diagnostics.findings import MemoryReminders, ReminderBook, UnknownReminder
from trilink.diagnostics.service import Diagnostics, sample_of


class Clogged:
    """Finds 'filter_clog' while the AC's airflow is under 400 m³/h; counts resets."""

    def __init__(self, did: str) -> None:
        self.did = did
        self.last: Sample | None = None
        self.resets = 0
        self.seen = 0

    @property
    def learning(self) -> bool:
        return self.seen < 1

    def observe(self, sample: Sample) -> None:
        if sample.values.get("airflow") == -1:
            raise ValueError("a broken sample")
        self.last = sample
        self.seen += 1

    def findings(self) -> list[Finding]:
        if self.last is None or self.last.values.get("airflow", 999) >= 400:
            return []
        flow = self.last.values["airflow"]
        return [
            Finding(
                self.did,
                "filter_clog",
                1 - flow / 500,
                0.9,
                self.last.ts - 3600,
                self.last.ts,
                f"airflow {flow:.0f} m³/h against a learned 500 m³/h",
                "Clean the filter.",
                0.8,
            )
        ]

    def reset(self, ts: float) -> None:
        self.resets += 1
        self.last = None

    def state(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def restore(self, state: Mapping[str, Any]) -> None:
        self.seen = int(state["seen"])


class States:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], dict[str, Any]] = {}

    def save(self, did: str, detector: str, state: Mapping[str, Any], now: float) -> None:
        self.kept[(did, detector)] = dict(state)

    def load(self) -> dict[tuple[str, str], dict[str, Any]]:
        return dict(self.kept)


def detectors(did: str, type_name: str) -> list[Any]:
    return [Clogged(did)] if type_name == "air-conditioner" else []


async def make(states: States | None = None) -> tuple[Diagnostics, Any, list[tuple[str, str, str]]]:
    kernel, _, _ = make_home()
    told: list[tuple[str, str, str]] = []

    async def notify(person: str, title: str, message: str) -> None:
        told.append((person, title, message))

    diag = Diagnostics(kernel, MemoryReminders(), states=states, notify=notify, detectors=detectors)  # type: ignore[arg-type]
    await diag.start()
    await asyncio.sleep(0)  # the sampler is waiting on the clock
    return diag, kernel, told


def airflow(kernel: Any, did: str, value: float) -> Sample:
    kernel.report(did, 5, 3, value)
    return sample_of(kernel, did, kernel.clock.now())


async def test_a_fault_is_told_once_with_its_evidence_not_a_storm() -> None:
    diag, kernel, told = await make()
    try:
        assert set(diag.detectors) == {"ac-living", "ac-bedroom"}
        diag.observe("ac-living", airflow(kernel, "ac-living", 520))
        assert diag.reminders() == []
        for flow in (380, 370, 360, 350):
            diag.observe("ac-living", airflow(kernel, "ac-living", flow))
        await kernel.clock.advance(1)
        (reminder,) = diag.reminders()
        assert reminder.status == "open" and reminder.fault == "filter_clog"
        assert reminder.severity == pytest.approx(0.3)  # updated silently to the latest
        assert len(told) == 1
        person, title, message = told[0]
        assert person == "alex"  # the home's only person
        assert title == "Clean the AC filter"
        assert "Living Room AC: airflow 380 m³/h" in message and "Clean the filter." in message
        assert "0.8 kWh a day" in message
    finally:
        await diag.stop()


async def test_acknowledge_snooze_and_resolve() -> None:
    diag, kernel, told = await make()
    try:
        diag.observe("ac-bedroom", airflow(kernel, "ac-bedroom", 300))
        await asyncio.sleep(0)
        (r,) = diag.reminders()
        assert diag.acknowledge(r.id).status == "acknowledged"
        diag.observe("ac-bedroom", airflow(kernel, "ac-bedroom", 290))
        assert len(told) == 1  # acknowledged: not told again
        snoozed = diag.snooze(r.id, hours=24)
        assert snoozed.status == "snoozed"
        await kernel.clock.advance(12 * 3600)
        diag.observe("ac-bedroom", airflow(kernel, "ac-bedroom", 280))
        assert len(told) == 1  # still snoozed
        await kernel.clock.advance(13 * 3600)
        diag.observe("ac-bedroom", airflow(kernel, "ac-bedroom", 270))
        await kernel.clock.advance(1)
        assert len(told) == 2 and diag.reminders()[0].status == "open"  # woke up: told again
        resolved = diag.resolve(r.id)
        assert resolved.status == "resolved"
        assert diag.detectors["ac-bedroom"][0].resets == 1  # type: ignore[attr-defined]
        assert diag.reminders(active_only=True) == []
        with pytest.raises(UnknownReminder):
            diag.acknowledge(999)
        with pytest.raises(ValueError, match="future"):
            ReminderBook(MemoryReminders()).snooze(1, until=0, now=1)
    finally:
        await diag.stop()


async def test_a_broken_sample_is_counted_and_the_rest_go_on() -> None:
    diag, kernel, _ = await make()
    try:
        diag.observe("ac-living", Sample(kernel.clock.now(), {"airflow": -1}))
        assert diag.stats["errors"] == 1
        diag.observe("ac-living", airflow(kernel, "ac-living", 300))
        assert len(diag.reminders()) == 1
    finally:
        await diag.stop()


async def test_acs_are_sampled_on_the_hub_clock_and_state_is_kept() -> None:
    states = States()
    diag, kernel, _ = await make(states)
    try:
        kernel.report("ac-living", 5, 3, 510.0)
        for _ in range(3):
            await kernel.clock.advance(600.5)
        assert diag.detectors["ac-living"][0].seen == 3  # type: ignore[attr-defined]
    finally:
        await diag.stop()
    assert states.kept[("ac-living", "Clogged")] == {"seen": 3}
    again, _, _ = await make(states)
    try:
        assert again.detectors["ac-living"][0].seen == 3  # type: ignore[attr-defined]
    finally:
        await again.stop()


def test_faults_are_named_in_one_place() -> None:
    from trilink.diagnostics.base import FAULTS, fault_words

    assert fault_words("undercharge") is FAULTS["undercharge"]
    odd = fault_words("compressor_short-cycling")
    assert odd.title == "Possible fault: compressor short cycling" and odd.severity == ""
