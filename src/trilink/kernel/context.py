"""Who caused something: every event and command carries a :class:`Context`."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Literal

Actor = Literal["person", "automation", "api", "device", "copilot", "system"]

_PREFIX = os.urandom(4).hex()
_COUNTER = itertools.count(1)


def new_context_id() -> str:
    """A process-unique, cheap id (random prefix + counter)."""
    return f"{_PREFIX}-{next(_COUNTER):x}"


@dataclass(frozen=True, slots=True)
class Context:
    """The cause of an event or a command.

    ``actor`` says what kind of thing acted and ``actor_id`` which one (a person id, an
    automation name, an API token name, a device did). ``parent_id`` links an effect to
    the context that caused it, e.g. a device's state change to the API call that asked
    for it.
    """

    actor: Actor
    actor_id: str
    id: str = ""
    parent_id: str | None = None

    @classmethod
    def new(cls, actor: Actor, actor_id: str, parent: Context | None = None) -> Context:
        """A fresh context with a new id, optionally caused by ``parent``."""
        return cls(actor, actor_id, new_context_id(), parent.id if parent else None)

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return {"id": self.id, "actor": self.actor, "actor_id": self.actor_id, "parent_id": self.parent_id}


SYSTEM = Context("system", "hub", "system")
