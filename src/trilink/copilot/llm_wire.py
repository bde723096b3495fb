"""The wire side of the LLM engine: one chat-completions request, its reply, a conversation.

Speaks the OpenAI chat-completions protocol as MiMo's API, vLLM, SGLang, llama.cpp's
server and Ollama implement it, and smooths over where they differ:

* an assistant message with ``tool_calls`` is replayed with ``content: ""``, never
  ``null`` (MiMo rejects ``null`` with HTTP 400);
* ``reasoning_content`` (or ``reasoning``) of a thinking-mode reply is echoed back, under
  the name it came with, on that assistant message in later turns (MiMo requires it);
* ``function.arguments`` may arrive as a JSON string, as an object, or as JSON in a
  Markdown code fence;
* HTTP 429 is retried once, after ``Retry-After``/``retry-after-ms``, if that fits in the
  time left.

Every failure becomes :class:`LLMUnavailable` with a short reason and a code, so the
caller can fall back to the offline engine. Nothing here knows about devices.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from trilink.copilot.llm_settings import LLMSettings

log = logging.getLogger(__name__)

#: codes of :class:`LLMUnavailable`
FAILURE_CODES: Final = frozenset(
    {"connect", "timeout", "http", "rate-limited", "malformed", "truncated", "no-tool-call", "refusal"}
)

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


class LLMUnavailable(Exception):
    """The model gave no usable answer; the caller falls back to the offline engine.

    ``code`` is one of :data:`FAILURE_CODES`; ``status`` the HTTP status if there was one.
    The reason never contains the API key.
    """

    def __init__(self, reason: str, *, code: str = "malformed", status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call of a reply; ``arguments`` is ``None`` when they could not be read."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    #: the arguments as a JSON string, for replaying the call
    raw_arguments: str
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class AssistantTurn:
    """The assistant message of a reply, as far as the engine uses it."""

    content: str | None
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None
    reasoning: str | None = None
    #: the field the reasoning came in (``reasoning_content`` or ``reasoning``), echoed as such
    reasoning_field: str = "reasoning_content"
    refusal: str | None = None

    def as_message(self) -> dict[str, Any]:
        """The message to replay in a later turn: ``content`` never null, reasoning echoed."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.raw_arguments}}
                for c in self.tool_calls
            ]
        if self.reasoning is not None:
            message[self.reasoning_field] = self.reasoning
        return message


class Conversation:
    """The history of a multi-turn exchange, replayed the way the servers require.

    Each exchange is the user's text, the assistant's message (see
    :meth:`AssistantTurn.as_message`) and one ``tool`` message per tool call saying what
    became of it. Only the last ``max_exchanges`` are kept; the system prompt is not
    stored (it is rebuilt for every request from the home as it is then).
    """

    def __init__(self, max_exchanges: int = 4) -> None:
        if max_exchanges < 1:
            raise ValueError("max_exchanges must be at least 1")
        self.max_exchanges = max_exchanges
        self._exchanges: list[list[dict[str, Any]]] = []

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The stored messages, oldest first (copies)."""
        return [json.loads(json.dumps(m)) for ex in self._exchanges for m in ex]

    def __len__(self) -> int:
        return len(self._exchanges)

    def record(self, user_text: str, turn: AssistantTurn, results: Mapping[str, str]) -> None:
        """Store one exchange; ``results`` maps each tool call id to its ``tool`` message."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": user_text}, turn.as_message()]
        for call in turn.tool_calls:
            content = results.get(call.id, '{"ok": false, "error": "not used"}')
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
        self._exchanges.append(messages)
        del self._exchanges[: -self.max_exchanges]


# ----------------------------------------------------------------------------- requests
def request_body(
    settings: LLMSettings, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The JSON body of one chat-completions request."""
    body: dict[str, Any] = {
        "model": settings.model,
        "messages": list(messages),
        "tools": list(tools),
        "tool_choice": "auto",
        "stream": False,
        "max_completion_tokens": settings.max_tokens,
    }
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.thinking is not None:
        body["thinking"] = {"type": "enabled" if settings.thinking else "disabled"}
    body.update(settings.extra_body)
    return body


def _headers(settings: LLMSettings) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    headers.update(settings.headers)
    return headers


async def chat(
    client: httpx.AsyncClient,
    settings: LLMSettings,
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
) -> AssistantTurn:
    """Send one request (one retry after HTTP 429) within ``settings.timeout_s``; parse the reply."""
    body = json.dumps(request_body(settings, messages, tools), ensure_ascii=False).encode()
    deadline = time.monotonic() + settings.timeout_s
    try:
        async with asyncio.timeout(settings.timeout_s):
            response = await _post(client, settings, body, deadline)
            if response.status_code == 429:
                wait = _retry_after(response)
                left = deadline - time.monotonic()
                if wait is None or wait > left - 0.05:
                    raise _http_failure(response, settings, "rate-limited")
                log.info("LLM server is rate limiting; retrying once in %.2f s", wait)
                await asyncio.sleep(wait)
                response = await _post(client, settings, body, deadline)
            if response.status_code == 429:
                raise _http_failure(response, settings, "rate-limited")
            if response.status_code >= 400:
                raise _http_failure(response, settings, "http")
            return parse_reply(response.content)
    except (TimeoutError, httpx.TimeoutException):
        raise LLMUnavailable(f"no reply within {settings.timeout_s:g} s", code="timeout") from None


async def _post(
    client: httpx.AsyncClient, settings: LLMSettings, body: bytes, deadline: float
) -> httpx.Response:
    left = max(0.01, deadline - time.monotonic())
    try:
        return await client.post(
            settings.endpoint, content=body, headers=_headers(settings), timeout=httpx.Timeout(left)
        )
    except httpx.TimeoutException:
        raise
    except httpx.TransportError as exc:
        detail = str(exc) or type(exc).__name__
        raise LLMUnavailable(f"cannot reach {settings.endpoint}: {detail}", code="connect") from None


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    ms = response.headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _http_failure(response: httpx.Response, settings: LLMSettings, code: str) -> LLMUnavailable:
    message = server_message(response.content)
    if settings.api_key:
        message = message.replace(settings.api_key, "***")
    what = "rate limited" if code == "rate-limited" else f"HTTP {response.status_code}"
    reason = f"{what} from {settings.endpoint}" + (f": {message}" if message else "")
    return LLMUnavailable(reason, code=code, status=response.status_code)


def server_message(content: bytes) -> str:
    """The error message of an error reply, in the shapes the servers use, shortened."""
    text = content.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
    except ValueError:
        return _short(text)
    parts: list[str] = []
    if isinstance(doc, dict):
        error = doc.get("error", doc)
        if isinstance(error, str):
            parts.append(error)
        elif isinstance(error, dict):
            for key in ("message", "param", "detail"):
                value = error.get(key)
                if isinstance(value, str) and value and value not in parts:
                    parts.append(value)
                elif isinstance(value, list):
                    parts.append(json.dumps(value, ensure_ascii=False))
    return _short(": ".join(parts) if parts else text)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------ replies
def parse_reply(content: bytes) -> AssistantTurn:
    """The assistant turn of a chat-completions reply; raises :class:`LLMUnavailable`."""
    try:
        doc = json.loads(content)
    except ValueError:
        raise LLMUnavailable(
            f"the reply is not JSON: {_short(content.decode('utf-8', 'replace'), 120)}"
        ) from None
    if isinstance(doc, dict) and "error" in doc and "choices" not in doc:
        raise LLMUnavailable(f"the server answered with an error: {server_message(content)}", code="http")
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMUnavailable("the reply has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise LLMUnavailable("the reply's choice has no message")
    finish = choice.get("finish_reason")
    finish = finish if isinstance(finish, str) else None
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        raise LLMUnavailable(f"the model refused: {_short(refusal, 200)}", code="refusal")
    if finish == "length":
        raise LLMUnavailable("the reply was cut off at max_tokens (finish_reason: length)", code="truncated")
    if finish == "content_filter":
        raise LLMUnavailable("the reply was withheld by a content filter", code="refusal")
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise LLMUnavailable("the reply's tool_calls is not a list")
    calls: list[ToolCall] = []
    for i, raw in enumerate(raw_calls):
        tc = _tool_call(raw, i)
        if any(c.id == tc.id for c in calls):  # some servers repeat ids; each needs its tool message
            tc = replace(tc, id=f"{tc.id}_{i}")
        calls.append(tc)
    text = message.get("content")
    reasoning_field, reasoning = "reasoning_content", message.get("reasoning_content")
    if not isinstance(reasoning, str):
        reasoning_field, reasoning = "reasoning", message.get("reasoning")
    return AssistantTurn(
        content=text if isinstance(text, str) else None,
        tool_calls=tuple(calls),
        finish_reason=finish,
        reasoning=reasoning if isinstance(reasoning, str) else None,
        reasoning_field=reasoning_field if isinstance(reasoning, str) else "reasoning_content",
    )


def _tool_call(raw: Any, index: int) -> ToolCall:
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), dict):
        return ToolCall(f"call_{index}", "", None, "{}", "a tool call without a function")
    function = raw["function"]
    raw_id, raw_name = raw.get("id"), function.get("name")
    call_id = raw_id if isinstance(raw_id, str) and raw_id else f"call_{index}"
    name = raw_name if isinstance(raw_name, str) else ""
    args, problem = read_arguments(function.get("arguments"))
    raw_args = function["arguments"] if isinstance(function.get("arguments"), str) else json.dumps(args or {})
    return ToolCall(call_id, name, args, raw_args, problem)


def read_arguments(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A tool call's arguments: a JSON string, an object, or JSON in a code fence."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    if not isinstance(raw, str):
        return None, f"arguments of type {type(raw).__name__}"
    fenced = _FENCE.match(raw)
    text = fenced.group(1) if fenced else raw
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"arguments are not JSON ({exc.args[0] if exc.args else exc})"
    if not isinstance(value, dict):
        return None, "arguments are not a JSON object"
    return value, None
