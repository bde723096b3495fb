"""The detectors' small statistics: the conditioned baseline's fit, its learned range, its state."""

from __future__ import annotations

import json

import pytest

from trilink.diagnostics.steady import ConditionedBaseline, Cusum


def test_the_baseline_fits_intercepts_and_shared_slopes() -> None:
    b = ConditionedBaseline(1, ridge=0.0)
    for x in (-2.0, -1.0, 0.0, 1.0, 2.0):
        b.add("low", [x], 10.0 + 0.5 * x)
        b.add("high", [x], 8.0 + 0.5 * x)
    b.fit()
    assert b.predict("low", [1.0]) == pytest.approx(10.5)
    assert b.predict("high", [0.0]) == pytest.approx(8.0)
    assert b.rms == pytest.approx(0.0, abs=1e-9)


def test_the_learned_range_bounds_where_the_baseline_is_trusted() -> None:
    b = ConditionedBaseline(2)
    assert not b.covers([0.0, 0.0], (1.0, 1.0))  # nothing learned yet
    b.add("k", [0.0, 5.0], 1.0)
    b.add("k", [2.0, 3.0], 1.0)
    b.fit()
    assert b.covers([1.0, 4.0], (0.0, 0.0))
    assert b.covers([3.0, 4.0], (1.0, 0.0))
    assert not b.covers([3.5, 4.0], (1.0, 0.0))
    assert not b.covers([1.0, 1.0], (1.0, 1.0))


def test_state_keeps_the_range_and_old_states_restore() -> None:
    b = ConditionedBaseline(1)
    b.add("k", [1.0], 2.0)
    b.add("k", [3.0], 4.0)
    b.fit()
    again = ConditionedBaseline(1)
    again.restore(json.loads(json.dumps(b.state())))
    assert (again.lo, again.hi) == ([1.0], [3.0])
    old = {k: v for k, v in b.state().items() if k not in ("lo", "hi")}  # saved before ranges existed
    older = ConditionedBaseline(1)
    older.restore(old)
    assert older.intercepts == b.intercepts
    assert not older.covers([2.0], (0.0,))  # no range: nothing is judged until it is relearned


def test_cusum_needs_persistence_and_is_capped() -> None:
    c = Cusum(k=0.1, h=1.0, cap=2.0)
    c.update(0.0, 0.3, 4.0)  # 0.2 × 4 h
    assert not c.alarm
    c.update(1.0, 0.5, 1.0)  # + 0.4
    assert c.alarm and c.since == 0.0
    c.update(2.0, 10.0, 10.0)
    assert c.s == pytest.approx(2.0)
    c.update(3.0, -10.0, 1.0)
    assert c.s == 0.0 and c.since is None
