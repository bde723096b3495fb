"""Entity availability from availability topics, with Home Assistant's rules (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from trilink.transports.hass.options import Options, StateMessage
from trilink.transports.hass.template import Template, text


class Availability:
    """Whether an entity is available, from its availability topics (HA's rules)."""

    def __init__(self, opts: Options) -> None:
        #: (topic, payload available, payload not available, template) per source
        self.entries: list[tuple[str, str, str, Template | None]] = []
        mode = opts.text("availability_mode", "latest")
        if mode not in ("latest", "all", "any"):
            opts._bad("availability_mode", mode, "latest, all or any")
            mode = "latest"
        self.mode = mode
        single = opts.topic("availability_topic")
        if single is not None:
            self.entries.append(
                (
                    single,
                    opts.payload("payload_available", "online") or "online",
                    opts.payload("payload_not_available", "offline") or "offline",
                    opts.template("availability_template"),
                )
            )
        listed = opts.config.get("availability")
        if isinstance(listed, Mapping):
            listed = [listed]
        if listed is not None and not isinstance(listed, list):
            opts._bad("availability", listed, "a list of {topic, …}")
            listed = []
        for raw in listed or ():
            if not isinstance(raw, Mapping):
                opts._bad("availability", raw, "an object with a topic")
                continue
            sub = Options(raw, opts.problems, opts.where)
            topic = sub.topic("topic")
            if topic is None:
                opts._bad("availability", raw, "an object with a topic")
                continue
            self.entries.append(
                (
                    topic,
                    sub.payload("payload_available", "online") or "online",
                    sub.payload("payload_not_available", "offline") or "offline",
                    sub.template("value_template"),
                )
            )
            opts.unsupported.update(sub.unsupported)
        self._states: list[bool | None] = [None] * len(self.entries)
        self._latest: bool | None = None

    @property
    def available(self) -> bool:
        """Available now (always, without availability topics; never before the first word)."""
        if not self.entries:
            return True
        if self.mode == "all":
            return all(s is True for s in self._states)
        if self.mode == "any":
            return any(s is True for s in self._states)
        return self._latest is True

    def update(self, index: int, message: StateMessage) -> bool:
        """Apply a message of entry ``index``; returns whether availability changed."""
        _, on, off, template = self.entries[index]
        word = text(message.read(template)).strip() if template is not None else message.text.strip()
        if word == on:
            state = True
        elif word == off:
            state = False
        else:
            return False
        before = self.available
        self._states[index] = state
        self._latest = state
        return self.available != before

    def reset(self) -> None:
        """Forget every word heard (the connection was lost)."""
        self._states = [None] * len(self.entries)
        self._latest = None
