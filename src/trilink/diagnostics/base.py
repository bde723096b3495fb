"""The shapes every detector shares: samples in, findings out, state that survives restarts.

A detector watches one device. It is fed :class:`Sample` values in time order (from the
live kernel, from stored history, or from a CSV of telemetry) and keeps whatever it has
learned (a unit's healthy baseline, running statistics) in a JSON-able state, so the hub
can store it and resume after a restart. It never does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Fault:
    """How a fault is named to people: the finding, the phone notification's title, and
    what ``Finding.severity`` measures (after "N % ")."""

    title: str
    notification: str
    severity: str


#: the faults trilink knows; ``Finding.severity`` is a fraction (0..1) of what ``severity`` says
FAULTS: Mapping[str, Fault] = {
    "filter_clog": Fault("Air filter clogged", "Clean the AC filter", "of the healthy airflow lost"),
    "undercharge": Fault("Refrigerant low", "AC refrigerant looks low", "of the refrigerant charge lost"),
    "ev_battery_fade": Fault(
        "Battery fading faster than normal",
        "Battery ageing faster than normal",
        "of the battery's capacity when new lost",
    ),
}


def fault_words(fault: str) -> Fault:
    """How ``fault`` is named; a fault trilink does not know is described by its own name."""
    known = FAULTS.get(fault)
    if known is not None:
        return known
    words = fault.replace("_", " ").replace("-", " ").strip() or "unknown fault"
    return Fault(f"Possible fault: {words}", f"Possible fault: {words}", "")


@dataclass(frozen=True, slots=True)
class Sample:
    """One moment of a device's telemetry: property values by their MIoT spec names.

    For an air conditioner the names are those of ``trilink.aircondition.sim1``
    (docs/model.md): ``on``, ``mode``, ``target-temperature``, ``fan-level``,
    ``temperature`` (indoor), ``relative-humidity``, ``outdoor-temperature``,
    ``supply-air-temperature``, ``airflow``, ``compressor-power``, ``fan-power``,
    ``runtime-fraction``, ``coil-temperature``, ``energy``. A unit that does not report a
    value simply leaves it out. Booleans are 0/1, enums their numeric values.
    """

    ts: float
    values: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Finding:
    """A fault a detector believes in, with its evidence.

    ``severity`` follows :data:`FAULTS`; ``confidence`` is 0..1; ``since`` is when the
    evidence began and ``detected_at`` when it became strong and persistent enough to
    report. ``evidence`` is one or two plain sentences with the numbers behind it;
    ``advice`` what to do; ``energy_kwh_per_day`` what the fault is costing, if known.
    """

    did: str
    fault: str
    severity: float
    confidence: float
    since: float
    detected_at: float
    evidence: str
    advice: str
    energy_kwh_per_day: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    """Watches one device for one family of faults."""

    did: str

    @property
    def learning(self) -> bool:
        """Whether it is still learning the unit's normal behaviour (and judges nothing yet)."""
        ...

    def observe(self, sample: Sample) -> None:
        """Take the next sample (in time order)."""
        ...

    def findings(self) -> list[Finding]:
        """The faults currently believed in (persistent, not a single noisy reading)."""
        ...

    def reset(self, ts: float) -> None:
        """The unit was serviced (filter cleaned, refrigerant topped up): learn anew from ``ts``."""
        ...

    def state(self) -> dict[str, Any]:
        """What has been learned, JSON-able, to store and resume after a restart."""
        ...

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`."""
        ...
