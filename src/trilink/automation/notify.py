"""Notifications to people: on their phone (its ``notification.notify`` action) and over the API.

Every notification is kept in a bounded in-memory list that the API serves, so a person
without a phone, or whose phone is offline, still sees it in the app.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from trilink.kernel import Context, Kernel
from trilink.model import ActionSpec, DeviceSpec

#: How many recent notifications are kept in memory.
NOTIFICATIONS_KEPT = 200

_SERVICE, _ACTION = "notification", "notify"


def notify_action(spec: DeviceSpec) -> ActionSpec | None:
    """A phone's ``notification.notify`` action (title, message), if its spec has one."""
    for action in spec.actions.values():
        service = spec.service(action.siid)
        if (
            service is not None
            and service.name == _SERVICE
            and action.name == _ACTION
            and len(action.ins) == 2
        ):
            return action
    return None


class Notifications:
    """Recent notifications, newest last; delivers them to phones through the kernel."""

    def __init__(self, kernel: Kernel, keep: int = NOTIFICATIONS_KEPT) -> None:
        self.kernel = kernel
        self._kept: deque[dict[str, Any]] = deque(maxlen=keep)
        self._ids = itertools.count(1)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest notifications, newest first."""
        return [dict(n) for n in list(reversed(self._kept))[: max(0, limit)]]

    def __len__(self) -> int:
        return len(self._kept)

    async def send(
        self,
        person_id: str,
        title: str,
        message: str,
        context: Context,
        *,
        automation_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Keep a notification for the API and show it on the person's phone, if they have one.

        The returned record says whether the phone showed it (``delivered``) and, if not, why
        (``error``); a person without a phone is notified over the API only.
        """
        record: dict[str, Any] = {
            "id": next(self._ids),
            "ts": self.kernel.clock.now(),
            "person": person_id,
            "title": title,
            "message": message,
            "automation_id": automation_id,
            "run_id": run_id,
            "phone": None,
            "delivered": False,
            "error": None,
        }
        self._kept.append(record)
        person = self.kernel.registry.people.get(person_id)
        phone = (
            None
            if person is None or person.phone_did is None
            else self.kernel.registry.devices.get(person.phone_did)
        )
        if phone is None:
            return dict(record)
        record["phone"] = phone.did
        action = notify_action(phone.spec)
        if action is None:
            record["error"] = f"{phone.did} has no notification.notify action"
            return dict(record)
        try:
            await self.kernel.call_action(phone.did, action.siid, action.iid, [title, message], context)
            record["delivered"] = True
        except Exception as exc:  # the API still has it; the caller reports the phone's failure
            record["error"] = str(exc)
        return dict(record)
