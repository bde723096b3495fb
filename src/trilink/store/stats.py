"""Downsampled statistics of numeric properties, and the interface every history backend offers.

Each numeric sample (an ``int`` or ``float``, not a ``bool``) falls into one bucket per
period: the 5-minute bucket and the hourly bucket that contain its timestamp. A bucket
keeps the minimum, the maximum, the sum and the count of its samples, and the first and
last sample time, so merging two partial buckets is exact (min of mins, sum of sums…)
and the mean is ``sum / count``. Buckets are maintained as the recorder's writer thread
writes history: :func:`aggregate` folds one batch into bucket rows, which the backend
merges into its tables with an upsert in the same transaction as the raw samples.

Bucket starts are whole epoch seconds, ``floor(ts / period) * period``, computed the same
way (:func:`bucket_start`) for live writes and for backfills, so both agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, NamedTuple, Protocol

from trilink.kernel import PropertyChanged

#: The periods kept, by name, in seconds.
PERIODS: Final[dict[str, int]] = {"5m": 300, "1h": 3600}

#: A period's name: ``"5m"`` or ``"1h"``.
Period = Literal["5m", "1h"]

#: Property formats whose values are aggregated.
NUMERIC_FORMATS: Final[frozenset[str]] = frozenset(
    {"float", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32"}
)


class Sample(NamedTuple):
    """One stored value of one property."""

    did: str
    siid: int
    piid: int
    ts: float
    value: Any


class StatRow(NamedTuple):
    """One bucket of a property's statistics, as queries return it."""

    bucket_start: int
    min: float
    mean: float
    max: float
    # shadows tuple.count on purpose: rows read as (bucket_start, min, mean, max, count)
    count: int  # type: ignore[assignment]


#: The key of a bucket: ``(did, siid, piid, bucket_start)``.
BucketKey = tuple[str, int, int, int]

#: A running aggregate: ``[vmin, vmax, vsum, n, first_ts, last_ts]`` (a list: this is the hot path).
Bucket = list[float]

_INF: Final = math.inf


def period_seconds(period: str) -> int:
    """The length of a period in seconds; ``ValueError`` naming the allowed ones otherwise."""
    try:
        return PERIODS[period]
    except KeyError:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}") from None


def bucket_start(ts: float, seconds: int) -> int:
    """The start (epoch seconds) of the bucket of ``seconds`` that holds ``ts``."""
    return int(ts // seconds) * seconds


def numeric(value: Any) -> float | None:
    """The value as a float if it is aggregated (a finite int or float, not a bool), else ``None``."""
    t = type(value)
    if t is float:
        return value if math.isfinite(value) else None
    if t is int:
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def aggregate_all(samples: Iterable[tuple[str, int, int, float, Any]]) -> dict[str, dict[BucketKey, Bucket]]:
    """Fold numeric samples into the buckets of every period in one pass; other values are ignored."""
    out: dict[str, dict[BucketKey, Bucket]] = {name: {} for name in PERIODS}
    targets = [(out[name], seconds) for name, seconds in PERIODS.items()]
    for did, siid, piid, ts, value in samples:
        t = type(value)
        if t is float:
            if value != value or value == _INF or value == -_INF:
                continue
            number = value
        elif t is int:
            try:
                number = float(value)
            except OverflowError:
                continue
        else:
            continue
        for buckets, seconds in targets:
            key = (did, siid, piid, int(ts // seconds) * seconds)
            b = buckets.get(key)
            if b is None:
                buckets[key] = [number, number, number, 1, ts, ts]
                continue
            if number < b[0]:
                b[0] = number
            if number > b[1]:
                b[1] = number
            b[2] += number
            b[3] += 1
            if ts < b[4]:
                b[4] = ts
            if ts > b[5]:
                b[5] = ts
    return out


def aggregate(samples: Iterable[tuple[str, int, int, float, Any]], seconds: int) -> dict[BucketKey, Bucket]:
    """Fold numeric samples into buckets of ``seconds`` (one of :data:`PERIODS`)."""
    name = next(n for n, s in PERIODS.items() if s == seconds)
    return aggregate_all(samples)[name]


def bucket_rows(buckets: dict[BucketKey, Bucket]) -> list[tuple[Any, ...]]:
    """Rows ``(did, siid, piid, bucket, vmin, vmax, vsum, n, first_ts, last_ts)`` for an upsert."""
    return [(*key, b[0], b[1], b[2], int(b[3]), b[4], b[5]) for key, b in buckets.items()]


def samples_of(items: Iterable[object]) -> list[Sample]:
    """The property changes among ``items`` as samples (anything else is skipped)."""
    return [
        Sample(item.did, item.siid, item.piid, item.ts, item.value)
        for item in items
        if isinstance(item, PropertyChanged)
    ]


def stat_row(bucket: int, vmin: float, vmax: float, vsum: float, n: int) -> StatRow:
    """A query row from stored columns."""
    return StatRow(int(bucket), float(vmin), float(vsum) / n, float(vmax), int(n))


def check_range(since: float | None, until: float | None, limit: int) -> None:
    """``ValueError`` for a negative limit or ``since`` after ``until``."""
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    if since is not None and until is not None and since > until:
        raise ValueError(f"since ({since}) is after until ({until})")


class SeriesStore(Protocol):
    """Raw history and its downsampled statistics: what the recorder, the API and the diagnostics use.

    :class:`~trilink.store.sqlite.SQLiteStore` and
    :class:`~trilink.store.postgres.PostgresSeriesStore` implement it. Writes come from
    one thread (the recorder's writer); reads may come from any thread.
    """

    #: Seconds raw history is kept.
    history_retention: float
    #: Seconds each period's buckets are kept, by period name.
    stats_retention: dict[str, float]

    def write_series(self, items: Sequence[object]) -> None:
        """Append the property changes among ``items`` to history and fold them into the statistics,
        and forget the series of removed devices (``Removal("device", did)``), in order, in one
        transaction. Other items are ignored. Raises ``UnstorableValue`` before writing anything
        for a value that cannot be stored."""
        ...

    def append(self, samples: Sequence[Sample]) -> None:
        """Append samples to history and fold them into the statistics, in one transaction."""
        ...

    def history(
        self,
        did: str,
        siid: int,
        piid: int,
        *,
        since: float | None = None,
        until: float | None = None,
        limit: int = 10000,
    ) -> list[tuple[float, Any]]:
        """``(ts, value)`` with ``since <= ts < until``, oldest first; the newest ``limit`` if more match."""
        ...

    def stats(
        self,
        did: str,
        siid: int,
        piid: int,
        *,
        period: str = "5m",
        since: float | None = None,
        until: float | None = None,
        limit: int = 10000,
    ) -> list[StatRow]:
        """Buckets of one property that overlap ``[since, until)``, oldest first; the newest
        ``limit`` if more match. ``ValueError`` for an unknown period or ``since > until``."""
        ...

    def backfill_stats(self, *, since: float | None = None, until: float | None = None) -> int:
        """Recompute, from raw history, every bucket that holds a raw sample in ``[since, until)``
        (widened to whole hours); returns the number of samples read."""
        ...

    def prune_history(self, now: float) -> int:
        """Delete raw history older than ``now - history_retention``; returns the rows deleted."""
        ...

    def prune_stats(self, now: float) -> dict[str, int]:
        """Delete buckets that ended before ``now`` minus their period's retention.

        Returns the rows deleted per period.
        """
        ...


def backfill_window(since: float | None, until: float | None) -> tuple[float | None, float | None]:
    """``[since, until)`` widened to whole hours (so each 5-minute and hourly bucket is whole)."""
    hour = PERIODS["1h"]
    lo = None if since is None else float(bucket_start(since, hour))
    hi = None if until is None else float(-((-until) // hour) * hour)
    return lo, hi
