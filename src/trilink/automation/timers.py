"""Keyed timers on the hub's clock: each waits for an absolute deadline, then calls back.

Deadlines are clock times, not durations, so a timer restored after a restart fires at
the moment it was meant to (at once if that moment has passed). Time comes only from the
:class:`~trilink.clock.Clock`, so tests move it with a ``ManualClock`` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from trilink.clock import Clock

log = logging.getLogger(__name__)


class Timers:
    """Named timers; starting one under a name already in use replaces it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._tasks: dict[str, tuple[asyncio.Task[None], float]] = {}

    def start(self, key: str, deadline: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` at clock time ``deadline`` (replacing a timer of the same key)."""
        self.cancel(key)
        task = asyncio.get_running_loop().create_task(
            self._wait(key, deadline, callback), name=f"timer {key}"
        )
        self._tasks[key] = (task, deadline)

    def cancel(self, key: str) -> bool:
        """Stop a timer; returns whether there was one."""
        entry = self._tasks.pop(key, None)
        if entry is None:
            return False
        entry[0].cancel()
        return True

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel every timer and wait until they are gone."""
        tasks = [task for task, _ in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _wait(self, key: str, deadline: float, callback: Callable[[], None]) -> None:
        # a long sleep may wake early on a clock that runs at a changed pace: sleep again
        while (left := deadline - self.clock.now()) > 0:
            await self.clock.sleep(left)
        current = self._tasks.get(key)
        if current is not None and current[0] is asyncio.current_task():
            del self._tasks[key]
        try:
            callback()
        except Exception:
            log.exception("timer %s failed", key)
