"""Counters of the Home Assistant bridge: plain attributes, a JSON view on demand."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _bump(counter: dict[str, int], key: str, by: int = 1) -> None:
    if key not in counter and len(counter) >= 256:
        key = "other"  # keys come from the network: keep the dict bounded
    counter[key] = counter.get(key, 0) + by


@dataclass(slots=True)
class HassStats:
    """What the bridge has seen and done since it was created."""

    connected: bool = False
    connects: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    messages_in: int = 0
    last_error: str | None = None
    # ---- in: discovery -> kernel
    #: discovery messages that configured, changed or removed something
    configs: int = 0
    #: entities removed by an empty config (or a cleared device-based config)
    removals: int = 0
    #: configs under our own node id (our announcements coming back), ignored
    own_configs: int = 0
    #: state messages applied (each may carry several values)
    states: int = 0
    #: values a device reported that its derived spec refuses (the others are kept)
    values_rejected: int = 0
    #: state messages that carried nothing for their entities (e.g. an undefined key)
    states_empty: int = 0
    #: configs of components trilink does not adopt, by component
    unsupported_components: dict[str, int] = field(default_factory=dict)
    #: template options that cannot be evaluated (their state is marked unsupported), by option
    unsupported_templates: dict[str, int] = field(default_factory=dict)
    #: writes and calls published to devices
    commands_sent: int = 0
    #: dropped input by reason (``not-json``, ``bad-config``, ``missing-topic``, …)
    malformed: dict[str, int] = field(default_factory=dict)
    # ---- out: kernel -> Home Assistant
    configs_published: int = 0
    states_published: int = 0
    #: Home Assistant birth messages (``online`` on its status topic) answered
    births: int = 0
    commands_received: int = 0
    #: commands from Home Assistant that were not carried out, by error code
    command_errors: dict[str, int] = field(default_factory=dict)

    def count_malformed(self, reason: str) -> None:
        """Count one dropped input under ``reason``."""
        _bump(self.malformed, reason)

    def count_unsupported_component(self, component: str) -> None:
        """Count one config of a component that is not adopted."""
        _bump(self.unsupported_components, component)

    def count_unsupported_template(self, option: str) -> None:
        """Count one template option that cannot be evaluated."""
        _bump(self.unsupported_templates, option)

    def count_command_error(self, code: str) -> None:
        """Count one command from Home Assistant that failed with ``code``."""
        _bump(self.command_errors, code)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (dicts are copies)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, dict) else value
        return out
