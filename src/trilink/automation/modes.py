"""Run modes: what happens when an automation triggers while it is already running.

- ``single``: the new trigger is dropped (and traced as skipped);
- ``restart``: the running run is cancelled and the new one starts;
- ``queued``: the new run waits for the running one; at most ``max`` running and waiting;
- ``parallel``: runs overlap, at most ``max`` at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from trilink.automation.definitions import DEFAULT_MAX_RUNS, RunMode

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Admission(Generic[R]):
    """The gate's answer for a new run: start it now, queue it, or skip it (with the reason).

    ``cancel`` lists the runs a ``restart`` replaces; they are no longer counted as running.
    """

    start: bool = False
    queued: bool = False
    skip: str | None = None
    cancel: tuple[R, ...] = ()


@dataclass
class RunGate(Generic[R]):
    """The runs of one automation: which are running and which wait their turn."""

    mode: RunMode = "single"
    max_runs: int = DEFAULT_MAX_RUNS
    running: list[R] = field(default_factory=list)
    waiting: deque[R] = field(default_factory=deque)

    def admit(self, run: R) -> Admission[R]:
        """Decide about a new run and record it as running or waiting if admitted."""
        if self.mode == "single" and self.running:
            return Admission(skip="skipped: already running (mode single)")
        if self.mode == "parallel" and len(self.running) >= self.max_runs:
            return Admission(
                skip=f"skipped: {len(self.running)} runs already running (mode parallel, max {self.max_runs})"
            )
        if self.mode == "queued" and self.running:
            if len(self.running) + len(self.waiting) >= self.max_runs:
                return Admission(skip=f"skipped: the queue is full (mode queued, max {self.max_runs})")
            self.waiting.append(run)
            return Admission(queued=True)
        cancel: tuple[R, ...] = ()
        if self.mode == "restart" and self.running:
            cancel, self.running = tuple(self.running), []
        self.running.append(run)
        return Admission(start=True, cancel=cancel)

    def resumed(self, run: R) -> None:
        """Count a run restored after a restart as running, whatever the mode says."""
        self.running.append(run)

    def finished(self, run: R) -> R | None:
        """A run ended; returns the waiting run to start next, if any."""
        if run in self.running:
            self.running.remove(run)
        elif run in self.waiting:
            self.waiting.remove(run)
            return None
        if self.waiting and (self.mode != "queued" or not self.running):
            following = self.waiting.popleft()
            self.running.append(following)
            return following
        return None

    def clear(self) -> list[R]:
        """Forget every run (the automation goes away); returns the ones that were running or waiting."""
        runs = [*self.running, *self.waiting]
        self.running.clear()
        self.waiting.clear()
        return runs
