"""Which language a request is in: Chinese, Japanese or English, from its script."""

from __future__ import annotations

from trilink.copilot.intent import Language


def _is_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff" or "\uff66" <= ch <= "\uff9f"


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def detect_language(text: str, default: Language = "en") -> Language:
    """``ja`` if the text has kana, else ``zh`` if it has Han characters, else ``en``.

    Japanese sentences almost always carry kana (particles, verb endings); a text of Han
    characters only is taken as Chinese. Text with neither (digits only) gets ``default``.
    """
    han = False
    latin = False
    for ch in text:
        if _is_kana(ch):
            return "ja"
        if _is_han(ch):
            han = True
        elif ch.isascii() and ch.isalpha():
            latin = True
    if han:
        return "zh"
    return "en" if latin else default
