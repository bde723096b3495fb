"""Errors of the device model: a bad spec document, and a value a property refuses."""

from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """A spec document is malformed; the message names the service, iid and field."""


class InvalidValue(ValueError):
    """A value broke a property's rule.

    ``rule`` is one of ``format``, ``range``, ``step``, ``value-list``, ``access``,
    ``unknown-property``, ``unknown-action``, ``arguments``. The message names the
    device, the iid and what is allowed, so a person can act on it.
    """

    def __init__(
        self,
        did: str,
        siid: int,
        iid: int,
        rule: str,
        detail: str,
        *,
        kind: str = "piid",
        value: Any = None,
    ) -> None:
        self.did = did
        self.siid = siid
        self.iid = iid
        self.kind = kind
        self.rule = rule
        self.detail = detail
        self.value = value
        super().__init__(f"{did} siid {siid} {kind} {iid}: {detail} [{rule}]")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the error, as the API and MQTT results carry it."""
        return {
            "code": "invalid-value",
            "did": self.did,
            "siid": self.siid,
            self.kind: self.iid,
            "rule": self.rule,
            "message": str(self),
        }
