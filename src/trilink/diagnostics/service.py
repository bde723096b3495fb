"""The diagnostics service: feeds detectors from live telemetry and turns findings into reminders.

Air conditioners are sampled from the kernel's state every ``sample_every_s`` seconds of
hub time (the detectors want steady operation, not every report); a car is fed on every
change of its properties (charging sessions are short). New findings become reminders
(:mod:`trilink.diagnostics.findings`) and are sent to the owner's phone with the
evidence, the advice and what the fault costs. What the detectors have learned is saved
every ``save_every_s`` and at stop, so a restart does not forget a unit's baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from trilink.diagnostics.base import Detector, Finding, Sample, fault_words
from trilink.diagnostics.findings import Reminder, ReminderBook, ReminderStore, UnknownReminder
from trilink.kernel import Context, Kernel, PropertyChanged, RegistryChanged

log = logging.getLogger(__name__)

#: a factory of the detectors for a device, by its spec's type name; ``None`` for none
DetectorFactory = Callable[[str, str], list[Detector]]
#: send a reminder to a person: (person id, title, message) → awaitable
Notify = Callable[[str, str, str], Coroutine[Any, Any, Any]]


class StateSink(Protocol):
    """Where detector state is kept (the hub's store)."""

    def save(self, did: str, detector: str, state: Mapping[str, Any], now: float) -> None:
        """Keep what one detector has learned."""
        ...

    def load(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Everything kept, by (did, detector)."""
        ...


def default_detectors(did: str, type_name: str) -> list[Detector]:
    """ACs get :class:`~trilink.diagnostics.ac.ACHealth`, electric cars
    :class:`~trilink.diagnostics.ev.BatteryHealth`; other devices none."""
    if type_name == "air-conditioner":
        from trilink.diagnostics.ac import ACHealth

        return [ACHealth(did)]
    if type_name == "electric-car":
        from trilink.diagnostics.ev import BatteryHealth

        return [BatteryHealth(did)]
    return []


def sample_of(kernel: Kernel, did: str, ts: float) -> Sample:
    """A device's current readings as a sample, by property name (numbers and booleans only)."""
    device = kernel.registry.devices[did]
    values: dict[str, float] = {}
    for (siid, piid), (value, _) in kernel.state.of(did).items():
        prop = device.spec.properties.get((siid, piid))
        if prop is None or isinstance(value, str):
            continue
        values.setdefault(prop.name, float(value))
    return Sample(ts, values)


class Diagnostics:
    """Runs the detectors of one home and keeps its maintenance reminders."""

    def __init__(
        self,
        kernel: Kernel,
        reminders: ReminderStore,
        *,
        home_id: str = "home",
        states: StateSink | None = None,
        notify: Notify | None = None,
        detectors: DetectorFactory = default_detectors,
        sample_every_s: float = 600.0,
        save_every_s: float = 3600.0,
    ) -> None:
        self.kernel = kernel
        self.book = ReminderBook(reminders)
        self.home_id = home_id
        self.states = states
        self.notify = notify
        self.factory = detectors
        self.sample_every_s = sample_every_s
        self.save_every_s = save_every_s
        self.detectors: dict[str, list[Detector]] = {}
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self.stats = {"samples": 0, "findings": 0, "reminders_sent": 0, "errors": 0}

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Build the detectors (resuming their state) and start sampling."""
        self._refresh()
        self._unsubscribe = self.kernel.bus.subscribe(self._on_event, PropertyChanged, RegistryChanged)
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="diagnostics")

    async def stop(self) -> None:
        """Stop sampling and save what the detectors have learned."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.save()

    def _refresh(self) -> None:
        kept = self.states.load() if self.states is not None else {}
        for did, device in self.kernel.registry.devices.items():
            if did in self.detectors or device.home_id not in (self.home_id, None):
                continue
            made = self.factory(did, device.spec.name)
            for detector in made:
                state = kept.get((did, type(detector).__name__))
                if state is not None:
                    try:
                        detector.restore(state)
                    except Exception:  # a state from an older version: learn anew
                        log.warning("%s: could not resume %s; learning anew", did, type(detector).__name__)
            if made:
                self.detectors[did] = made
        for did in [d for d in self.detectors if d not in self.kernel.registry.devices]:
            del self.detectors[did]

    def save(self) -> None:
        """Keep every detector's state in the store."""
        if self.states is None:
            return
        now = self.kernel.clock.now()
        for did, detectors in self.detectors.items():
            for detector in detectors:
                try:
                    self.states.save(did, type(detector).__name__, detector.state(), now)
                except Exception:
                    self.stats["errors"] += 1
                    log.exception("%s: saving %s failed", did, type(detector).__name__)

    # ---------------------------------------------------------------- feeding
    def _on_event(self, event: Any) -> None:
        if type(event) is RegistryChanged:
            self._refresh()
            return
        detectors = self.detectors.get(event.did)
        if not detectors:
            return
        device = self.kernel.registry.devices.get(event.did)
        if device is not None and device.spec.name == "electric-car":
            self.observe(event.did, sample_of(self.kernel, event.did, event.ts))

    async def _loop(self) -> None:
        clock = self.kernel.clock
        last_save = clock.now()
        while True:
            await clock.sleep(self.sample_every_s)
            now = clock.now()
            for did in list(self.detectors):
                device = self.kernel.registry.devices.get(did)
                if device is None or device.spec.name == "electric-car":
                    continue
                if self.kernel.state.is_online(did):
                    self.observe(did, sample_of(self.kernel, did, now))
            if now - last_save >= self.save_every_s:
                self.save()
                last_save = now

    def observe(self, did: str, sample: Sample) -> list[Reminder]:
        """Feed one sample to a device's detectors; returns the reminders it opened."""
        opened: list[Reminder] = []
        for detector in self.detectors.get(did, []):
            try:
                detector.observe(sample)
                findings = detector.findings()
            except Exception:  # one bad sample or detector must not stop the others
                self.stats["errors"] += 1
                log.exception("%s: %s failed on a sample", did, type(detector).__name__)
                continue
            self.stats["samples"] += 1
            for finding in findings:
                reminder, tell = self.book.report(finding, sample.ts)
                self.stats["findings"] += 1
                if tell:
                    opened.append(reminder)
                    self._tell(finding, reminder)
        return opened

    def _tell(self, finding: Finding, reminder: Reminder) -> None:
        person = self._owner(finding.did)
        if self.notify is None or person is None:
            return
        title = fault_words(finding.fault).notification
        device = self.kernel.registry.devices.get(finding.did)
        name = device.name if device is not None else finding.did
        cost = (
            f" It is costing about {finding.energy_kwh_per_day:.2g} kWh a day."
            if finding.energy_kwh_per_day
            else ""
        )
        message = f"{name}: {finding.evidence} {finding.advice}{cost}"
        task = asyncio.get_running_loop().create_task(self.notify(person, title, message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        self.stats["reminders_sent"] += 1

    def _owner(self, did: str) -> str | None:
        device = self.kernel.registry.devices.get(did)
        if device is not None and device.owner_id is not None:
            return device.owner_id
        people = [p for p in self.kernel.registry.people.values() if p.home_id == self.home_id]
        owners = [p for p in people if p.role == "owner"] or people
        return owners[0].id if owners else None

    # ---------------------------------------------------------------- people
    def acknowledge(self, reminder_id: int) -> Reminder:
        """Seen. Raises :class:`UnknownReminder`."""
        return self.book.acknowledge(reminder_id, self.kernel.clock.now())

    def snooze(self, reminder_id: int, hours: float) -> Reminder:
        """Ask again in ``hours`` if the fault is still there."""
        now = self.kernel.clock.now()
        return self.book.snooze(reminder_id, now + hours * 3600, now)

    def resolve(self, reminder_id: int) -> Reminder:
        """Serviced: the reminder closes and the unit's detectors learn a new baseline."""
        now = self.kernel.clock.now()
        reminder = self.book.resolve(reminder_id, now)
        for detector in self.detectors.get(reminder.did, []):
            detector.reset(now)
        self.save()
        return reminder

    def reminders(self, *, active_only: bool = False, limit: int = 100) -> list[Reminder]:
        """Reminders, newest first."""
        items = self.book.active() if active_only else self.book.recent(limit)
        return sorted(items, key=lambda r: r.id, reverse=True)[:limit]

    def status(self, did: str) -> dict[str, Any]:
        """What the detectors of a device believe now (their findings and learned state)."""
        detectors = self.detectors.get(did)
        if detectors is None:
            raise KeyError(did)
        return {
            "did": did,
            "detectors": [
                {
                    "name": type(d).__name__,
                    "learning": d.learning,
                    "findings": [f.fault for f in d.findings()],
                    "state": d.state(),
                }
                for d in detectors
            ],
        }


__all__ = ["Diagnostics", "UnknownReminder", "default_detectors", "sample_of"]


def context() -> Context:
    """The context diagnostics' own commands run with (notifications)."""
    return Context.new("system", "diagnostics")
