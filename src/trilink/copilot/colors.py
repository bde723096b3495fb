"""Light colours: their names in English, Chinese and Japanese, and their RGB values.

A MIoT light's ``color`` property is one integer, ``0xRRGGBB`` (0–16777215). A request
names a colour in words ("red", "红色", "赤"); the grammar reports Home Assistant's
English colour names ("red", "turquoise"). :func:`rgb_of` turns either, or an RGB
integer or ``#rrggbb`` text, into the integer a light takes; :func:`color_label` says a
colour back in the request's language.

Black is a colour name but not a light colour: it has no RGB value here, so "make the
light black" is reported rather than sent. White tints ("warm white", "暖光") are colour
temperatures, not colours (see :mod:`trilink.copilot.wording`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from trilink.copilot.intent import Language

#: a colour's canonical name → its RGB value (saturated, as a light shows it)
COLORS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "white": 0xFFFFFF,
        "red": 0xFF0000,
        "orange": 0xFFA500,
        "yellow": 0xFFFF00,
        "green": 0x00FF00,
        "cyan": 0x00FFFF,
        "turquoise": 0x40E0D0,
        "blue": 0x0000FF,
        "purple": 0x800080,
        "magenta": 0xFF00FF,
        "pink": 0xFFC0CB,
        "brown": 0xA52A2A,
    }
)

#: a colour's canonical name → how each language says it (the first word is the one said back)
_WORDS: Final[Mapping[str, Mapping[Language, tuple[str, ...]]]] = {
    "white": {"en": ("white",), "zh": ("白色", "白"), "ja": ("白", "ホワイト", "白色")},
    "red": {"en": ("red",), "zh": ("红色", "紅色", "红"), "ja": ("赤", "レッド", "赤色")},
    "orange": {"en": ("orange",), "zh": ("橙色", "橘色", "橙"), "ja": ("オレンジ", "橙", "橙色")},
    "yellow": {"en": ("yellow",), "zh": ("黄色", "黃色"), "ja": ("黄色", "イエロー", "黄")},
    "green": {"en": ("green",), "zh": ("绿色", "綠色", "绿"), "ja": ("緑", "グリーン", "緑色")},
    "cyan": {"en": ("cyan", "aqua"), "zh": ("青色",), "ja": ("水色", "シアン")},
    "turquoise": {
        "en": ("turquoise",),
        "zh": ("青绿色", "青綠色", "蓝绿色", "藍綠色"),
        "ja": ("ターコイズ",),
    },
    "blue": {"en": ("blue",), "zh": ("蓝色", "藍色", "蓝"), "ja": ("青", "ブルー", "青色")},
    "purple": {"en": ("purple", "violet"), "zh": ("紫色", "紫"), "ja": ("紫", "パープル", "紫色")},
    "magenta": {
        "en": ("magenta", "fuchsia"),
        "zh": ("品红色", "洋红色", "品紅色", "洋紅色"),
        "ja": ("マゼンタ",),
    },
    "pink": {"en": ("pink",), "zh": ("粉色", "粉红色", "粉紅色", "粉红"), "ja": ("ピンク",)},
    "brown": {"en": ("brown",), "zh": ("棕色", "咖啡色"), "ja": ("茶色", "ブラウン")},
}

#: colour words that name no light colour
NOT_LIGHT_COLORS: Final = frozenset({"black", "黑色", "黒", "黑", "ブラック"})

_LANGUAGES: Final[tuple[Language, ...]] = ("en", "zh", "ja")

#: per language, every word → the colour's name ("青色" is cyan in Chinese, blue in Japanese)
_BY_WORD: Final[Mapping[Language, Mapping[str, str]]] = {
    lang: {word.casefold(): name for name, langs in _WORDS.items() for word in langs[lang]}
    | {name: name for name in COLORS}
    for lang in _LANGUAGES
}

_HEX: Final = re.compile(r"#?([0-9a-fA-F]{6})")


def color_name(word: str, language: Language | None = None) -> str | None:
    """The canonical name of a colour word (``None``: not a colour).

    The word is looked up in ``language`` first, then in the others (English first).
    """
    folded = " ".join(word.casefold().split())
    order = (language, *(lg for lg in _LANGUAGES if lg != language)) if language else _LANGUAGES
    return next((_BY_WORD[lg][folded] for lg in order if folded in _BY_WORD[lg]), None)


def color_words(language: Language) -> dict[str, str]:
    """Every colour word of ``language`` → the colour's canonical name."""
    return {word: name for name, langs in _WORDS.items() for word in langs[language]}


def rgb_of(value: Any) -> int | None:
    """The RGB integer of a colour: a name or word, ``#rrggbb``, or an integer 0–16777215.

    ``None`` for anything else (an unknown word, black, a number out of range, a bool).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 0xFFFFFF else None
    if not isinstance(value, str):
        return None
    name = color_name(value)
    if name is not None:
        return COLORS[name]
    m = _HEX.fullmatch(value.strip())
    return int(m.group(1), 16) if m else None


def color_label(value: Any, language: Language) -> str:
    """A colour as said back: its name in ``language`` if it has one, else ``#RRGGBB``."""
    name = color_name(value) if isinstance(value, str) else None
    if name is None:
        rgb = rgb_of(value)
        if rgb is None:
            return str(value)
        name = next((n for n, v in COLORS.items() if v == rgb), None)
        if name is None:
            return f"#{rgb:06X}"
    return _WORDS[name][language][0]
