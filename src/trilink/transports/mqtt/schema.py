"""The trilink MQTT topic schema (v1) and its payload codecs; see ``docs/mqtt.md``.

This module is pure: no I/O and no kernel imports, so both the hub's transport and
device-side code (the simulator, or firmware written in Python) share one definition.

Topics (``{did}`` is ``[A-Za-z0-9._:-]{1,64}``)::

    trilink/v1/hub/status               hub  → all   "online" / "offline" (retained, LWT)
    trilink/v1/dev/{did}/availability   dev  → hub   "online" / "offline" (retained, LWT)
    trilink/v1/dev/{did}/announce       dev  → hub   who the device is and its spec (retained)
    trilink/v1/dev/{did}/report         dev  → hub   property values
    trilink/v1/dev/{did}/event          dev  → hub   a spec event with its arguments
    trilink/v1/dev/{did}/set            hub  → dev   write properties (with a request id)
    trilink/v1/dev/{did}/call           hub  → dev   run an action (with a request id)
    trilink/v1/dev/{did}/result         dev  → hub   the answer to a set or call
    trilink/v1/dev/{did}/sync           hub  → dev   "send me everything again"

Every JSON payload is UTF-8 and at most :data:`MAX_PAYLOAD` bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

PREFIX: Final = "trilink/v1"
HUB_STATUS: Final = f"{PREFIX}/hub/status"
ONLINE: Final = "online"
OFFLINE: Final = "offline"
MAX_PAYLOAD: Final = 256 * 1024

#: message kinds a device publishes and the hub subscribes to
DEVICE_TO_HUB: Final = ("availability", "announce", "report", "event", "result")
#: message kinds the hub publishes and a device subscribes to
HUB_TO_DEVICE: Final = ("set", "call", "sync")

_DID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class PayloadError(ValueError):
    """A message did not follow the schema; the message says which rule it broke.

    ``reason`` is a short stable label for counters (``bad-payload`` unless a subclass
    says otherwise).
    """

    reason = "bad-payload"


class BadTopic(PayloadError):
    """A topic is not one of the schema's device topics."""

    reason = "bad-topic"


class OversizedPayload(PayloadError):
    """A payload is larger than :data:`MAX_PAYLOAD`."""

    reason = "oversized"


class NotJson(PayloadError):
    """A payload is not valid UTF-8 JSON."""

    reason = "not-json"


def valid_did(did: str) -> bool:
    """Whether ``did`` can be used in a topic."""
    return bool(_DID.match(did))


def topic(did: str, kind: str) -> str:
    """The topic of message ``kind`` for device ``did``."""
    if not valid_did(did):
        raise PayloadError(f"invalid did {did!r}: use 1-64 of A-Z a-z 0-9 . _ : -")
    return f"{PREFIX}/dev/{did}/{kind}"


def subscriptions_for_hub() -> list[str]:
    """The topic filters the hub subscribes to."""
    return [HUB_STATUS] + [f"{PREFIX}/dev/+/{kind}" for kind in DEVICE_TO_HUB]


def subscriptions_for_device(did: str) -> list[str]:
    """The topic filters a device subscribes to."""
    return [HUB_STATUS] + [topic(did, kind) for kind in HUB_TO_DEVICE]


def split_topic(name: str) -> tuple[str, str]:
    """``(did, kind)`` of a device topic; raises :class:`PayloadError` if it is not one."""
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != "trilink" or parts[1] != "v1" or parts[2] != "dev":
        raise BadTopic(f"not a trilink device topic: {name!r}")
    did, kind = parts[3], parts[4]
    if not _DID.match(did):
        raise BadTopic(f"invalid did in topic {name!r}")
    return did, kind


# ------------------------------------------------------------------- decoding
def _load(payload: bytes | str) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise OversizedPayload(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise NotJson(f"not valid JSON: {exc}") from None


def _obj(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PayloadError(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def _iid(obj: dict[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if type(value) is not int or value < 0:
        raise PayloadError(f"{where}: {key!r} must be a non-negative integer, got {value!r}")
    return value


def _ts(obj: dict[str, Any]) -> float | None:
    ts = obj.get("ts")
    if ts is None:
        return None
    if type(ts) not in (int, float) or ts < 0:
        raise PayloadError(f"'ts' must be epoch seconds, got {ts!r}")
    return float(ts)


def _request_id(obj: dict[str, Any]) -> str:
    rid = obj.get("id")
    if not isinstance(rid, str) or not 0 < len(rid) <= 64:
        raise PayloadError(f"'id' must be a string of 1-64 characters, got {rid!r}")
    return rid


def _prop_items(obj: dict[str, Any], where: str, with_value: bool = True) -> list[tuple[int, int, Any]]:
    props = obj.get("properties")
    if not isinstance(props, list) or not props:
        raise PayloadError(f"{where}: 'properties' must be a non-empty list")
    out = []
    for i, item in enumerate(props):
        if not isinstance(item, dict):
            raise PayloadError(f"{where}: properties[{i}] must be an object")
        if with_value and "value" not in item:
            raise PayloadError(f"{where}: properties[{i}] has no 'value'")
        out.append(
            (
                _iid(item, "siid", f"{where} properties[{i}]"),
                _iid(item, "piid", f"{where} properties[{i}]"),
                item.get("value") if with_value else item.get("code", 0),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Report:
    """Property values a device reports: ``(siid, piid, value)`` items."""

    items: list[tuple[int, int, Any]]
    ts: float | None = None


@dataclass(frozen=True, slots=True)
class EventMessage:
    """A device event: ``arguments`` by piid."""

    siid: int
    eiid: int
    arguments: dict[int, Any]
    ts: float | None = None


@dataclass(frozen=True, slots=True)
class Announce:
    """Who a device is: its model and, for models the hub may not know, its whole spec."""

    did: str
    model: str
    name: str
    spec: dict[str, Any] | None = None
    room: str | None = None
    kind: str | None = None
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class SetRequest:
    """A hub's write request: ``(siid, piid, value)`` items."""

    id: str
    items: list[tuple[int, int, Any]]


@dataclass(frozen=True, slots=True)
class CallRequest:
    """A hub's action request."""

    id: str
    siid: int
    aiid: int
    args: list[Any]


@dataclass(frozen=True, slots=True)
class Result:
    """A device's answer to a set or call; ``code`` 0 is success."""

    id: str
    code: int = 0
    message: str = ""
    out: list[Any] = field(default_factory=list)
    codes: list[tuple[int, int, int]] = field(default_factory=list)


def parse_report(payload: bytes | str) -> Report:
    """Decode a ``report`` payload: ``{"properties": [{"siid","piid","value"}], "ts"?}``."""
    obj = _obj(_load(payload), "report")
    return Report(_prop_items(obj, "report"), _ts(obj))


def parse_event(payload: bytes | str) -> EventMessage:
    """Decode an ``event`` payload: ``{"siid","eiid","arguments":[{"piid","value"}],"ts"?}``."""
    obj = _obj(_load(payload), "event")
    args = obj.get("arguments", [])
    if not isinstance(args, list):
        raise PayloadError("event: 'arguments' must be a list")
    by_piid: dict[int, Any] = {}
    for i, arg in enumerate(args):
        if not isinstance(arg, dict) or "value" not in arg:
            raise PayloadError(f"event: arguments[{i}] must be an object with 'piid' and 'value'")
        by_piid[_iid(arg, "piid", f"event arguments[{i}]")] = arg["value"]
    return EventMessage(_iid(obj, "siid", "event"), _iid(obj, "eiid", "event"), by_piid, _ts(obj))


def parse_announce(payload: bytes | str) -> Announce:
    """Decode an ``announce`` payload (see ``docs/mqtt.md``)."""
    obj = _obj(_load(payload), "announce")
    did, model = obj.get("did"), obj.get("model")
    if not isinstance(did, str) or not valid_did(did):
        raise PayloadError(f"announce: 'did' must be a valid did, got {did!r}")
    if not isinstance(model, str) or not model:
        raise PayloadError(f"announce: 'model' must be a non-empty string, got {model!r}")
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise PayloadError("announce: 'spec' must be a MIoT-Spec-V2 object")
    texts = {}
    for key in ("name", "room", "kind", "owner"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            raise PayloadError(f"announce: {key!r} must be a string")
        texts[key] = value
    return Announce(did, model, texts["name"] or did, spec, texts["room"], texts["kind"], texts["owner"])


def parse_set(payload: bytes | str) -> SetRequest:
    """Decode a ``set`` payload: ``{"id", "properties": [{"siid","piid","value"}]}``."""
    obj = _obj(_load(payload), "set")
    return SetRequest(_request_id(obj), _prop_items(obj, "set"))


def parse_call(payload: bytes | str) -> CallRequest:
    """Decode a ``call`` payload: ``{"id", "siid", "aiid", "in": [...]}``."""
    obj = _obj(_load(payload), "call")
    args = obj.get("in", [])
    if not isinstance(args, list):
        raise PayloadError("call: 'in' must be a list")
    return CallRequest(_request_id(obj), _iid(obj, "siid", "call"), _iid(obj, "aiid", "call"), args)


def parse_result(payload: bytes | str) -> Result:
    """Decode a ``result`` payload: ``{"id","code","message"?,"out"?,"properties"?}``."""
    obj = _obj(_load(payload), "result")
    code = obj.get("code", 0)
    if type(code) is not int:
        raise PayloadError(f"result: 'code' must be an integer, got {code!r}")
    message = obj.get("message", "")
    if not isinstance(message, str):
        raise PayloadError("result: 'message' must be a string")
    out = obj.get("out", [])
    if not isinstance(out, list):
        raise PayloadError("result: 'out' must be a list")
    codes = []
    if "properties" in obj:
        codes = [
            (s, p, c if type(c) is int else -1) for s, p, c in _prop_items(obj, "result", with_value=False)
        ]
    return Result(_request_id(obj), code, message, out, codes)


# ------------------------------------------------------------------- encoding
def encode_report(items: list[tuple[int, int, Any]], ts: float | None = None) -> bytes:
    """Encode a ``report`` payload."""
    obj: dict[str, Any] = {"properties": [{"siid": s, "piid": p, "value": v} for s, p, v in items]}
    if ts is not None:
        obj["ts"] = ts
    return orjson.dumps(obj)


def encode_event(siid: int, eiid: int, arguments: dict[int, Any], ts: float | None = None) -> bytes:
    """Encode an ``event`` payload."""
    obj: dict[str, Any] = {
        "siid": siid,
        "eiid": eiid,
        "arguments": [{"piid": p, "value": v} for p, v in arguments.items()],
    }
    if ts is not None:
        obj["ts"] = ts
    return orjson.dumps(obj)


def encode_announce(announce: Announce) -> bytes:
    """Encode an ``announce`` payload (``None`` fields are left out)."""
    obj = {
        "did": announce.did,
        "model": announce.model,
        "name": announce.name,
        "spec": announce.spec,
        "room": announce.room,
        "kind": announce.kind,
        "owner": announce.owner,
    }
    return orjson.dumps({k: v for k, v in obj.items() if v is not None})


def encode_set(request_id: str, items: list[tuple[int, int, Any]]) -> bytes:
    """Encode a ``set`` payload."""
    return orjson.dumps(
        {"id": request_id, "properties": [{"siid": s, "piid": p, "value": v} for s, p, v in items]}
    )


def encode_call(request_id: str, siid: int, aiid: int, args: list[Any]) -> bytes:
    """Encode a ``call`` payload."""
    return orjson.dumps({"id": request_id, "siid": siid, "aiid": aiid, "in": args})


def encode_result(result: Result) -> bytes:
    """Encode a ``result`` payload."""
    obj: dict[str, Any] = {"id": result.id, "code": result.code}
    if result.message:
        obj["message"] = result.message
    if result.out:
        obj["out"] = result.out
    if result.codes:
        obj["properties"] = [{"siid": s, "piid": p, "code": c} for s, p, c in result.codes]
    return orjson.dumps(obj)
