"""A logger that a flood of bad messages cannot fill, shared by every transport."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RateLimitedLog:
    """Log at most ``burst`` messages per key in each ``interval`` seconds.

    Messages over the limit are counted, and the count is logged when the key's next
    window opens, so a device sending a thousand bad messages a second costs a few lines
    of log, not a full disk.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        interval: float = 10.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._burst = burst
        self._interval = interval
        self._now = now
        # key -> [window start, logged in window, suppressed in window]
        self._windows: dict[str, list[float]] = {}
        #: messages not logged because of the limit, over the whole lifetime
        self.suppressed = 0

    def log(self, level: int, key: str, message: str, *args: object) -> bool:
        """Log ``message % args`` under ``key`` unless the key is over its limit.

        Returns whether the message was logged.
        """
        if not self._logger.isEnabledFor(level):
            return False
        now = self._now()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self._interval:
            if window is not None and window[2]:
                self._logger.log(
                    level,
                    "%d more %r messages were not logged in the last %.0f s",
                    window[2],
                    key,
                    now - window[0],
                )
            if len(self._windows) >= 1024:
                # keys are a small fixed set in practice; a bound keeps a bug from leaking memory
                self._windows.clear()
            window = self._windows[key] = [now, 0, 0]
        if window[1] < self._burst:
            window[1] += 1
            self._logger.log(level, message, *args)
            return True
        window[2] += 1
        self.suppressed += 1
        return False

    def warning(self, key: str, message: str, *args: object) -> bool:
        """:meth:`log` at WARNING."""
        return self.log(logging.WARNING, key, message, *args)
