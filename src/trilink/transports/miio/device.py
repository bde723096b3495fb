"""One miIO device as the hub sees it: first contact, polling, and its commands.

:class:`MiioDevice` owns a :class:`MiioClient`. Its task connects (handshake, then
``miIO.info`` for the model), adopts the device into the kernel, and polls the
readable properties of its spec in batches; values go to the kernel with
``report_many``. A poll that fails is retried with exponential backoff, and after
``offline_after`` failed polls in a row the device is offline until one succeeds.
A successful command wakes the poll at once, so the kernel sees the device's own
confirmation of a write within a round trip instead of a poll interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Final

from trilink.kernel import CommandError, CommandTimeout, Kernel, Outcome, UnknownEntity
from trilink.model import DeviceSpec
from trilink.transports.backoff import backoff_delay
from trilink.transports.logs import RateLimitedLog
from trilink.transports.miio.errors import (
    UNREADABLE_ANSWER,
    DeviceError,
    MiioError,
    MiioTimeout,
    describe_code,
)
from trilink.transports.miio.protocol import MiioClient
from trilink.transports.miio.settings import MiioDeviceSettings
from trilink.transports.miio.stats import MiioStats

log = logging.getLogger("trilink.transports.miio")

#: per-property codes meaning "do not ask again": not readable, does not exist
_NEVER_READABLE: Final = frozenset({-4001, -4003})
#: code 1 means "accepted, being carried out": a success
_ACCEPTED: Final = 1


class MiioDevice:
    """A configured device, its conversation and its poll loop (see the module doc)."""

    def __init__(
        self,
        kernel: Kernel,
        settings: MiioDeviceSettings,
        spec: DeviceSpec,
        *,
        link_name: str,
        stats: MiioStats,
        limited_log: RateLimitedLog,
    ) -> None:
        self.kernel = kernel
        self.settings = settings
        self.spec = spec
        self.link_name = link_name
        self.stats = stats
        self.client = MiioClient(
            settings.host,
            settings.token_bytes,
            port=settings.port,
            timeout=settings.timeout,
            retries=settings.retries,
            max_in_flight=settings.max_in_flight,
            stats=stats,
            limited_log=limited_log,
        )
        self._limited = limited_log
        #: the kernel's did (known after the first contact unless configured)
        self.did: str | None = settings.did
        self.model: str | None = settings.model
        self.firmware: str | None = None
        #: failed polls in a row, and the wait before the next poll
        self.failures = 0
        self.next_delay = 0.0
        self.last_error: str | None = None
        self._readable = [(p.siid, p.iid) for p in spec.iter_properties() if p.readable]
        self._skipped: set[tuple[int, int]] = set()
        self._adopted = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------- lifecycle
    @property
    def adopted(self) -> bool:
        """Whether the kernel knows the device (after the first contact)."""
        return self._adopted

    async def connect(self) -> None:
        """First contact: handshake, model, adoption, first poll. Raises :class:`MiioError`."""
        await self.client.open()
        device_id = await self.client.handshake()
        await self._read_info()
        if self.did is None:
            self.did = f"miio-{device_id}"
        self.kernel.adopt(
            self.did,
            model=self.model or _model_of(self.spec),
            name=self.settings.name or self.spec.description or self.spec.name,
            spec=self.spec,
            transport=self.link_name,
            room=self.settings.room,
        )
        self._adopted = True
        await self.poll()

    async def _read_info(self) -> None:
        """The model and firmware from ``miIO.info``; devices that refuse it keep the spec's model.

        The answer also holds network details and, on some firmware, the token itself:
        only the two fields are kept, and the answer is never logged.
        """
        try:
            info = await self.client.request("miIO.info", [])
        except DeviceError:
            return
        if isinstance(info, dict):
            model, firmware = info.get("model"), info.get("fw_ver")
            if self.model is None and isinstance(model, str) and model:
                self.model = model[:64]
            if isinstance(firmware, str):
                self.firmware = firmware[:64]

    def start(self) -> None:
        """Start the poll loop (after :meth:`connect`, or to keep trying to make contact)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"miio-{self.settings.host}")

    async def stop(self) -> None:
        """Stop polling and close the socket; idempotent. The kernel keeps the device."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        self.client.close()

    async def _run(self) -> None:
        if self._adopted:  # connect() has just polled
            self.next_delay = self.settings.poll_interval
            await self._sleep(self.next_delay)
        while True:
            # a command that ends while this poll runs wakes the next one at once
            self._wake.clear()
            try:
                if not self._adopted:
                    await self.connect()
                else:
                    await self.poll()
            except MiioError as exc:
                self._failed(exc)
            except UnknownEntity:
                log.warning("%s was removed from the hub; it is no longer polled", self.did)
                return
            except Exception as exc:
                # a bug must not end polling for good: count it, show it, back off
                self._failed(exc)
                log.exception("%s: unexpected error while polling", self.client.where)
            else:
                self.failures = 0
                self.next_delay = self.settings.poll_interval
            await self._sleep(self.next_delay)

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.stats.poll_failures += 1
        self.last_error = self.stats.last_error = str(exc)
        self.next_delay = self._backoff(self.failures)
        if self._adopted and self.did is not None and self.failures >= self.settings.offline_after:
            if self.kernel.set_online(self.did, False):
                log.warning("%s: offline after %d failed polls: %s", self.did, self.failures, exc)
        else:
            self._limited.warning("poll-failed", "%s: poll failed, retrying: %s", self.client.where, exc)

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with jitter between ``backoff_min`` and ``backoff_max``."""
        return backoff_delay(failures - 1, self.settings.backoff_min, self.settings.backoff_max)

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if a command asked for a poll."""
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass

    # --------------------------------------------------------------- polling
    async def poll(self) -> int:
        """Read every readable property, in batches; report to the kernel. Returns values changed.

        Values of the batches that were answered are reported even if a later batch
        fails; the poll then raises, and counts as failed.
        """
        did = self.did
        assert did is not None
        self.stats.polls += 1
        changed = 0
        wanted = [key for key in self._readable if key not in self._skipped]
        for batch in _chunks(wanted, self.settings.batch_size):
            params = [{"did": did, "siid": siid, "piid": piid} for siid, piid in batch]
            answer = await self.client.request("get_properties", params)
            if self.kernel.set_online(did, True) and self.failures:
                log.warning("%s: online again", did)
            changed += self._report(did, answer)
        return changed

    def _report(self, did: str, answer: Any) -> int:
        if not isinstance(answer, list):
            raise MiioError(
                f"{self.client.where}: get_properties answered {type(answer).__name__}, not a list"
            )
        items: list[tuple[int, int, Any]] = []
        for entry in answer:
            if not isinstance(entry, dict):
                continue
            siid, piid, code = entry.get("siid"), entry.get("piid"), entry.get("code", 0)
            if not isinstance(siid, int) or not isinstance(piid, int):
                continue
            if code != 0:
                self._unreadable(did, siid, piid, code if isinstance(code, int) else UNREADABLE_ANSWER)
            elif "value" in entry:
                items.append((siid, piid, entry["value"]))
        changed, errors = self.kernel.report_many(did, items)
        self.stats.values_reported += len(items) - len(errors)
        if errors:
            self.stats.values_rejected += len(errors)
            self._limited.warning(
                "invalid-value",
                "%s: rejected %d of %d polled values, kept the others: %s",
                did,
                len(errors),
                len(items),
                "; ".join(str(e) for e in errors),
            )
        return changed

    def _unreadable(self, did: str, siid: int, piid: int, code: int) -> None:
        self.stats.count_property_error(code)
        if code in _NEVER_READABLE:
            self._skipped.add((siid, piid))
            log.warning(
                "%s: siid %d piid %d: %s (%d); it is not polled again",
                did,
                siid,
                piid,
                describe_code(code),
                code,
            )

    # -------------------------------------------------------------- commands
    async def set_property(self, siid: int, piid: int, value: Any) -> Outcome:
        """Write one property; the device's per-property code is the outcome's code."""
        params = [{"did": self.did, "siid": siid, "piid": piid, "value": value}]
        return await self._command("set_properties", params, _set_outcome)

    async def call_action(self, siid: int, aiid: int, args: Sequence[Any]) -> Outcome:
        """Run an action; ``out`` holds its output values.

        Actions are sent once, never retried: if only the answer was lost, a retry would
        run the action twice (a ``toggle`` would undo itself).
        """
        params = {"did": self.did, "siid": siid, "aiid": aiid, "in": list(args)}
        return await self._command("action", params, _action_outcome, retries=0)

    async def _command(self, method: str, params: Any, read: Any, retries: int | None = None) -> Outcome:
        did = self.did or self.settings.host
        self.stats.commands += 1
        try:
            answer = await self.client.request(method, params, retries=retries)
            outcome: Outcome = read(answer)
        except DeviceError as exc:
            outcome = Outcome(exc.code, exc.message)
        except MiioTimeout as exc:
            raise CommandTimeout(did, str(exc)) from None
        except MiioError as exc:
            raise CommandError(did, str(exc)) from None
        if outcome.ok:
            self._wake.set()  # read the device's state back now
        else:
            self.stats.commands_refused += 1
        return outcome


def _set_outcome(answer: Any) -> Outcome:
    """Real devices answer a list of ``{siid, piid, code}``; some just ``0`` or ``["ok"]``."""
    if isinstance(answer, list) and all(isinstance(e, dict) for e in answer):
        for entry in answer:
            code = entry.get("code", 0)
            if code not in (0, _ACCEPTED):
                return _refusal(code, entry.get("message"))
        return Outcome(0)
    if answer == 0 or answer == ["ok"]:
        return Outcome(0)
    if isinstance(answer, int) and not isinstance(answer, bool):
        return _refusal(answer, None)
    return Outcome(UNREADABLE_ANSWER, f"unreadable answer to set_properties: {str(answer)[:200]}")


def _action_outcome(answer: Any) -> Outcome:
    """Real devices answer ``{code, out}`` (out as values or ``{piid, value}``); some ``["ok"]``."""
    if isinstance(answer, dict) and "code" in answer:
        code = answer["code"]
        if code not in (0, _ACCEPTED):
            return _refusal(code, answer.get("message"))
        out = answer.get("out", [])
        if not isinstance(out, list):
            return Outcome(UNREADABLE_ANSWER, f"unreadable 'out' in the action's answer: {str(out)[:200]}")
        return Outcome(0, "", [e["value"] if isinstance(e, dict) and "value" in e else e for e in out])
    if answer == 0 or answer == ["ok"]:
        return Outcome(0)
    return Outcome(UNREADABLE_ANSWER, f"unreadable answer to action: {str(answer)[:200]}")


def _refusal(code: Any, message: Any) -> Outcome:
    if not isinstance(code, int) or isinstance(code, bool):
        return Outcome(UNREADABLE_ANSWER, f"the answer's code is not an integer: {str(code)[:50]}")
    text = message if isinstance(message, str) and message else describe_code(code)
    return Outcome(code, text)


def _chunks(items: list[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _model_of(spec: DeviceSpec) -> str:
    """A model id from the spec's URN (``…:zhimi-rmb1:2`` → ``zhimi-rmb1``) when the device gives none."""
    rest = spec.urn.rest
    return rest[0] if rest else spec.name
