"""Scenes: named sets of target states, applied together.

Every state is written at the same time (one command per device property, concurrently),
so a scene of ten lights takes as long as its slowest light, not the sum. One device
failing does not stop the others; the result says, per state, what happened.
"""

from __future__ import annotations

import asyncio
from typing import Any

from trilink.automation.definitions import Scene, SceneState
from trilink.kernel import Context, Kernel


def scene_to_dict(scene: Scene) -> dict[str, Any]:
    """A scene as the API shows it."""
    return {
        "id": scene.id,
        "name": scene.name,
        "source": scene.source,
        "states": [
            {"device": s.did, "property": f"{s.siid}.{s.piid}", "value": s.value} for s in scene.states
        ],
    }


async def apply_scene(kernel: Kernel, scene: Scene, context: Context) -> list[dict[str, Any]]:
    """Write every state of a scene concurrently; one result per state, in the scene's order."""

    async def one(state: SceneState) -> dict[str, Any]:
        result: dict[str, Any] = {
            "device": state.did,
            "property": f"{state.siid}.{state.piid}",
            "value": state.value,
            "ok": True,
        }
        try:
            await kernel.set_property(state.did, state.siid, state.piid, state.value, context)
        except Exception as exc:  # each device's failure is its own result
            result["ok"] = False
            result["error"] = str(exc)
            code = getattr(exc, "code", None)
            if isinstance(code, str):
                result["code"] = code
        return result

    return list(await asyncio.gather(*(one(s) for s in scene.states)))


def scene_failures(results: list[dict[str, Any]]) -> str | None:
    """A one-line summary of the failed states of a scene, or ``None`` if all were applied."""
    failed = [f"{r['device']} {r['property']}: {r['error']}" for r in results if not r["ok"]]
    if not failed:
        return None
    return f"{len(failed)} of {len(results)} state(s) failed: " + "; ".join(failed)
