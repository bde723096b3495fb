"""Numbers and units in Chinese, English and Japanese requests (trilink.copilot.numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trilink.copilot.numbers import Quantity, cjk_number, english_number, find_numbers, parse_number


def one(text: str) -> tuple[float, str | None]:
    found = find_numbers(text)
    assert len(found) == 1, found
    return found[0].value, found[0].unit


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        # Arabic digits, decimals, full width
        ("调到24度", 24, "celsius"),
        ("set it to 24.5°C", 24.5, "celsius"),
        ("24℃", 24, "celsius"),
        ("エアコンを２６度にして", 26, "celsius"),
        ("５０％", 50, "percent"),
        ("30パーセント", 30, "percent"),
        ("-5°C", -5, "celsius"),
        ("72 degrees fahrenheit", 72, "fahrenheit"),
        ("4000K", 4000, "kelvin"),
        ("2700 kelvin", 2700, "kelvin"),
        ("3 km", 3, "km"),
        ("3公里", 3, "km"),
        ("5キロ", 5, "km"),
        ("10 minutes", 10, "minute"),
        ("10分钟", 10, "minute"),
        ("15分", 15, "minute"),
        ("2 hours", 2, "hour"),
        ("3档", 3, "level"),
        ("level 2", 2, "level"),
        ("80%", 80, "percent"),
        # Chinese numerals
        ("二十四度", 24, "celsius"),
        ("二十四点五度", 24.5, "celsius"),
        ("二十四度半", 24.5, "celsius"),
        ("两度", 2, "celsius"),
        ("十五", 15, None),
        ("一百零五", 105, None),
        ("两千", 2000, None),
        ("三万", 30000, None),
        ("二〇二七", 2027, None),
        ("百分之三十", 30, "percent"),
        ("百分之三十五点五", 35.5, "percent"),
        ("百分之百", 100, "percent"),
        ("三成", 30, "percent"),
        ("开一半", 50, "percent"),
        ("零下五度", -5, "celsius"),
        ("摄氏二十度", 20, "celsius"),
        ("两个半小时", 2.5, "hour"),
        ("半小时", 0.5, "hour"),
        ("一个小时", 1, "hour"),
        # Japanese
        ("二十四度にして", 24, "celsius"),
        ("半分開けて", 50, "percent"),
        ("半時間", 0.5, "hour"),
        # English words
        ("twenty-four degrees", 24, "celsius"),
        ("twenty four point five degrees", 24.5, "celsius"),
        ("thirty percent", 30, "percent"),
        ("a hundred percent", 100, "percent"),
        ("one hundred and five", 105, None),
        ("a half", 50, "percent"),
        ("open it halfway", 50, "percent"),
        ("one and a half hours", 1.5, "hour"),
        ("half an hour", 0.5, "hour"),
        ("a couple of degrees", 2, "celsius"),
        ("Seventy Five Percent", 75, "percent"),
    ],
)
def test_quantities(text: str, value: float, unit: str | None) -> None:
    assert one(text) == (pytest.approx(value), unit)


def test_spans_index_the_text_as_given() -> None:
    text = "把客厅空调调到２４度"
    (q,) = find_numbers(text)
    assert text[q.start : q.end] == "２４度" == q.text
    text = "set the bedroom light to thirty percent please"
    (q,) = find_numbers(text)
    assert text[q.start : q.end] == "thirty percent"


def test_several_numbers_in_order() -> None:
    found = find_numbers("客厅24度，卧室26度，湿度50%")
    assert [(q.value, q.unit) for q in found] == [(24, "celsius"), (26, "celsius"), (50, "percent")]


@pytest.mark.parametrize(
    "text",
    [
        "亮一点",  # a bit brighter, not one
        "等一下",
        "一些",
        "一起",
        "sim1",  # digits inside a word
        "light2",
        "someone often",  # English number words inside words
        "",
        "   ",
        "点",
        "百",
        "°C",
        "%%",
        "percent",
        "的的的",
    ],
)
def test_what_is_not_a_number(text: str) -> None:
    assert find_numbers(text) == []


def test_units_stop_at_word_boundaries() -> None:
    assert one("24 cars") == (24, None)
    assert one("2.6 kW") == (2.6, None)
    assert one("5 kids") == (5, None)


def test_chinese_and_english_numerals() -> None:
    assert cjk_number("二十四") == 24
    assert cjk_number("十") == 10
    assert cjk_number("二十四点五") == 24.5
    assert cjk_number("两") == 2
    assert cjk_number("一万零一") == 10001
    assert cjk_number("") is None
    assert cjk_number("二十点") is None
    assert cjk_number("abc") is None
    assert english_number("twenty-four") == 24
    assert english_number("ninety nine point nine") == pytest.approx(99.9)
    assert english_number("a couple") == 2
    assert english_number("banana") is None
    assert english_number("") is None
    assert english_number("twenty point") is None


def test_parse_number() -> None:
    assert parse_number("24") == 24
    assert parse_number(" ２４.５ ") == 24.5
    assert parse_number("二十四") == 24
    assert parse_number("twenty") == 20
    assert parse_number("24度") is None
    assert parse_number("") is None
    assert parse_number("hello") is None


# ------------------------------------------------------------------ properties
def _cjk(n: int) -> str:
    """``n`` (0 < n < 10 000) in Chinese numerals, as people write them."""
    digits = "零一二三四五六七八九"
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero and out:
                out += "零"
            out += ("" if (unit == "十" and d == 1 and not out) else digits[d]) + unit
            zero = False
        elif out:
            zero = True
    return out


_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _english(n: int) -> str:
    """``n`` (0 ≤ n < 1000) in English words."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    rest = n % 100
    return _ONES[n // 100] + " hundred" + (" and " + _english(rest) if rest else "")


@given(st.integers(min_value=1, max_value=9999))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert cjk_number(_cjk(n)) == n
    assert one(_cjk(n) + "度") == (n, "celsius")


@given(st.integers(min_value=0, max_value=999))
def test_english_numbers_round_trip(n: int) -> None:
    assert english_number(_english(n)) == n
    assert one(f"set it to {_english(n)} percent") == (n, "percent")


@given(st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False))
def test_arabic_decimals_round_trip(d: object) -> None:
    text = f"{d}"
    assert one(f"调到{text}度") == (pytest.approx(float(text)), "celsius")
    full = text.translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))
    assert one(f"{full}％") == (pytest.approx(float(text)), "percent")


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_never_raises_and_spans_are_sane(text: str) -> None:
    found = find_numbers(text)
    last = 0
    for q in found:
        assert isinstance(q, Quantity)
        assert 0 <= q.start < q.end <= len(text)
        assert q.start >= last
        last = q.end
        assert text[q.start : q.end] == q.text
        assert q.value == q.value  # not NaN
    parse_number(text)


@settings(max_examples=200)
@given(st.text(alphabet="零〇一二两三四五六七八九十百千万点半度成个小时分钟百分之", max_size=30))
def test_numeral_soup_never_raises(text: str) -> None:
    for q in find_numbers(text):
        assert text[q.start : q.end] == q.text
    cjk_number(text)
