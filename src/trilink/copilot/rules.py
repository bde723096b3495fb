"""The rules engine: colloquial, implicit and conditional requests, with no model and no network.

:meth:`RulesEngine.understand` reads a request (:mod:`trilink.copilot.wording`) and tries,
in order:

1. an automation in words — "when I get home after dark, turn on the hallway light"
   (:mod:`trilink.copilot.automations`);
2. questions and commands, clause by clause (:mod:`trilink.copilot.questions`,
   :mod:`trilink.copilot.commands`);
3. a need behind the words — "好热", "おやすみ", "I'm heading home"
   (:mod:`trilink.copilot.needs`), with ``why`` set.

It returns ``None`` when it understands nothing — also for empty, over-long or
control-character text, and for a command to be done later ("turn off the light in ten
minutes"), which it cannot schedule and must not do now. It never raises on any string.

Names from the vocabulary are data: they are found first and masked, so the words of a
device's name never act as words of the request.
"""

from __future__ import annotations

import re
from typing import Final

from trilink.copilot import automations, needs
from trilink.copilot.commands import clause_intents
from trilink.copilot.intent import Intent, Language, Understanding
from trilink.copilot.vocabulary import Vocabulary
from trilink.copilot.wording import Reading, read

#: longer requests are not spoken requests
MAX_LENGTH: Final = 300
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: a command for later: the engine cannot schedule it, and must not do it now
_LATER: Final = re.compile(
    r"\bin (?:a |an |\d+ |[a-z]+ )(?:few |couple of )?(?:minutes?|mins?|hours?|hrs?|seconds?|secs?)\b"
    r"|\blater\b|\btomorrow\b|\btonight at\b|\bat \d{1,2}:\d{2}\b|\b\d{1,2}(?::\d{2})?\s*(?:am|pm|o'?clock)\b"
    r"|\bat (?:1[0-2]|0?\d)\b(?![.:]?\d|\s*(?:%|percent|degrees?|°|c\b))|\bat (?:noon|midnight)\b"
    r"|(?:分钟|小时|钟头|秒)(?:之?后|以后)|待会|等会|一会儿|明天|明早|今晚\S{0,3}[点時]"
    r"|(?:\d{1,2}|十[一二]?|[两二三四五六七八九])\s*[点點](?![零一二三四五六七八九\d]+\s*(?:度|%|℃|°))"
    r"|(?:早上|上午|中午|下午|傍晚|晚上|夜里|凌晨|半夜)\s*一\s*点"
    r"|分後|時間後|秒後|あとで|後で|明日|(?:\d|[一二三四五六七八九十])\s*時(?![間停])"
)


class RulesEngine:
    """Understands requests by rules (see the module docs); ``source`` is ``"rules"``."""

    name = "rules"

    def __init__(self, *, strict: bool = False) -> None:
        #: raise a rule's own error instead of answering ``None`` (for tests)
        self.strict = strict

    def understand(
        self, text: str, vocabulary: Vocabulary, language: Language, *, speaker: str | None = None
    ) -> Understanding | None:
        """What ``text`` asks for, or ``None``. ``speaker`` is the person's id, if known."""
        try:
            return self._understand(text, vocabulary, language, speaker)
        except Exception:  # a bug in a rule must not take the request down
            if self.strict:
                raise
            return None

    def _understand(
        self, text: str, vocabulary: Vocabulary, language: Language, speaker: str | None
    ) -> Understanding | None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_LENGTH or _CONTROL.search(text):
            return None
        reading = read(text, vocabulary, language)
        automation = automations.understand(reading, speaker)
        if automation is not None:
            return self._result(reading, (automation,), None) if automation.name != "unknown" else None
        intents, timed = clause_intents(reading)
        if timed or (intents and _LATER.search(reading.named) and not _is_question(intents)):
            return None
        if intents:
            return self._result(reading, tuple(intents), None)
        need = needs.understand(reading)
        if need is not None and not _LATER.search(reading.named):  # "我一会儿出门": not yet
            why, need_intents = need
            return self._result(reading, tuple(need_intents), why)
        return None

    def _result(self, reading: Reading, intents: tuple[Intent, ...], why: str | None) -> Understanding:
        return Understanding(reading.language, intents, self.name, why=why, text=reading.original)


def _is_question(intents: list[Intent]) -> bool:
    return all(i.name == "query" for i in intents)
