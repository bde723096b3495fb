"""Telemetry from a CSV file, so data from outside the simulator can be diagnosed too.

The format (docs/diagnostics.md): a header row, then one row per moment.

* ``ts`` — required: unix seconds, or an ISO 8601 time (``2026-07-01T14:10:00+08:00``;
  without an offset it is taken as UTC);
* every other column is a property by its MIoT spec name (``airflow``,
  ``supply-air-temperature``, ``state-of-charge``… — see :class:`~trilink.diagnostics.base.Sample`),
  with a number, ``true``/``false``, or empty when the unit did not report it.

Rows must be in time order. A row that cannot be read (a bad time, a value that is not a
number, a time before the previous row) is skipped and reported with its line number;
the rest is still used.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from trilink.diagnostics.base import Detector, Finding, Sample

#: rows beyond this are not read (a guard against a wrong file)
MAX_ROWS = 5_000_000


class CsvFormatError(ValueError):
    """The file cannot be used at all (no header, no ``ts`` column)."""


@dataclass(slots=True)
class CsvReport:
    """What reading a file found: how many samples, and each skipped row's line and reason."""

    samples: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _time(text: str) -> float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    if not math.isfinite(value):
        raise ValueError(f"time {text!r} is not finite")
    return value


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in ("true", "false"):
        return 1.0 if lowered == "true" else 0.0
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def read_samples(text: str, report: CsvReport) -> Iterator[Sample]:
    """The samples of a CSV document, in order; problems go into ``report``."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CsvFormatError("the file is empty: it needs a header row with a 'ts' column") from None
    if "ts" not in header:
        raise CsvFormatError(f"the header has no 'ts' column (it has: {', '.join(header) or 'nothing'})")
    if len(set(header)) != len(header):
        raise CsvFormatError("the header names a column twice")
    ts_index = header.index("ts")
    last = -math.inf
    for line, row in enumerate(reader, start=2):
        if line > MAX_ROWS:
            report.skipped.append((line, f"more than {MAX_ROWS} rows: the rest was not read"))
            return
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            report.skipped.append((line, f"{len(row)} values for {len(header)} columns"))
            continue
        try:
            ts = _time(row[ts_index])
            values: dict[str, float] = {}
            for name, cell in zip(header, row, strict=True):
                if name == "ts":
                    continue
                number = _number(cell)
                if number is not None:
                    values[name] = number
        except ValueError as exc:
            report.skipped.append((line, str(exc)))
            continue
        if ts < last:
            report.skipped.append((line, "its time is before the previous row's"))
            continue
        last = ts
        report.samples += 1
        yield Sample(ts, values)


@dataclass(slots=True)
class CsvDiagnosis:
    """What a detector made of a file: the findings at its end, when each fault was first
    found, the faults found earlier that are gone by the end, and the rows read and skipped."""

    report: CsvReport
    findings: list[Finding]
    first_seen: dict[str, float]
    gone: list[str]


def diagnose_csv(text: str, detector: Detector) -> CsvDiagnosis:
    """Feed every sample of a CSV document to ``detector``. Raises :class:`CsvFormatError`."""
    report = CsvReport()
    first_seen: dict[str, float] = {}
    for sample in read_samples(text, report):
        detector.observe(sample)
        for finding in detector.findings():
            first_seen.setdefault(finding.fault, finding.detected_at)
    findings = detector.findings()
    gone = sorted(set(first_seen) - {f.fault for f in findings})
    return CsvDiagnosis(report, findings, first_seen, gone)
