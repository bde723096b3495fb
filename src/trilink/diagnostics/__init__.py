"""Predictive maintenance: faults found from the telemetry the hub already has.

Detectors (:mod:`trilink.diagnostics.base`) learn each unit's healthy baseline and turn
telemetry into :class:`~trilink.diagnostics.base.Finding` values; the findings service
turns those into maintenance reminders on the owner's phone.
"""

from trilink.diagnostics.base import Detector, Finding, Sample

__all__ = ["Detector", "Finding", "Sample"]
