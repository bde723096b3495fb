"""Small statistics the detectors share: a conditioned baseline, a time-weighted CUSUM, an EW mean.

All of it is plain Python with JSON-able state, so a detector's ``state()`` is a dict of
these pieces' ``state()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solve ``a · x = b`` by Gaussian elimination with partial pivoting (small, dense systems)."""
    n = len(b)
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            raise ValueError("singular system")
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


class ConditionedBaseline:
    """``y ≈ c[key] + Σ b_i · x_i``: an intercept per operating key (fan speed) and shared slopes.

    Rows are collected while learning; :meth:`fit` solves a ridge regression (the slopes
    are pulled towards zero by ``ridge`` per row, so a short baseline with little spread
    in the conditions falls back to per-key means instead of extrapolating wildly).
    """

    def __init__(self, n_inputs: int, ridge: float = 0.05) -> None:
        self.n_inputs = n_inputs
        self.ridge = ridge
        self.rows: list[tuple[str, list[float], float, float]] = []  # key, x, y, weight
        self.intercepts: dict[str, float] = {}
        self.slopes: list[float] = [0.0] * n_inputs
        self.rms: float = 0.0
        #: the range of each input seen while learning (empty before the first row)
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, key: str, x: Sequence[float], y: float, weight: float = 1.0) -> None:
        """One learning row."""
        self.rows.append((key, list(x), y, weight))
        if not self.lo:
            self.lo, self.hi = list(x), list(x)
        else:
            self.lo = [min(a, b) for a, b in zip(self.lo, x, strict=True)]
            self.hi = [max(a, b) for a, b in zip(self.hi, x, strict=True)]

    def covers(self, x: Sequence[float], margins: Sequence[float]) -> bool:
        """Whether ``x`` lies within the learned range of every input, widened by ``margins``.

        A regression fitted on a few evenings must not be trusted far outside them.
        """
        if not self.lo:
            return False
        return all(lo - m <= v <= hi + m for v, lo, hi, m in zip(x, self.lo, self.hi, margins, strict=True))

    def fit(self) -> None:
        """Solve for the intercepts and slopes from the rows collected so far."""
        keys = sorted({k for k, _, _, _ in self.rows})
        if not keys:
            return
        p = len(keys) + self.n_inputs
        xtx = [[0.0] * p for _ in range(p)]
        xty = [0.0] * p
        total = 0.0
        for key, x, y, w in self.rows:
            z = [1.0 if k == key else 0.0 for k in keys] + x
            total += w
            for i in range(p):
                if z[i]:
                    xty[i] += w * z[i] * y
                    for j in range(p):
                        xtx[i][j] += w * z[i] * z[j]
        for i in range(len(keys), p):
            xtx[i][i] += self.ridge * total
        coef = solve(xtx, xty)
        self.intercepts = dict(zip(keys, coef[: len(keys)], strict=True))
        self.slopes = coef[len(keys) :]
        sq = sum(w * (y - self.predict(k, x)) ** 2 for k, x, y, w in self.rows)
        self.rms = math.sqrt(sq / total) if total > 0 else 0.0
        self.rows = []

    def knows(self, key: str) -> bool:
        """Whether the fitted baseline has an intercept for ``key``."""
        return key in self.intercepts

    def predict(self, key: str, x: Sequence[float]) -> float:
        """The baseline's value for ``key`` under conditions ``x``."""
        return self.intercepts[key] + sum(b * v for b, v in zip(self.slopes, x, strict=True))

    def state(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "rows": [[k, x, y, w] for k, x, y, w in self.rows],
            "intercepts": dict(self.intercepts),
            "slopes": list(self.slopes),
            "rms": self.rms,
            "lo": list(self.lo),
            "hi": list(self.hi),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`."""
        self.rows = [(str(k), [float(v) for v in x], float(y), float(w)) for k, x, y, w in state["rows"]]
        self.intercepts = {str(k): float(v) for k, v in state["intercepts"].items()}
        self.slopes = [float(v) for v in state["slopes"]]
        self.rms = float(state["rms"])
        self.lo = [float(v) for v in state.get("lo", [])]
        self.hi = [float(v) for v in state.get("hi", [])]


class Cusum:
    """One-sided CUSUM over time: ``S ← max(0, S + w·(x − k))`` with ``w`` the hours a value covers.

    ``k`` is the deviation tolerated indefinitely; the alarm needs ``S ≥ h``, so a deviation
    ``d > k`` must persist about ``h / (d − k)`` hours. ``since`` is when S last left zero.
    S is capped at ``cap × h`` so a long-standing alarm can clear in bounded time.
    """

    def __init__(self, k: float, h: float, cap: float = 3.0) -> None:
        self.k, self.h, self.cap = k, h, cap
        self.s = 0.0
        self.since: float | None = None
        self.hours = 0.0  # steady hours since S left zero

    def update(self, ts: float, x: float, hours: float) -> None:
        """Add a deviation ``x`` that held for ``hours``."""
        s = max(0.0, min(self.cap * self.h, self.s + hours * (x - self.k)))
        if s <= 0.0:
            self.since, self.hours = None, 0.0
        else:
            if self.s <= 0.0 or self.since is None:
                self.since, self.hours = ts, 0.0
            self.hours += hours
        self.s = s

    @property
    def alarm(self) -> bool:
        """Whether the evidence has accumulated past ``h``."""
        return self.s >= self.h

    def state(self) -> dict[str, Any]:
        """JSON-able state."""
        return {"s": self.s, "since": self.since, "hours": self.hours}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`."""
        self.s = float(state["s"])
        self.since = None if state["since"] is None else float(state["since"])
        self.hours = float(state["hours"])


class EwMean:
    """An exponentially weighted mean over time, with time constant ``tau`` (same unit as weights)."""

    def __init__(self, tau: float) -> None:
        self.tau = tau
        self.value: float | None = None

    def update(self, x: float, weight: float) -> None:
        """Blend in ``x`` that held for ``weight`` (e.g. hours)."""
        if self.value is None:
            self.value = x
        else:
            a = 1.0 - math.exp(-weight / self.tau)
            self.value += a * (x - self.value)

    def state(self) -> float | None:
        """JSON-able state."""
        return self.value

    def restore(self, value: float | None) -> None:
        """Resume from :meth:`state`."""
        self.value = None if value is None else float(value)


class WindowMean:
    """The weighted mean of the values covering the last ``span`` (e.g. steady hours)."""

    def __init__(self, span: float) -> None:
        self.span = span
        self.items: list[tuple[float, float]] = []  # (weight, value), oldest first

    def update(self, x: float, weight: float) -> None:
        """Add ``x`` that held for ``weight``; drop what falls out of the span."""
        self.items.append((weight, x))
        total = sum(w for w, _ in self.items)
        while len(self.items) > 1 and total - self.items[0][0] >= self.span:
            total -= self.items.pop(0)[0]

    @property
    def weight(self) -> float:
        """The weight (hours) the window holds."""
        return sum(w for w, _ in self.items)

    @property
    def value(self) -> float | None:
        """The mean, or None before any value."""
        total = sum(w for w, _ in self.items)
        return sum(w * x for w, x in self.items) / total if total > 0 else None

    def state(self) -> list[list[float]]:
        """JSON-able state."""
        return [[w, x] for w, x in self.items]

    def restore(self, items: list[list[float]]) -> None:
        """Resume from :meth:`state`."""
        self.items = [(float(w), float(x)) for w, x in items]
