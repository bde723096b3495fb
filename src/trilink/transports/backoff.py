"""The wait before trying a silent peer again, shared by every transport."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """Exponential backoff with jitter: attempt 0 waits about ``low``, each next one up to
    twice as long, never more than ``high``; the jitter (half to all of the ceiling) keeps
    many clients from retrying in step."""
    ceiling = min(high, low * 2 ** min(max(attempt, 0), 32))
    return max(low, random.uniform(ceiling / 2, ceiling))
