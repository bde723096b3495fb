"""A local OpenAI-compatible chat-completions server for the LLM engine's tests.

It checks every request the way strict servers do and replays scripted replies in the
shapes real servers send (MiMo's API, vLLM, SGLang, llama.cpp, Ollama):

* the path is ``/v1/chat/completions`` (anything else: 404);
* ``Authorization: Bearer <key>`` when the server has a key (else 401, like MiMo);
* ``model`` is the served model (else 404, like vLLM);
* ``messages``: known roles, a system message only first, text content; an assistant
  message with ``tool_calls`` must not have ``content: null`` (MiMo answers 400); every
  tool call is answered by a ``tool`` message before the next turn; the last message
  is the user's; in thinking mode an assistant message with tool calls must carry the
  ``reasoning_content`` this server sent with them (MiMo answers 400 otherwise);
* ``tools`` are functions with valid, strict JSON schemas; ``tool_choice`` is valid;
* no unknown top-level fields, ``stream`` false, sane ``max_completion_tokens`` and
  ``temperature``, ``thinking`` in MiMo's form.

A request that breaks a rule gets MiMo's 400 error body and is listed in ``violations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from conftest import wait_until

_TOP_LEVEL = {
    "model",
    "messages",
    "tools",
    "tool_choice",
    "stream",
    "max_completion_tokens",
    "max_tokens",
    "temperature",
    "top_p",
    "thinking",
    "chat_template_kwargs",
}
_SCHEMA_KEYWORDS = {
    "type",
    "description",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "pattern",
    "minimum",
    "maximum",
}
_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


# ----------------------------------------------------------------------------- scripts
@dataclass
class Scripted:
    """One scripted reply: status, body (JSON or raw text), headers and a delay."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def call(name: str, arguments: Any, *, form: str = "string", call_id: str | None = None) -> dict[str, Any]:
    """A tool call; ``form``: ``string`` (JSON text), ``object``, ``fenced`` (```json …```), ``raw``."""
    if form == "string":
        args: Any = json.dumps(arguments, ensure_ascii=False)
    elif form == "object":
        args = arguments
    elif form == "fenced":
        args = "```json\n" + json.dumps(arguments, ensure_ascii=False) + "\n```"
    elif form == "raw":
        args = arguments
    else:
        raise ValueError(form)
    out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": args}}
    out["id"] = call_id or f"call_{uuid.uuid4().hex[:12]}"
    return out


def completion(
    message: dict[str, Any], finish_reason: str | None, model: str = "test-model"
) -> dict[str, Any]:
    """A chat-completions reply document around ``message``."""
    return {
        "id": uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def tool_reply(
    *calls: dict[str, Any],
    reasoning: str | None = None,
    content: str | None = None,
    finish_reason: str = "tool_calls",
) -> Scripted:
    """A reply with tool calls (``content`` null as MiMo and vLLM send it)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": list(calls)}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return Scripted(body=completion(message, finish_reason))


def text_reply(text: str, *, finish_reason: str = "stop", **extra: Any) -> Scripted:
    """A reply with text only (and extra message fields such as ``refusal``)."""
    return Scripted(body=completion({"role": "assistant", "content": text, **extra}, finish_reason))


def error_reply(
    status: int, message: str, *, param: str | None = None, headers: dict[str, str] | None = None
) -> Scripted:
    """An error in MiMo's shape: ``{"error": {"code", "message", "param", "type"}}``."""
    error = {"code": str(status), "message": message, "param": param, "type": ""}
    return Scripted(status=status, body={"error": error}, headers=headers or {})


# ------------------------------------------------------------------------------ checks
def schema_problems(schema: Any, path: str) -> list[str]:
    """What makes ``schema`` an invalid (or not strict) JSON schema for a tool."""
    if not isinstance(schema, dict):
        return [f"{path}: a schema must be an object"]
    problems = [f"{path}: unknown keyword {k!r}" for k in schema if k not in _SCHEMA_KEYWORDS]
    kind = schema.get("type")
    if kind is not None and kind not in _TYPES:
        problems.append(f"{path}: unknown type {kind!r}")
    if kind is None and "anyOf" not in schema and "enum" not in schema:
        problems.append(f"{path}: no type")
    if "description" in schema and not isinstance(schema["description"], str):
        problems.append(f"{path}: description must be a string")
    if "enum" in schema:
        enum = schema["enum"]
        if not isinstance(enum, list) or not enum:
            problems.append(f"{path}: enum must be a non-empty list")
        elif len({json.dumps(v) for v in enum}) != len(enum):
            problems.append(f"{path}: enum has duplicates")
        elif kind == "string" and not all(isinstance(v, str) for v in enum):
            problems.append(f"{path}: enum values must be strings")
    if kind == "object":
        props = schema.get("properties", {})
        if not isinstance(props, dict):
            problems.append(f"{path}: properties must be an object")
            props = {}
        for key, sub in props.items():
            problems += schema_problems(sub, f"{path}.{key}")
        required = schema.get("required", [])
        if not isinstance(required, list) or any(r not in props for r in required):
            problems.append(f"{path}: required names unknown properties")
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path}: objects must set additionalProperties: false")
    if kind == "array":
        problems += schema_problems(schema.get("items"), f"{path}[]")
    if "anyOf" in schema:
        options = schema["anyOf"]
        if not isinstance(options, list) or not options:
            problems.append(f"{path}: anyOf must be a non-empty list")
        else:
            for i, sub in enumerate(options):
                problems += schema_problems(sub, f"{path}.anyOf[{i}]")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError):
            problems.append(f"{path}: pattern does not compile")
    for bound in ("minimum", "maximum"):
        if bound in schema and (
            isinstance(schema[bound], bool) or not isinstance(schema[bound], int | float)
        ):
            problems.append(f"{path}: {bound} must be a number")
    return problems


class FakeLLM:
    """The server: start it, queue ``script`` replies, read ``requests`` and ``violations``."""

    def __init__(self, *, model: str = "test-model", api_key: str | None = "sk-test-1234567890") -> None:
        self.model = model
        self.api_key = api_key
        self.script: deque[Scripted] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.violations: list[str] = []
        #: tool call id → the reasoning_content this server sent with it
        self.reasoning_of: dict[str, str] = {}
        self._release = asyncio.Event()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self.port = 0
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])

    @property
    def base_url(self) -> str:
        """The API root, as a user would configure it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Scripted) -> None:
        """Queue replies, answered in order (one per request)."""
        self.script.extend(replies)

    async def start(self) -> None:
        """Serve on a loopback port chosen by the system (port 0)."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="fake-llm")
        self._sock = sock
        server, task = self._server, self._task
        await wait_until(lambda: server.started or task.done(), what="the fake LLM server to start")
        assert server.started, "the fake LLM server did not start"

    async def stop(self) -> None:
        """Stop serving (slow replies are released first); connections are refused after."""
        self._release.set()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, 10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._task = self._sock = None

    # ----------------------------------------------------------------- handling
    async def _handle(self, request: Request, path: str) -> Response:
        self.paths.append(request.url.path)
        if request.method != "POST" or request.url.path != "/v1/chat/completions":
            return JSONResponse({"error": {"code": "404", "message": "Not Found", "type": ""}}, 404)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": {"code": "401", "message": "Invalid API Key", "type": ""}}, 401)
        if self.api_key is None and "authorization" in request.headers:
            self.violations.append("Authorization sent without a key")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return self._reject("body is not JSON")
        self.requests.append(body)
        if not isinstance(body, dict):
            return self._reject("body is not an object")
        if body.get("model") != self.model:
            message = f"The model `{body.get('model')}` does not exist."
            return JSONResponse(
                {"object": "error", "message": message, "type": "NotFoundError", "code": 404}, 404
            )
        problems = self._check(body)
        if problems:
            return self._reject("; ".join(problems))
        scripted = self.script.popleft() if self.script else text_reply("(no reply scripted)")
        if scripted.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), scripted.delay)
        if scripted.status == 200 and isinstance(scripted.body, dict):
            self._remember_reasoning(scripted.body)
        if isinstance(scripted.body, dict | list):
            return JSONResponse(scripted.body, scripted.status, headers=scripted.headers)
        return Response(
            str(scripted.body or ""), scripted.status, headers=scripted.headers, media_type="text/plain"
        )

    def _reject(self, param: str) -> JSONResponse:
        self.violations.append(param)
        error = {"code": "400", "message": "Param Incorrect", "param": param, "type": ""}
        return JSONResponse({"error": error}, 400)

    def _remember_reasoning(self, body: Mapping[str, Any]) -> None:
        for choice in body.get("choices", []):
            message = choice.get("message", {})
            reasoning = message.get("reasoning_content")
            if isinstance(reasoning, str):
                for tc in message.get("tool_calls") or []:
                    self.reasoning_of[tc["id"]] = reasoning

    def _check(self, body: Mapping[str, Any]) -> list[str]:
        problems = [f"unknown field {k!r}" for k in body if k not in _TOP_LEVEL]
        if body.get("stream", False) is not False:
            problems.append("streaming is not expected")
        for key in ("max_completion_tokens", "max_tokens"):
            value = body.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                problems.append(f"{key} must be a positive integer")
        temp = body.get("temperature")
        if temp is not None and (
            isinstance(temp, bool) or not isinstance(temp, int | float) or not 0 <= temp <= 2
        ):
            problems.append("temperature must be in 0..2")
        thinking = body.get("thinking")
        if thinking is not None and thinking not in ({"type": "enabled"}, {"type": "disabled"}):
            problems.append("thinking must be {type: enabled|disabled}")
        problems += self._check_tools(body)
        problems += self._check_messages(body.get("messages"), thinking != {"type": "disabled"})
        return problems

    def _check_tools(self, body: Mapping[str, Any]) -> list[str]:
        tools = body.get("tools")
        problems: list[str] = []
        names: list[str] = []
        if tools is not None:
            if not isinstance(tools, list) or not tools:
                return ["tools must be a non-empty list"]
            for i, tool in enumerate(tools):
                fn = tool.get("function") if isinstance(tool, dict) else None
                if not isinstance(fn, dict) or tool.get("type") != "function":
                    problems.append(f"tools[{i}] is not a function")
                    continue
                name = fn.get("name")
                if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
                    problems.append(f"tools[{i}].function.name is invalid")
                names.append(str(name))
                if not isinstance(fn.get("description"), str):
                    problems.append(f"tools[{i}].function.description is missing")
                params = fn.get("parameters")
                if not isinstance(params, dict) or params.get("type") != "object":
                    problems.append(f"tools[{i}].function.parameters must be an object schema")
                else:
                    problems += schema_problems(params, f"tools[{i}].parameters")
            if len(set(names)) != len(names):
                problems.append("tool names must be unique")
        choice = body.get("tool_choice")
        if choice is not None:
            if tools is None:
                problems.append("tool_choice without tools")
            elif isinstance(choice, str):
                if choice not in ("auto", "none", "required"):
                    problems.append(f"tool_choice {choice!r} is invalid")
            elif not (isinstance(choice, dict) and choice.get("function", {}).get("name") in names):
                problems.append("tool_choice names no tool")
        return problems

    def _check_messages(self, messages: Any, thinking: bool) -> list[str]:
        if not isinstance(messages, list) or not messages:
            return ["messages must be a non-empty list"]
        problems: list[str] = []
        open_calls: list[str] = []
        for i, m in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(m, dict):
                problems.append(f"{where} is not an object")
                continue
            role = m.get("role")
            if open_calls and role != "tool":
                problems.append(f"{where}: tool calls {open_calls} were not answered by tool messages")
                open_calls = []
            if role not in ("system", "user", "assistant", "tool"):
                problems.append(f"{where}: unknown role {role!r}")
            elif role == "system" and i != 0:
                problems.append(f"{where}: a system message must come first")
            elif role in ("system", "user"):
                if not isinstance(m.get("content"), str) or not m["content"]:
                    problems.append(f"{where}: content must be non-empty text")
            elif role == "assistant":
                problems += self._check_assistant(m, where, thinking)
                open_calls = [str(tc.get("id")) for tc in m.get("tool_calls") or [] if isinstance(tc, dict)]
            elif role == "tool":
                if m.get("tool_call_id") not in open_calls:
                    problems.append(f"{where}: tool_call_id answers no open tool call")
                else:
                    open_calls.remove(m["tool_call_id"])
                if not isinstance(m.get("content"), str):
                    problems.append(f"{where}: tool content must be text")
        if open_calls:
            problems.append(f"tool calls {open_calls} were not answered")
        if messages[-1].get("role") != "user" if isinstance(messages[-1], dict) else True:
            problems.append("the last message must be the user's")
        return problems

    def _check_assistant(self, m: Mapping[str, Any], where: str, thinking: bool) -> list[str]:
        problems: list[str] = []
        calls = m.get("tool_calls")
        if "content" not in m:
            problems.append(f"{where}: content is missing")
        elif m["content"] is None and calls:
            problems.append(f"{where}: content must not be null")  # MiMo's rule
        elif m["content"] is not None and not isinstance(m["content"], str):
            problems.append(f"{where}: content must be text")
        for j, tc in enumerate(calls or []):
            fn = tc.get("function") if isinstance(tc, dict) else None
            if not isinstance(fn, dict) or not isinstance(tc.get("id"), str) or tc.get("type") != "function":
                problems.append(f"{where}.tool_calls[{j}] is malformed")
                continue
            if not isinstance(fn.get("arguments"), str):
                problems.append(f"{where}.tool_calls[{j}].function.arguments must be a JSON string")
            expected = self.reasoning_of.get(tc["id"])
            if thinking and expected is not None and m.get("reasoning_content") != expected:
                problems.append("The reasoning_content in the thinking mode must be passed back to the API.")
        return problems
