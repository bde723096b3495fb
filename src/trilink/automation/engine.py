"""The automation engine: loads definitions, listens to the kernel, runs automations.

The engine's bus listener runs inline in the kernel's hot path, so it only looks the event
up in the trigger index and, if any trigger or position cares, queues it. One dispatcher
task takes events off the queue, updates trigger state, checks conditions and starts runs
as tasks. Everything the engine must remember across restarts — definitions, pending
``for`` timers, runs waiting in a ``delay`` or ``wait``, traces — goes through the
:class:`AutomationStore`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trilink.automation.conditions import ConditionResult, Facts, check_all
from trilink.automation.definitions import HOME_ZONE, Automation, Scene
from trilink.automation.errors import DefinitionError
from trilink.automation.geo import Zone
from trilink.automation.modes import RunGate
from trilink.automation.notify import Notifications
from trilink.automation.parse import parse_definition, parse_document
from trilink.automation.persist import AutomationStore, StoredDocument
from trilink.automation.presence import PresenceBook
from trilink.automation.resolve import Resolver
from trilink.automation.runner import Run, Runner
from trilink.automation.scenes import apply_scene, scene_to_dict
from trilink.automation.schedule import local_time_text
from trilink.automation.timers import Timers
from trilink.automation.traces import (
    TRACES_KEPT,
    TraceBuilder,
    not_run_for_condition,
    not_run_for_mode,
    why_not,
)
from trilink.automation.triggers import Armed, Fire, TriggerIndex
from trilink.automation.yamlsrc import Located, load_yaml
from trilink.kernel import (
    AvailabilityChanged,
    Context,
    DeviceEventFired,
    Kernel,
    PropertyChanged,
    RegistryChanged,
)

log = logging.getLogger(__name__)

_RUN_IDS = itertools.count(1)
_RUN_PREFIX = os.urandom(3).hex()


#: how long (clock seconds) a ``for`` whose deadline passed while the hub was down waits after
#: a restart, so devices can reconnect and re-report before its state is re-checked
RESUME_GRACE = 10.0


def _new_run_id() -> str:
    return f"run-{_RUN_PREFIX}-{next(_RUN_IDS):x}"


def _cancelled(reason: str) -> str:
    """The outcome of a run cancelled by its automation's ``restart`` mode, replacement or removal."""
    return "cancelled by restart" if reason == "restart" else f"cancelled: the automation was {reason}"


@dataclass(frozen=True)
class LoadReport:
    """What a load accepted (ids of automations, scenes and zones) and every error."""

    loaded: list[str]
    errors: list[DefinitionError]


@dataclass(frozen=True)
class AutomationInfo:
    """An automation as listed: its definition's essentials and its runtime state."""

    id: str
    name: str
    enabled: bool
    mode: str
    source: str
    last_triggered: float | None
    last_result: str | None
    running: int
    pending_timers: int


class UnknownAutomation(KeyError):
    """No automation has this id."""

    def __init__(self, automation_id: str) -> None:
        self.automation_id = automation_id
        super().__init__(automation_id)

    def __str__(self) -> str:
        return f"unknown automation {self.automation_id!r}"


class UnknownScene(KeyError):
    """No scene has this id."""

    def __init__(self, scene_id: str) -> None:
        self.scene_id = scene_id
        super().__init__(scene_id)

    def __str__(self) -> str:
        return f"unknown scene {self.scene_id!r}"


@dataclass(eq=False)
class _Active:
    """A loaded automation and its runtime state."""

    automation: Automation
    gate: RunGate[Run]
    armed: list[Armed] = field(default_factory=list)
    last_triggered: float | None = None
    last_result: str | None = None
    last_not_run: dict[str, Any] | None = None


class AutomationEngine:
    """Runs the automations of one home against a kernel; durable through an AutomationStore."""

    def __init__(self, kernel: Kernel, store: AutomationStore, *, home_id: str = "home") -> None:
        self.kernel = kernel
        self.store = store
        self.home_id = home_id
        self.presence = PresenceBook(kernel, home_id)
        self.timers = Timers(kernel.clock)
        self.notifier = Notifications(kernel)
        self._zones: dict[str, Zone] = {}
        self._scenes: dict[str, Scene] = {}
        self._automations: dict[str, _Active] = {}
        self._documents: dict[tuple[str, str], StoredDocument] = {}
        self.index = TriggerIndex(kernel, self.presence, self.timers, self._zones, self, home_id)
        self.runner = Runner(
            kernel, store, self._facts, self.index, self._resolver, self._scenes, self.notifier
        )
        self._runs: dict[str, Run] = {}
        # the live index dictionaries, read on every kernel event (never rebound, only mutated)
        self._gates = self.index.gates()
        self._coordinates = self.presence.coordinates
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._registry_dirty = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._unsubscribe: Any = None
        self._started = False
        #: errors of stored definitions that no longer load (e.g. a device was removed)
        self.load_errors: list[DefinitionError] = []
        self._counts = {"runs": 0, "finished": 0, "not_run": 0, "skipped": 0, "events": 0}

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Load the stored definitions, resume pending timers and runs, fire ``hub_start`` triggers."""
        if self._started:
            return
        self._started = True
        # the store is the truth: what was loaded before start() is in it too
        for state in self._automations.values():
            self._disarm(state)
        self._automations.clear()
        self._zones.clear()
        self._scenes.clear()
        self._documents.clear()
        self.presence.refresh()
        self.index.refresh_coordinates()
        unsubscribe_properties = self.kernel.bus.subscribe(self._property_listener(), PropertyChanged)
        unsubscribe_others = self.kernel.bus.subscribe(
            self._on_event, DeviceEventFired, AvailabilityChanged, RegistryChanged
        )

        def unsubscribe() -> None:
            unsubscribe_properties()
            unsubscribe_others()

        self._unsubscribe = unsubscribe
        self._dispatcher = asyncio.get_running_loop().create_task(
            self._dispatch(), name="automation dispatcher"
        )
        self._load_stored()
        resumed = self._resume_pending()
        # a resumed wait must listen before start() returns, or an event right after it is missed
        await asyncio.gather(*(run.ready.wait() for run in resumed))
        fired = self.index.hub_started()
        log.info(
            "automations started: %d loaded, %d hub_start trigger(s) fired", len(self._automations), fired
        )

    async def stop(self) -> None:
        """Cancel runs and timers; pending timers and waiting runs stay stored for the next start."""
        if not self._started:
            return
        self._started = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        runs = list(self._runs.values())
        for run in runs:
            run.cancel_reason = "shutdown"
            if run.task is not None:
                run.task.cancel()
        await asyncio.gather(*(r.task for r in runs if r.task is not None), return_exceptions=True)
        for state in self._automations.values():
            self._disarm(state)
            state.gate.clear()
        await self.timers.close()
        self._queue = asyncio.Queue()
        self._registry_dirty = False

    async def settle(self) -> None:
        """Wait until every queued kernel event has been handled (for tests and benchmarks)."""
        await self._queue.join()
        await asyncio.sleep(0)

    # ----------------------------------------------------------------- loading
    def load_yaml(self, text: str, source: str) -> LoadReport:
        """Load a YAML document; accepted definitions are stored, replacing those of the same id."""
        try:
            located = load_yaml(text, source)
        except DefinitionError as exc:
            return LoadReport([], [exc])
        return self._load(located)

    def load_data(self, data: Any, source: str) -> LoadReport:
        """The same as :meth:`load_yaml` from already-parsed data (API JSON; no line numbers)."""
        return self._load(Located(data, source, {}))

    def check_data(self, data: Any, source: str) -> list[DefinitionError]:
        """Validate definitions exactly as :meth:`load_data` would, without loading or storing them."""
        return list(
            parse_document(
                Located(data, source, {}), self.kernel, self.home_id, self._zones, self._scenes
            ).errors
        )

    def _load(self, located: Located) -> LoadReport:
        parsed = parse_document(located, self.kernel, self.home_id, self._zones, self._scenes)
        loaded: list[str] = []
        for zone in parsed.zones:
            self._put_document("zone", zone.id, located.source, parsed.data[("zone", zone.id)])
            self._zones[zone.id] = zone
            loaded.append(zone.id)
        for scene in parsed.scenes:
            self._put_document("scene", scene.id, located.source, parsed.data[("scene", scene.id)])
            self._scenes[scene.id] = scene
            loaded.append(scene.id)
        for automation in parsed.automations:
            self._put_document(
                "automation", automation.id, located.source, parsed.data[("automation", automation.id)]
            )
            self._activate(automation)
            loaded.append(automation.id)
        for error in parsed.errors:
            log.warning("refused: %s", error)
        return LoadReport(loaded, list(parsed.errors))

    def _put_document(self, kind: str, ident: str, source: str, data: Any) -> None:
        doc = StoredDocument(kind, ident, source, copy.deepcopy(data))
        self._documents[(kind, ident)] = doc
        self.store.save_document(doc)

    def _load_stored(self) -> None:
        self.load_errors = []
        docs = self.store.load_documents()
        order = {"zone": 0, "scene": 1, "automation": 2}
        for doc in sorted(docs, key=lambda d: order.get(d.kind, 3)):
            if doc.kind not in order:
                log.warning("ignoring a stored %s %r: unknown kind", doc.kind, doc.id)
                continue
            definition, errors = parse_definition(
                doc.kind, doc.data, doc.source, self.kernel, self.home_id, self._zones, self._scenes
            )
            self._documents[(doc.kind, doc.id)] = doc
            if definition is None:
                # kept in the store: it may load again once its device is back
                self.load_errors.extend(errors)
                for error in errors:
                    log.warning("stored %s %r does not load: %s", doc.kind, doc.id, error)
                continue
            if isinstance(definition, Zone):
                self._zones[definition.id] = definition
            elif isinstance(definition, Scene):
                self._scenes[definition.id] = definition
            else:
                self._activate(definition)

    # -------------------------------------------------------------- activation
    def _activate(self, automation: Automation) -> None:
        old = self._automations.get(automation.id)
        if old is not None:
            if (
                old.automation.fingerprint == automation.fingerprint
                and old.automation.enabled == automation.enabled
            ):
                old.automation = automation  # the same definition again: keep its runs and timers
                return
            self._deactivate(old, "replaced")
        state = _Active(automation, RunGate(automation.mode, automation.max_runs))
        if old is not None:
            state.last_triggered, state.last_result = old.last_triggered, old.last_result
        self._automations[automation.id] = state
        if self._started and automation.enabled:
            self._arm(state)

    def _arm(self, state: _Active) -> None:
        automation_id = state.automation.id
        for i, trigger in enumerate(state.automation.triggers):

            def on_fire(fire: Fire, automation_id: str = automation_id) -> None:
                self._triggered(automation_id, fire)

            armed = Armed(f"{automation_id}/{i}", trigger, on_fire, durable=True)
            state.armed.append(armed)
            self.index.arm(armed)

    def _disarm(self, state: _Active) -> None:
        for armed in state.armed:
            self.index.disarm(armed)
        state.armed.clear()

    def _deactivate(self, state: _Active, reason: str) -> None:
        """Stop an automation for good: triggers, runs and their stored records."""
        self._disarm(state)
        for run in state.gate.clear():
            self._cancel(run, reason)
        self._drop_pending(state.automation.id, f"the automation was {reason}")

    def _drop_pending(self, automation_id: str, why: str) -> None:
        for key, record in self.store.load_pending().items():
            if record.get("automation") == automation_id:
                log.info("dropping pending %s of automation %s: %s", key, automation_id, why)
                self.store.delete_pending(key)

    # -------------------------------------------------------------- resuming
    def _resume_pending(self) -> list[Run]:
        resumed: list[Run] = []
        records = self.store.load_pending()
        for key, record in sorted(records.items(), key=lambda kv: kv[1].get("deadline") or 0.0):
            automation_id = record.get("automation")
            state = self._automations.get(automation_id) if isinstance(automation_id, str) else None
            if state is None or record.get("fingerprint") != state.automation.fingerprint:
                log.info(
                    "dropping pending %s: automation %r was changed or removed while the hub was down",
                    key,
                    automation_id,
                )
                self.store.delete_pending(key)
                continue
            if not state.automation.enabled:
                log.info("dropping pending %s: automation %r is disabled", key, automation_id)
                self.store.delete_pending(key)
                continue
            try:
                if record.get("kind") == "for":
                    self._resume_for(state, key, record)
                elif record.get("kind") == "run":
                    resumed.append(self._resume_run(state, record))
                else:
                    raise ValueError(f"unknown kind {record.get('kind')!r}")
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("dropping pending %s: it cannot be resumed (%s)", key, exc)
                self.store.delete_pending(key)
        return resumed

    def _resume_for(self, state: _Active, key: str, record: dict[str, Any]) -> None:
        armed = self.index.armed(f"{state.automation.id}/{int(record['trigger'])}")
        if armed is None:
            raise ValueError("its trigger is not armed")
        deadline = float(record["deadline"])
        now = self.kernel.clock.now()
        left = deadline - now
        if left < RESUME_GRACE:
            # The state restored from the store is as old as the stop: give the devices a
            # moment to reconnect and re-report, so the trigger re-checks fresh values (and a
            # state that ended while the hub was down cancels it) before anything is sent.
            deadline = now + RESUME_GRACE
        log.info(
            "resuming %s: fires in %.0f s%s", key, deadline - now, "" if left > 0 else " (its time passed)"
        )
        self.index.start_for(armed, deadline, dict(record["values"]), record.get("start"))

    def _resume_run(self, state: _Active, record: dict[str, Any]) -> Run:
        ctx = record["context"]
        context = Context("automation", state.automation.id, str(ctx["id"]), ctx.get("parent_id"))
        run = Run(
            id=str(record["run_id"]),
            automation=state.automation,
            context=context,
            variables=dict(record["variables"]),
            trace=TraceBuilder.from_dict(record["trace"]),
            resume=record,
        )
        log.info("resuming run %s of %s at step %s", run.id, state.automation.id, record["path"])
        state.gate.resumed(run)
        self._launch(state, run)
        return run

    # -------------------------------------------------------- ForHooks (index)
    def for_started(self, armed: Armed) -> None:
        """Store a pending ``for`` with its absolute deadline."""
        if armed.pending is None:
            return
        automation_id, index = armed.key.rsplit("/", 1)
        state = self._automations.get(automation_id)
        deadline, values, start = armed.pending
        self.store.save_pending(
            "for/" + armed.key,
            {
                "kind": "for",
                "automation": automation_id,
                "trigger": int(index),
                "fingerprint": state.automation.fingerprint if state is not None else "",
                "deadline": deadline,
                "values": values,
                "start": start,
            },
        )

    def for_ended(self, armed: Armed) -> None:
        """Forget a stored ``for`` (it elapsed or the state stopped matching)."""
        self.store.delete_pending("for/" + armed.key)

    # ------------------------------------------------------------------ events
    def _on_event(self, event: Any) -> None:
        """The bus listener for events other than property changes (see :meth:`_property_listener`)."""
        kind = type(event)
        if kind is RegistryChanged:
            # the registry is re-read once per burst of changes, off the hot path
            if not self._registry_dirty:
                self._registry_dirty = True
                self._queue.put_nowait(event)
            return
        if self.index.wants(event):
            self._counts["events"] += 1
            try:
                self.index.handle(event)
            except Exception:
                log.exception("handling %s failed", getattr(event, "kind", event))

    def _property_listener(self) -> Callable[[PropertyChanged], None]:
        """The bus listener for property changes. It runs inline in the kernel's hot path, so
        it decides right here, with one dictionary lookup and at most two comparisons, whether
        a change can matter (see :meth:`TriggerIndex.gates`); most telemetry stops there. What
        fires is started as a task, and nothing here waits."""
        gates_get = self._gates.get  # the live dictionaries: mutated, never rebound
        coordinates = self._coordinates
        handle = self.index.handle_property
        counts = self._counts

        def on_property(event: PropertyChanged) -> None:
            key = (event.did, event.siid, event.piid)
            gate = gates_get(key)
            if gate is None:
                return
            if gate is not True:
                value = event.value
                kind = type(value)
                if not ((kind is float or kind is int) and gate[0] < value < gate[1]):
                    return
            counts["events"] += 1
            try:
                handle(event, key, key in coordinates)
            except Exception:
                log.exception("handling %s failed", event.kind)

        return on_property

    async def _dispatch(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                self._counts["events"] += 1
                if type(event) is RegistryChanged:
                    self._registry_dirty = False
                    self.presence.refresh()
                    self.index.refresh_coordinates()
                else:
                    self.index.handle(event)
            except Exception:
                log.exception("handling %s failed", getattr(event, "kind", event))
            finally:
                self._queue.task_done()

    def _facts(self) -> Facts:
        home = self.kernel.registry.homes.get(self.home_id)
        zones: dict[str, Zone] = dict(self._zones)
        home_zone = self.presence.home_zone()
        if home_zone is not None:
            zones[HOME_ZONE] = home_zone
        return Facts(
            self.kernel,
            self.presence,
            zones,
            home.timezone if home is not None else "UTC",
            home.latitude if home is not None else None,
            home.longitude if home is not None else None,
        )

    def _resolver(self) -> Resolver:
        return Resolver(self.kernel, self.home_id, self._zones)

    def _time_text(self, ts: float) -> str:
        home = self.kernel.registry.homes.get(self.home_id)
        # "18:41:07" as in docs/automations.md; the trace's timestamps give the day
        return local_time_text(ts, home.timezone if home is not None else "UTC").split(" ", 1)[-1]

    # -------------------------------------------------------------------- runs
    def _triggered(self, automation_id: str, fire: Fire) -> None:
        state = self._automations.get(automation_id)
        if state is None or not state.automation.enabled:
            return
        self._begin(state, fire.to_trace(), fire.context, skip_conditions=False)

    def _begin(
        self, state: _Active, trigger: dict[str, Any], parent: Context | None, *, skip_conditions: bool
    ) -> str:
        automation = state.automation
        now = self.kernel.clock.now()
        state.last_triggered = now
        run_id = _new_run_id()
        variables: dict[str, Any] = {"trigger": dict(trigger.get("values") or {})}
        results: list[ConditionResult] = []
        if not skip_conditions:
            ok, results = check_all(automation.conditions, self._facts(), variables)
            if not ok:
                trace = not_run_for_condition(run_id, automation.id, trigger, results, now, self._time_text)
                self._not_run(state, trace)
                return run_id
        context = Context.new("automation", automation.id, parent=parent)
        run = Run(run_id, automation, context, variables, TraceBuilder(run_id, automation.id, trigger, now))
        run.trace.data["context_id"] = context.id  # what the run's commands carry as their cause
        run.trace.conditions(results)
        admission = state.gate.admit(run)
        if admission.skip is not None:
            trace = not_run_for_mode(
                run_id, automation.id, trigger, results, admission.skip, now, self._time_text
            )
            self._counts["skipped"] += 1
            self._not_run(state, trace)
            return run_id
        for old in admission.cancel:
            self._cancel(old, "restart")
        if admission.start:
            self._launch(state, run)
        return run_id

    def _not_run(self, state: _Active, trace: dict[str, Any]) -> None:
        self._counts["not_run"] += 1
        state.last_not_run = trace
        state.last_result = trace["outcome"]
        self.store.add_trace(state.automation.id, trace, TRACES_KEPT)

    def _launch(self, state: _Active, run: Run) -> None:
        self._runs[run.id] = run
        self._counts["runs"] += 1
        run.task = asyncio.get_running_loop().create_task(
            self._drive(state, run), name=f"automation {run.id}"
        )

    def _cancel(self, run: Run, reason: str) -> None:
        run.cancel_reason = reason
        if run.task is not None:
            run.task.cancel()
        else:
            # queued, not started yet: it never ran
            self._finish(run, _cancelled(reason))

    async def _drive(self, state: _Active, run: Run) -> None:
        try:
            outcome = await self.runner.execute(run)
        except asyncio.CancelledError:
            reason = run.cancel_reason or "shutdown"
            if reason == "shutdown":
                if not run.durable:
                    run.trace.note("interrupted: the hub stopped")
                    self.store.add_trace(
                        run.automation.id,
                        run.trace.finish("interrupted: the hub stopped", self.kernel.clock.now()),
                        TRACES_KEPT,
                    )
                self._runs.pop(run.id, None)
                raise
            self.store.delete_pending(run.key)
            outcome = _cancelled(reason)
        except Exception as exc:  # a bug must not take the dispatcher down; the trace says what happened
            log.exception("run %s of %s failed", run.id, run.automation.id)
            outcome = f"failed: {type(exc).__name__}: {exc}"
        self._finish(run, outcome)
        if state is self._automations.get(run.automation.id) and self._started:
            following = state.gate.finished(run)
            if following is not None:
                self._launch(state, following)

    def _finish(self, run: Run, outcome: str) -> None:
        self._runs.pop(run.id, None)
        self._counts["finished"] += 1
        trace = run.trace.finish(outcome, self.kernel.clock.now())
        self.store.add_trace(run.automation.id, trace, TRACES_KEPT)
        state = self._automations.get(run.automation.id)
        if state is not None and state.automation.fingerprint == run.automation.fingerprint:
            state.last_result = outcome

    # ---------------------------------------------------------------- the API
    def _state(self, automation_id: str) -> _Active:
        state = self._automations.get(automation_id)
        if state is None:
            raise UnknownAutomation(automation_id)
        return state

    def automations(self) -> list[AutomationInfo]:
        """Every loaded automation with its runtime state, by id."""
        out = []
        for automation_id in sorted(self._automations):
            state = self._automations[automation_id]
            a = state.automation
            pending = sum(1 for armed in state.armed if armed.pending is not None)
            pending += sum(1 for run in state.gate.running if run.durable)
            out.append(
                AutomationInfo(
                    id=a.id,
                    name=a.name,
                    enabled=a.enabled,
                    mode=a.mode,
                    source=self._documents[("automation", a.id)].source
                    if ("automation", a.id) in self._documents
                    else a.source,
                    last_triggered=state.last_triggered,
                    last_result=state.last_result,
                    running=len(state.gate.running),
                    pending_timers=pending,
                )
            )
        return out

    def definition(self, automation_id: str) -> dict[str, Any]:
        """An automation's definition as stored (plain data)."""
        self._state(automation_id)
        return copy.deepcopy(self._documents[("automation", automation_id)].data)

    def remove(self, automation_id: str) -> None:
        """Remove an automation: its triggers, runs, pending timers and stored definition."""
        state = self._state(automation_id)
        self._deactivate(state, "removed")
        del self._automations[automation_id]
        self._documents.pop(("automation", automation_id), None)
        self.store.delete_document("automation", automation_id)

    def set_enabled(self, automation_id: str, enabled: bool) -> None:
        """Enable or disable an automation (stored). Disabling drops its pending ``for`` timers."""
        state = self._state(automation_id)
        if state.automation.enabled == enabled:
            return
        doc = self._documents[("automation", automation_id)]
        data = {**doc.data, "enabled": enabled}
        self._put_document("automation", automation_id, doc.source, data)
        state.automation = dataclasses.replace(state.automation, enabled=enabled)
        if enabled:
            if self._started:
                self._arm(state)
        else:
            for armed in state.armed:
                if armed.pending is not None:
                    self.for_ended(armed)
            self._disarm(state)

    def traces(self, automation_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest traces of an automation, newest first."""
        self._state(automation_id)
        return self.store.traces(automation_id, limit)

    def why_not(self, automation_id: str) -> dict[str, Any] | None:
        """Why the automation last did not run (a false condition, or its run mode), or ``None``."""
        state = self._state(automation_id)
        trace = state.last_not_run
        if trace is None:
            for stored in self.store.traces(automation_id, TRACES_KEPT):
                if stored.get("kind") == "not-run":
                    trace = stored
                    break
        return None if trace is None else why_not(trace)

    async def run(self, automation_id: str, context: Context, *, skip_conditions: bool = False) -> str:
        """Run an automation now, as if triggered; returns the run id (see its trace)."""
        state = self._state(automation_id)
        trigger = {
            "type": "manual",
            "description": f"run by {context.actor} {context.actor_id}",
            "values": {"type": "manual", "actor": context.actor, "actor_id": context.actor_id},
            "context_id": context.id,
        }
        return self._begin(state, trigger, context, skip_conditions=skip_conditions)

    def webhook(self, hook_id: str, payload: dict[str, Any]) -> int:
        """Fire the webhook triggers with this id; returns how many triggers fired."""
        return self.index.webhook(hook_id, payload, Context.new("api", "webhook"))

    def scenes(self) -> list[dict[str, Any]]:
        """Every scene, by id."""
        return [scene_to_dict(self._scenes[k]) for k in sorted(self._scenes)]

    async def apply_scene(self, scene_id: str, context: Context) -> list[dict[str, Any]]:
        """Apply a scene now; one result per state."""
        scene = self._scenes.get(scene_id)
        if scene is None:
            raise UnknownScene(scene_id)
        return await apply_scene(self.kernel, scene, context)

    def zones(self) -> list[dict[str, Any]]:
        """The home zone (if the home has a location) and every defined zone."""
        out = []
        home = self.presence.home_zone()
        zones: Mapping[str, Zone] = self._zones
        for zone, source in [(home, "home")] + [(zones[k], None) for k in sorted(zones)]:
            if zone is None:
                continue
            doc = self._documents.get(("zone", zone.id))
            out.append(
                {
                    "id": zone.id,
                    "name": zone.name,
                    "latitude": zone.latitude,
                    "longitude": zone.longitude,
                    "radius_m": zone.radius_m,
                    "source": source or (doc.source if doc is not None else "api"),
                }
            )
        return out

    def notifications(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent notifications, newest first."""
        return self.notifier.recent(limit)

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: runs, skipped and not-run triggers, failed actions, pending timers, index sizes."""
        pending_for = sum(1 for s in self._automations.values() for a in s.armed if a.pending is not None)
        waiting = sum(1 for r in self._runs.values() if r.durable)
        return {
            "automations": len(self._automations),
            "enabled": sum(1 for s in self._automations.values() if s.automation.enabled),
            "scenes": len(self._scenes),
            "zones": len(self._zones),
            "runs": self._counts["runs"],
            "runs_finished": self._counts["finished"],
            "running": len(self._runs),
            "not_run": self._counts["not_run"],
            "skipped": self._counts["skipped"],
            "failed_actions": self.runner.failed_actions,
            "pending_timers": pending_for + waiting,
            "timers": len(self.timers),
            "events_handled": self._counts["events"],
            "queue": self._queue.qsize(),
            "index": self.index.sizes,
            "load_errors": len(self.load_errors),
            "notifications": len(self.notifier),
        }
