"""Settings of the LLM engine: where the model is, how long to wait, from ``TRILINK_LLM_*``."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

log = logging.getLogger(__name__)

#: setting → the ``TRILINK_LLM_*`` variable it is read from
_ENV_OF: Final = {
    "base_url": "BASE_URL",
    "model": "MODEL",
    "api_key": "API_KEY",
    "timeout_s": "TIMEOUT",
    "max_tokens": "MAX_TOKENS",
    "temperature": "TEMPERATURE",
    "thinking": "THINKING",
}
_TRUE = frozenset({"1", "true", "yes", "on", "enabled"})
_FALSE = frozenset({"0", "false", "no", "off", "disabled"})


class LLMConfigError(ValueError):
    """A setting of the LLM engine has a value it cannot use; the message names the setting."""


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """How to reach an OpenAI-compatible chat-completions endpoint.

    ``base_url`` is the API root as the server documents it (``https://api.xiaomimimo.com/v1``,
    ``http://127.0.0.1:8000/v1``); requests go to ``{base_url}/chat/completions`` (a URL
    that already ends in ``/chat/completions`` is used as it is). ``timeout_s`` bounds a
    whole request, a retry after HTTP 429 included. ``thinking`` sends MiMo's
    ``thinking: {type: enabled|disabled}``; ``None`` sends nothing (the server's default).
    ``temperature`` ``None`` leaves the server's default. ``extra_body`` is merged into
    every request body last (e.g. ``{"chat_template_kwargs": {"enable_thinking": False}}``
    for vLLM or SGLang); ``headers`` are added to every request.
    """

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 8.0
    max_tokens: int = 1024
    temperature: float | None = None
    thinking: bool | None = None
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    extra_body: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        try:
            url = httpx.URL(self.base_url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise LLMConfigError(f"base_url: {self.base_url!r} is not a URL ({exc})") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise LLMConfigError(
                f"base_url: {self.base_url!r} must be an http:// or https:// URL with a host "
                "(e.g. http://127.0.0.1:8000/v1)"
            )
        if url.query or url.fragment:
            raise LLMConfigError(f"base_url: {self.base_url!r} must not have a query or fragment")
        if not isinstance(self.model, str) or not self.model.strip():
            raise LLMConfigError("model: must be a non-empty model name")
        if self.api_key is not None and (not self.api_key or any(c in self.api_key for c in "\r\n")):
            raise LLMConfigError("api_key: must be non-empty and on one line")
        t = self.timeout_s
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or not 0 < t <= 600:
            raise LLMConfigError(f"timeout_s: {t!r} must be a number of seconds in (0, 600]")
        m = self.max_tokens
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 1_000_000:
            raise LLMConfigError(f"max_tokens: {m!r} must be a whole number from 1 to 1000000")
        temp = self.temperature
        if temp is not None and (
            isinstance(temp, bool) or not isinstance(temp, int | float) or not 0 <= temp <= 2
        ):
            raise LLMConfigError(f"temperature: {temp!r} must be a number from 0 to 2")
        if self.thinking is not None and not isinstance(self.thinking, bool):
            raise LLMConfigError(f"thinking: {self.thinking!r} must be true, false or unset")
        for key in ("model", "messages", "tools", "tool_choice", "stream"):
            if key in self.extra_body:
                raise LLMConfigError(f"extra_body: {key!r} is set by the engine and cannot be overridden")

    @property
    def endpoint(self) -> str:
        """The chat-completions URL."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMSettings | None:
        """Settings from ``TRILINK_LLM_*`` variables; ``None`` without a base URL and a model.

        Reads ``TRILINK_LLM_BASE_URL``, ``TRILINK_LLM_MODEL``, ``TRILINK_LLM_API_KEY``,
        ``TRILINK_LLM_TIMEOUT`` (seconds), ``TRILINK_LLM_MAX_TOKENS``,
        ``TRILINK_LLM_TEMPERATURE`` and ``TRILINK_LLM_THINKING`` (on/off). Empty values count
        as unset. A malformed value raises :class:`LLMConfigError` naming the variable.
        ``environ`` defaults to ``os.environ``.
        """
        environ = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = environ.get(f"TRILINK_LLM_{name}", "").strip()
            return value or None

        base_url, model = get("BASE_URL"), get("MODEL")
        if base_url is None or model is None:
            if base_url is not None or model is not None:
                missing = "TRILINK_LLM_MODEL" if model is None else "TRILINK_LLM_BASE_URL"
                log.warning("LLM engine disabled: %s is not set", missing)
            return None
        kwargs: dict[str, Any] = {"base_url": base_url, "model": model, "api_key": get("API_KEY")}
        numbers = (("timeout_s", float), ("max_tokens", int), ("temperature", float))
        for key, kind in numbers:
            name = _ENV_OF[key]
            raw = get(name)
            if raw is None:
                continue
            try:
                kwargs[key] = kind(raw)
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise LLMConfigError(f"TRILINK_LLM_{name}: {raw!r} is not {what}") from None
        thinking = get("THINKING")
        if thinking is not None:
            if thinking.casefold() not in _TRUE | _FALSE:
                raise LLMConfigError(f"TRILINK_LLM_THINKING: {thinking!r} must be on or off")
            kwargs["thinking"] = thinking.casefold() in _TRUE
        try:
            return cls(**kwargs)
        except LLMConfigError as exc:
            setting, _, detail = str(exc).partition(": ")
            var = _ENV_OF.get(setting, setting.upper())
            raise LLMConfigError(f"TRILINK_LLM_{var}: {detail}") from None
