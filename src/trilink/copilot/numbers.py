"""Numbers and units in requests, in Chinese, English and Japanese.

:func:`find_numbers` finds every quantity in a text, with its unit and where it is:

* Arabic digits, with decimals and a sign: ``24``, ``24.5``, ``-5``; full-width digits
  (``２４``, ``５０％``) read like half-width ones;
* Chinese and Japanese numerals: ``二十四``, ``二十四点五``, ``两``, ``一百零五``, ``二四``;
  ``百分之三十`` (30 %), ``三成`` (30 %), ``零下五度`` (−5 °C), ``二十四度半`` (24.5 °C);
* English words: ``twenty-four``, ``twenty four point five``, ``a hundred``,
  ``one and a half``, ``a couple``;
* halves: ``一半``, ``半分``, ``half`` are 50 % (as in "open it half way");
  ``半小时``, ``半時間``, ``half an hour`` are 0.5 h.

Units (:data:`Unit`): ``celsius`` (°C, ℃, 度, degrees), ``fahrenheit``, ``percent`` (%,
percent, パーセント, 百分之, 成), ``kelvin`` (K, kelvin), ``km`` (公里, キロ), ``minute``
(分钟, 分, minutes), ``hour`` (小时, 時間, hours) and ``level`` (档, 级, 段, "level 3").
A number without a unit has ``unit=None``.

A lone ``一`` counts only before a unit or a counter (``一度``, ``一档``, ``一个小时``),
so "亮一点" (a bit brighter) and "一下" (briefly) are not the number one.

Spans index the text as given: full-width forms are read in place, never expanded.
Nothing here raises on odd input; what is not a number is not returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Unit = Literal["celsius", "fahrenheit", "percent", "kelvin", "km", "minute", "hour", "level"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number found in a text: its value, unit (``None``: none said) and span."""

    value: float
    unit: Unit | None
    start: int
    end: int
    text: str


#: full-width ASCII (！ to ～) and the ideographic space, read as their ASCII forms (same length)
_WIDTH: Final = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "})

CJK_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_SMALL: Final = {"十": 10, "百": 100, "千": 1000}
_CJK_BIG: Final = {"万": 10_000, "萬": 10_000, "亿": 100_000_000}

EN_ONES: Final = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
EN_TENS: Final = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

#: unit words → unit, longest first when compiled
_UNIT_WORDS: Final[dict[str, Unit]] = {
    "°c": "celsius",
    "°": "celsius",
    "℃": "celsius",
    "度": "celsius",
    "摄氏度": "celsius",
    "攝氏度": "celsius",
    "degrees celsius": "celsius",
    "degree celsius": "celsius",
    "degrees c": "celsius",
    "degrees": "celsius",
    "degree": "celsius",
    "deg": "celsius",
    "celsius": "celsius",
    "c": "celsius",
    "°f": "fahrenheit",
    "℉": "fahrenheit",
    "fahrenheit": "fahrenheit",
    "degrees fahrenheit": "fahrenheit",
    "华氏度": "fahrenheit",
    "%": "percent",
    "percent": "percent",
    "per cent": "percent",
    "pct": "percent",
    "パーセント": "percent",
    "パー": "percent",
    "k": "kelvin",
    "kelvin": "kelvin",
    "ケルビン": "kelvin",
    "开尔文": "kelvin",
    "km": "km",
    "kms": "km",
    "kilometers": "km",
    "kilometres": "km",
    "kilometer": "km",
    "kilometre": "km",
    "公里": "km",
    "千米": "km",
    "キロメートル": "km",
    "キロ": "km",
    "minutes": "minute",
    "minute": "minute",
    "mins": "minute",
    "min": "minute",
    "分钟": "minute",
    "分鐘": "minute",
    "分間": "minute",
    "分": "minute",
    "hours": "hour",
    "hour": "hour",
    "hrs": "hour",
    "hr": "hour",
    "h": "hour",
    "小时": "hour",
    "小時": "hour",
    "个小时": "hour",
    "個小時": "hour",
    "時間": "hour",
    "档": "level",
    "檔": "level",
    "级": "level",
    "級": "level",
    "段階": "level",
    "段": "level",
}


def _alternation(words: Iterable[str]) -> str:
    items = sorted(words, key=lambda w: (-len(w), w))
    parts = []
    for w in items:
        esc = re.escape(w)
        # a Latin unit must end at a word boundary: "24 c" but not "24 cars"
        parts.append(esc + r"(?![a-z])" if w[-1].isascii() and w[-1].isalpha() else esc)
    return "|".join(parts)


_ONES_RE = "|".join(sorted(EN_ONES, key=len, reverse=True))
_TENS_RE = "|".join(sorted(EN_TENS, key=len, reverse=True))
_DIGIT_WORD = "zero|one|two|three|four|five|six|seven|eight|nine"
_EN_BELOW_100 = rf"(?:(?:{_TENS_RE})(?:[-\s]+(?:{_DIGIT_WORD}))?|{_ONES_RE})"
_EN_NUMBER = (
    rf"(?:(?:(?:a|{_DIGIT_WORD})\s+hundred(?:\s+(?:and\s+)?{_EN_BELOW_100})?|{_EN_BELOW_100})"
    rf"(?:\s+point(?:\s+(?:{_DIGIT_WORD}))+)?(?:\s+and\s+a\s+half)?|a\s+couple(?:\s+of)?)"
)
_CJK_CHARS = "零〇一二两兩俩三四五六七八九十百千万萬亿"
_CJK_NUMBER = (
    rf"(?:[零〇一二两兩俩三四五六七八九十][{_CJK_CHARS}]*"
    r"(?:[点點][零〇一二三四五六七八九]+(?![零〇一二三四五六七八九]*分))?)"
)
_ARABIC = r"(?:(?<![A-Za-z0-9_.])[-−])?(?<![A-Za-z_.])\d+(?:\.\d+)?(?!\d)"

_NUMBER_RE: Final = re.compile(
    r"(?P<halfhour>half\s+an?\s+hour|半个?小[时時]|半個小時|半時間)"
    r"|(?P<full>百分之百|百パーセント)"
    r"|(?P<half>一半|半分|(?<![a-z])(?:a\s+)?half(?:[- ]?way)?(?![a-z]))"
    r"|(?P<pre>百分之|百分の|摄氏|攝氏|摂氏|零下|マイナス|minus\s+|negative\s+|level\s+|lvl\s*)?"
    rf"(?P<num>{_ARABIC}|{_CJK_NUMBER}|(?<![a-z]){_EN_NUMBER}(?![a-z]))"
    r"(?P<counter>个|個)?(?P<half1>半)?"
    rf"(?:\s*(?P<unit>{_alternation(_UNIT_WORDS)}|(?P<tenth>成)(?![为為功]))(?P<half2>半)?)?",
    re.IGNORECASE,
)


def cjk_number(text: str) -> float | None:
    """The value of a Chinese/Japanese numeral: ``二十四`` 24, ``二十四点五`` 24.5, ``二四`` 24.

    ``None`` when ``text`` is not one numeral.
    """
    if not text:
        return None
    whole, _, frac = text.replace("點", "点").partition("点")
    if _ and (not frac or any(ch not in CJK_DIGITS for ch in frac)):
        return None
    value = _cjk_whole(whole)
    if value is None:
        return None
    if frac:
        return float(f"{int(value)}.{''.join(str(CJK_DIGITS[ch]) for ch in frac)}")
    return float(value)


def _cjk_whole(text: str) -> int | None:
    if not text or any(ch not in CJK_DIGITS and ch not in _CJK_SMALL and ch not in _CJK_BIG for ch in text):
        return None
    if len(text) > 1 and all(ch in CJK_DIGITS for ch in text):
        # a digit string: 二四 24, 二〇二七 2027
        return int("".join(str(CJK_DIGITS[ch]) for ch in text))
    total = section = digit = 0
    seen_digit = False
    for ch in text:
        if ch in CJK_DIGITS:
            digit = CJK_DIGITS[ch]
            seen_digit = True
        elif ch in _CJK_SMALL:
            section += (digit if seen_digit else 1) * _CJK_SMALL[ch]
            digit, seen_digit = 0, False
        else:
            section += digit
            total += (section or 1) * _CJK_BIG[ch]
            section = digit = 0
            seen_digit = False
    return total + section + digit


def english_number(text: str) -> float | None:
    """The value of an English number in words: ``twenty-four`` 24, ``one and a half`` 1.5."""
    words = re.sub(r"[-\s]+", " ", text.strip().lower()).split(" ")
    if not words or words == [""]:
        return None
    if words[:2] == ["a", "couple"]:
        return 2.0 if len(words) <= 3 else None
    half = False
    if words[-3:] == ["and", "a", "half"]:
        half, words = True, words[:-3]
    decimals = ""
    if "point" in words:
        i = words.index("point")
        tail = words[i + 1 :]
        if not tail or any(w not in EN_ONES or EN_ONES[w] > 9 for w in tail):
            return None
        decimals = "".join(str(EN_ONES[w]) for w in tail)
        words = words[:i]
    total = 0
    current = 0
    for w in words:
        if w in ("and",):
            continue
        if w == "a":
            current = 1
        elif w in EN_ONES:
            current += EN_ONES[w]
        elif w in EN_TENS:
            current += EN_TENS[w]
        elif w == "hundred":
            current = (current or 1) * 100
        elif w == "thousand":
            total += (current or 1) * 1000
            current = 0
        else:
            return None
    value = float(f"{total + current}.{decimals}") if decimals else float(total + current)
    return value + 0.5 if half else value


def parse_number(text: str) -> float | None:
    """The value of ``text`` if it is exactly one number (any script, no unit), else ``None``."""
    t = text.translate(_WIDTH).strip()
    m = _NUMBER_RE.fullmatch(t) if t else None
    if m is None or m.group("unit") or m.group("pre") or m.group("num") is None:
        return None
    return _value_of(m.group("num"))


def _value_of(num: str) -> float | None:
    t = num.replace("−", "-")
    if t[:1].isdigit() or t[:1] == "-":
        try:
            return float(t)
        except ValueError:
            return None
    if t[:1].isascii():
        return english_number(t)
    return cjk_number(t)


def find_numbers(text: str) -> list[Quantity]:
    """Every quantity in ``text``, left to right (see the module docs for what is read)."""
    if not text:
        return []
    norm = text.translate(_WIDTH)
    out: list[Quantity] = []
    for m in _NUMBER_RE.finditer(norm):
        q = _quantity(m, text)
        if q is not None:
            out.append(q)
    return out


def _quantity(m: re.Match[str], original: str) -> Quantity | None:
    start, end = m.span()
    if m.group("halfhour"):
        return Quantity(0.5, "hour", start, end, original[start:end])
    if m.group("full"):
        return Quantity(100.0, "percent", start, end, original[start:end])
    if m.group("half"):
        return Quantity(50.0, "percent", start, end, original[start:end])
    num = m.group("num")
    value = _value_of(num)
    if value is None:
        return None
    pre = (m.group("pre") or "").strip().lower()
    unit_word = (m.group("unit") or "").lower()
    unit: Unit | None = _UNIT_WORDS.get(unit_word) if unit_word else None
    counter = m.group("counter")
    if num == "一" and not (unit_word or counter or m.group("half1")):
        return None  # 一点 / 一下: "a bit", not one
    if counter and unit_word not in ("小时", "小時") and not m.group("half1"):
        # "两个" is two things; keep the number, drop the counter from the span
        end = m.start("counter")
    if m.group("half1") or m.group("half2"):
        value += 0.5
    if m.group("tenth"):
        value, unit = value * 10, "percent"
    if pre in ("百分之", "百分の"):
        unit = "percent"
    elif pre in ("摄氏", "攝氏", "摂氏"):
        unit = "celsius"
    elif pre in ("零下", "マイナス", "minus", "negative"):
        value = -abs(value)
        unit = unit or ("celsius" if pre == "零下" else None)
    elif pre.startswith(("level", "lvl")):
        unit = "level"
    return Quantity(value, unit, start, end, original[start:end])
