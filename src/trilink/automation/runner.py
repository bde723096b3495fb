"""Running an automation's actions: one :class:`Run` walks the action tree and traces each step.

Commands go through the kernel with the run's context (``automation`` / its id, the
trigger's context as parent), so every effect can be traced to its cause. An action that
fails — the device is offline, refuses, does not answer — is recorded and the run goes on
with the next action, unless the action says ``continue_on_error: false``.

``delay`` and ``wait`` are durable: before waiting, the run stores where it is (its path in
the action tree, e.g. ``[2, "then", 0]``), its variables, its trace so far and the
absolute deadline. A run restored from that record after a restart continues at the same
step; the record is deleted before the run moves past the step, so it never runs twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trilink.automation.conditions import Facts, check_all
from trilink.automation.definitions import (
    Action,
    Automation,
    CallAction,
    CallTarget,
    ChooseAction,
    DelayAction,
    DeviceSelector,
    IfAction,
    NotifyAction,
    SceneAction,
    SetAction,
    SetTarget,
    StopAction,
    WaitAction,
)
from trilink.automation.notify import Notifications
from trilink.automation.persist import AutomationStore
from trilink.automation.resolve import Resolver
from trilink.automation.scenes import apply_scene, scene_failures
from trilink.automation.traces import TraceBuilder
from trilink.automation.triggers import Armed, Fire, TriggerIndex
from trilink.kernel import Context, Kernel

log = logging.getLogger(__name__)

#: A step of a path in the action tree: an index, or "then" / "else" / "choose" / "default".
Step = int | str

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


class RunStopped(Exception):
    """A ``stop`` action (or a wait that timed out without ``continue_on_timeout``) ended the run."""


class RunFailed(Exception):
    """An action with ``continue_on_error: false`` failed."""


@dataclass(eq=False)
class Run:
    """One run of an automation: its variables, trace and, after a restart, where to resume."""

    id: str
    automation: Automation
    context: Context
    variables: dict[str, Any]
    trace: TraceBuilder
    #: the stored record to continue from (a run restored after a restart)
    resume: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None
    #: why the run was cancelled: "restart", "removed", "replaced" or "shutdown"
    cancel_reason: str | None = None
    #: whether the run is in a stored delay or wait right now
    durable: bool = False
    #: set once the run waits in a stored step (its wait trigger armed) or has ended
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def key(self) -> str:
        """The key of the run's pending record in the store."""
        return f"run/{self.id}"


def render(text: str, variables: Mapping[str, Any]) -> str:
    """Fill ``{{ trigger.value }}``-style placeholders from a run's variables (unknown ones stay)."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = variables
        for part in match.group(1).split("."):
            if not isinstance(value, Mapping) or part not in value:
                return match.group(0)
            value = value[part]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    return _TEMPLATE.sub(lookup, text) if "{{" in text else text


class Runner:
    """Executes runs against the kernel."""

    def __init__(
        self,
        kernel: Kernel,
        store: AutomationStore,
        facts: Callable[[], Facts],
        index: TriggerIndex,
        resolver: Callable[[], Resolver],
        scenes: Mapping[str, Any],
        notifications: Notifications,
    ) -> None:
        self.kernel = kernel
        self.store = store
        self.facts = facts
        self.index = index
        self.resolver = resolver
        self.scenes = scenes
        self.notifications = notifications
        self.failed_actions = 0

    @property
    def now(self) -> float:
        """The hub's clock."""
        return self.kernel.clock.now()

    async def execute(self, run: Run) -> str:
        """Run (or continue) the actions; returns the outcome for the trace."""
        resume = run.resume
        path: list[Step] | None = list(resume["path"]) if resume is not None else None
        try:
            await self._sequence(run, run.automation.actions, [], path)
        except RunStopped as stop:
            return f"stopped: {stop}"
        except RunFailed as failed:
            return f"failed: {failed}"
        finally:
            run.ready.set()
        return "finished"

    # ---------------------------------------------------------------- sequence
    async def _sequence(
        self, run: Run, actions: Sequence[Action], prefix: list[Step], resume: list[Step] | None
    ) -> None:
        start = 0
        if resume:
            first = resume[0]
            if not isinstance(first, int) or not 0 <= first < len(actions):
                raise RunFailed(f"cannot resume at step {[*prefix, *resume]}: the actions differ")
            await self._resume_into(run, actions[first], [*prefix, first], resume[1:])
            start = first + 1
        for i in range(start, len(actions)):
            await self._action(run, actions[i], [*prefix, i])

    async def _resume_into(self, run: Run, action: Action, path: list[Step], rest: list[Step]) -> None:
        if not rest:
            await self._action(run, action, path, resumed=True)
            return
        if isinstance(action, IfAction) and rest[0] in ("then", "else"):
            branch = action.then if rest[0] == "then" else action.else_
            await self._sequence(run, branch, [*path, rest[0]], rest[1:])
            return
        if isinstance(action, ChooseAction) and rest[0] == "default":
            await self._sequence(run, action.default, [*path, "default"], rest[1:])
            return
        if isinstance(action, ChooseAction) and rest[0] == "choose" and len(rest) > 1:
            k = rest[1]
            if isinstance(k, int) and 0 <= k < len(action.options):
                await self._sequence(run, action.options[k].actions, [*path, "choose", k], rest[2:])
                return
        raise RunFailed(f"cannot resume at step {[*path, *rest]}: the actions differ")

    # ------------------------------------------------------------------ action
    async def _action(self, run: Run, action: Action, path: list[Step], *, resumed: bool = False) -> None:
        entry = run.trace.open_action(path) if resumed else None
        if entry is None:
            entry = run.trace.action_started(path, action.type, action.describe(), self.now)
        if resumed:
            run.trace.note(f"resumed at step {path} after a restart")
        error: str | None = None
        details: dict[str, Any] = {}
        try:
            error, details = await self._do(run, action, path, resumed)
        except (RunStopped, RunFailed):
            run.trace.action_ended(entry, self.now)
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an unexpected failure of one action must not end the hub's loop
            log.exception("automation %s: action %s failed", run.automation.id, path)
            error = f"{type(exc).__name__}: {exc}"
        run.trace.action_ended(entry, self.now, error, details)
        if error is not None:
            self.failed_actions += 1
            if not action.continue_on_error:
                raise RunFailed(f"{action.describe()}: {error}")

    async def _do(
        self, run: Run, action: Action, path: list[Step], resumed: bool
    ) -> tuple[str | None, dict[str, Any]]:
        if isinstance(action, SetAction):
            return await self._set(run, action)
        if isinstance(action, CallAction):
            return await self._call(run, action)
        if isinstance(action, NotifyAction):
            return await self._notify(run, action)
        if isinstance(action, DelayAction):
            return await self._delay(run, action, path, resumed)
        if isinstance(action, WaitAction):
            return await self._wait(run, action, path, resumed)
        if isinstance(action, SceneAction):
            return await self._scene(run, action)
        if isinstance(action, IfAction):
            ok, results = check_all(action.conditions, self.facts(), run.variables)
            branch = "then" if ok else "else"
            details = {"conditions": [r.to_dict() for r in results], "branch": branch}
            run.trace.action_ended(run.trace.open_action(path) or {}, self.now, None, details)
            await self._sequence(run, action.then if ok else action.else_, [*path, branch], None)
            return None, details
        if isinstance(action, ChooseAction):
            return await self._choose(run, action, path)
        assert isinstance(action, StopAction)
        raise RunStopped(render(action.reason, run.variables))

    async def _choose(
        self, run: Run, action: ChooseAction, path: list[Step]
    ) -> tuple[str | None, dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        for k, option in enumerate(action.options):
            ok, results = check_all(option.conditions, self.facts(), run.variables)
            seen.append({"option": k, "result": ok, "conditions": [r.to_dict() for r in results]})
            if ok:
                details = {"options": seen, "chosen": k}
                run.trace.action_ended(run.trace.open_action(path) or {}, self.now, None, details)
                await self._sequence(run, option.actions, [*path, "choose", k], None)
                return None, details
        details = {"options": seen, "chosen": "default"}
        run.trace.action_ended(run.trace.open_action(path) or {}, self.now, None, details)
        await self._sequence(run, action.default, [*path, "default"], None)
        return None, details

    # ---------------------------------------------------------------- commands
    async def _set(self, run: Run, action: SetAction) -> tuple[str | None, dict[str, Any]]:
        targets: Sequence[SetTarget] = action.targets
        problems: list[str] = []
        if isinstance(action.device, DeviceSelector):
            # the selector is resolved again: devices may have come or gone since loading
            targets, problems = self.resolver().selected_sets(action.device, action.property, action.value)

        async def one(t: SetTarget) -> dict[str, Any]:
            result: dict[str, Any] = {"device": t.did, "property": f"{t.siid}.{t.piid}", "value": t.value}
            try:
                await self.kernel.set_property(t.did, t.siid, t.piid, t.value, run.context)
                result["ok"] = True
            except Exception as exc:  # each device's failure is its own result
                result.update(ok=False, error=str(exc))
            return result

        results = list(await asyncio.gather(*(one(t) for t in targets)))
        return _summary(results, problems, action.device)

    async def _call(self, run: Run, action: CallAction) -> tuple[str | None, dict[str, Any]]:
        targets: Sequence[CallTarget] = action.targets
        problems: list[str] = []
        if isinstance(action.device, DeviceSelector):
            targets, problems = self.resolver().selected_calls(
                action.device, action.action, list(action.args)
            )

        async def one(t: CallTarget) -> dict[str, Any]:
            result: dict[str, Any] = {"device": t.did, "action": f"{t.siid}.{t.aiid}", "args": list(t.args)}
            try:
                outcome = await self.kernel.call_action(t.did, t.siid, t.aiid, list(t.args), run.context)
                result.update(ok=True, out=list(outcome.out))
            except Exception as exc:  # each device's failure is its own result
                result.update(ok=False, error=str(exc))
            return result

        results = list(await asyncio.gather(*(one(t) for t in targets)))
        return _summary(results, problems, action.device)

    async def _notify(self, run: Run, action: NotifyAction) -> tuple[str | None, dict[str, Any]]:
        title = render(action.title, run.variables) or run.automation.name
        message = render(action.message, run.variables)
        people = [action.person]
        if action.person == "everyone":
            home = self.resolver().home_id
            people = sorted(p.id for p in self.kernel.registry.people.values() if p.home_id == home)
        sent = []
        for pid in people:
            sent.append(
                await self.notifications.send(
                    pid, title, message, run.context, automation_id=run.automation.id, run_id=run.id
                )
            )
        errors = [f"{n['person']}'s phone {n['phone']}: {n['error']}" for n in sent if n["error"]]
        return ("; ".join(errors) if errors else None), {"notifications": sent}

    async def _scene(self, run: Run, action: SceneAction) -> tuple[str | None, dict[str, Any]]:
        scene = self.scenes.get(action.scene_id)
        if scene is None:
            return f"scene {action.scene_id!r} no longer exists", {}
        results = await apply_scene(self.kernel, scene, run.context)
        return scene_failures(results), {"results": results}

    # ----------------------------------------------------------------- waiting
    def _save(self, run: Run, step: str, path: list[Step], deadline: float | None) -> None:
        run.durable = True
        run.ready.set()
        self.store.save_pending(
            run.key,
            {
                "kind": "run",
                "step": step,
                "automation": run.automation.id,
                "fingerprint": run.automation.fingerprint,
                "run_id": run.id,
                "path": list(path),
                "deadline": deadline,
                "variables": run.variables,
                "trace": run.trace.to_dict(),
                "context": run.context.to_dict(),
            },
        )

    def _done(self, run: Run) -> None:
        # deleted before the run moves on: a crash after this cannot repeat the step
        self.store.delete_pending(run.key)
        run.durable = False
        run.resume = None

    async def _until(self, deadline: float) -> None:
        while (left := deadline - self.now) > 0:
            await self.kernel.clock.sleep(left)

    def _deadline(self, run: Run, resumed: bool, seconds: float | None) -> float | None:
        if resumed and run.resume is not None:
            stored = run.resume.get("deadline")
            return None if stored is None else float(stored)
        return None if seconds is None else self.now + seconds

    async def _delay(
        self, run: Run, action: DelayAction, path: list[Step], resumed: bool
    ) -> tuple[str | None, dict[str, Any]]:
        deadline = self._deadline(run, resumed, action.seconds)
        assert deadline is not None
        self._save(run, "delay", path, deadline)
        await self._until(deadline)
        self._done(run)
        return None, {"deadline": deadline}

    async def _wait(
        self, run: Run, action: WaitAction, path: list[Step], resumed: bool
    ) -> tuple[str | None, dict[str, Any]]:
        deadline = self._deadline(run, resumed, action.timeout)
        came: asyncio.Future[Fire] = asyncio.get_running_loop().create_future()

        def fired(fire: Fire) -> None:
            if not came.done():
                came.set_result(fire)

        armed = Armed(f"wait/{run.id}", action.trigger, fired)
        self.index.arm(armed)
        self._save(run, "wait", path, deadline)
        try:
            if deadline is None:
                await came
            else:
                timer = asyncio.ensure_future(self._until(deadline))
                try:
                    await asyncio.wait((came, timer), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    timer.cancel()
                    await asyncio.gather(timer, return_exceptions=True)
        finally:
            self.index.disarm(armed)
        self._done(run)
        completed = came.done()
        fire = came.result() if completed else None
        run.variables["wait"] = {"completed": completed, "trigger": fire.values if fire is not None else None}
        details: dict[str, Any] = {"completed": completed, "deadline": deadline}
        if fire is not None:
            details["trigger"] = fire.values
        if not completed and not action.continue_on_timeout:
            raise RunStopped("the wait timed out")
        return None, details


def _summary(
    results: list[dict[str, Any]], problems: list[str], device: str | DeviceSelector
) -> tuple[str | None, dict[str, Any]]:
    failed = [_named(r["device"], r["error"]) for r in results if not r["ok"]] + problems
    details: dict[str, Any] = {"results": results}
    if problems:
        details["problems"] = problems
    if not results and not problems and isinstance(device, DeviceSelector):
        return f"no device matches ({device})", details
    if not failed:
        return None, details
    if len(results) + len(problems) == 1:
        return failed[0], details
    return f"{len(failed)} of {len(results) + len(problems)} failed: " + "; ".join(failed), details


def _named(did: str, error: str) -> str:
    # the kernel's errors already start with the did
    return error if error.startswith(f"{did}:") else f"{did}: {error}"
